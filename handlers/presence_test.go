package handlers_test

import (
	"encoding/json"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/presence"
)

type presenceBody struct {
	UserID   string  `json:"userId"`
	Online   bool    `json:"online"`
	LastSeen *string `json:"lastSeen"`
}

// fastPresence shortens presence's periods so most tests run in seconds;
// TestPresenceContractTimes runs the production values.
func fastPresence() presence.Options {
	return presence.Options{Grace: 1500 * time.Millisecond, LeaseTTL: 3 * time.Second, RenewEvery: 500 * time.Millisecond,
		SweepEvery: 300 * time.Millisecond, MinWriteGap: 100 * time.Millisecond}
}

// flips returns the presence events s got about uid, each checked
// against the contract.
func flips(t *testing.T, s *chattest.Socket, uid string) []presenceBody {
	t.Helper()
	var out []presenceBody
	for _, e := range s.Presence(uid) {
		if err := chattest.MustContract(t).ValidateEvent("presence", e.Data); err != nil {
			t.Fatalf("presence payload: %v", err)
		}
		out = append(out, decode[presenceBody](t, e.Data))
	}
	return out
}

// waitFlip waits until s has its n-th presence event about uid, which
// must say online (or not) with a lastSeen; it returns it and when it came.
func waitFlip(t *testing.T, s *chattest.Socket, uid string, n int, online bool, within time.Duration) (presenceBody, time.Time) {
	t.Helper()
	ev := s.WaitPresence(t, uid, n, within)
	p := flips(t, s, uid)[n-1]
	if p.Online != online || p.LastSeen == nil {
		t.Fatalf("presence %+v, want online=%v with lastSeen", p, online)
	}
	return p, ev.At
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
	t.Parallel()
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
	// status is a UserPublic's presence.
	type status struct {
		ID       string  `json:"id"`
		Online   bool    `json:"online"`
		LastSeen *string `json:"lastSeen"`
	}
	t.Run("RESTAgrees", func(t *testing.T) {
		var me status
		a2.call(t, "GET", "/api/me", "/api/me", bob.Token, nil).JSON(t, &me)
		var c struct {
			Users []struct {
				UserID string `json:"userId"`
				User   status `json:"user"`
			} `json:"users"`
		}
		a1.call(t, "GET", "/api/chats/{id}", "/api/chats/"+ch.ID, ana.Token, nil).JSON(t, &c)
		seen := map[string]status{"/api/me": me}
		for _, m := range c.Users {
			if m.UserID == bob.UID {
				seen["chat member"] = m.User
			}
		}
		for _, where := range []string{"/api/me", "chat member"} {
			if got, ok := seen[where]; !ok || !got.Online || got.LastSeen == nil || *got.LastSeen != *p.LastSeen {
				t.Fatalf("%s shows bob %+v (found %v), want online since %s", where, got, ok, *p.LastSeen)
			}
		}
	})
	t.Run("StrangerReadsNothing", func(t *testing.T) {
		var profile struct {
			Username string `json:"username"`
		}
		a1.call(t, "GET", "/api/me", "/api/me", bob.Token, nil).JSON(t, &profile)
		for _, tc := range []struct {
			token string
			real  bool
		}{{carol.Token, false}, {ana.Token, true}} {
			var res struct {
				Users []status `json:"users"`
			}
			a1.call(t, "GET", "/api/users", "/api/users?limit=50&q="+url.QueryEscape(profile.Username), tc.token, nil).JSON(t, &res)
			i := slices.IndexFunc(res.Users, func(u status) bool { return u.ID == bob.UID })
			if i < 0 {
				t.Fatalf("searching %q did not find bob", profile.Username)
			}
			if got := res.Users[i]; (got.Online && got.LastSeen != nil) != tc.real {
				t.Fatalf("bob as seen by a co-member=%v: %+v", tc.real, got)
			}
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
	t.Parallel()
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
	// The session on a2 is recorded, then a1's ends after its grace: a
	// flap would be committed by then.
	sessions := func() int {
		return len(chattest.Query(t, "", "sessions", false, chattest.Filter{Field: "userId", Op: "EQUAL", Value: bob.UID}))
	}
	waitFor(t, "bob's session on the second instance", func() bool { return sessions() == 2 })
	waitFor(t, "bob's session on the first instance to end", func() bool { return sessions() == 1 })
	// The marker is the next flip: flips come in commit order on one
	// listener, and waitFlip fails if any other came before it.
	s.Close()
	waitFlip(t, anaSock, bob.UID, 2, false, chattest.WaitTimeout)
}

// TestPresenceMembership: a user added to a chat sees the others' real
// presence in newChat and their later flips; a removed user stops.
func TestPresenceMembership(t *testing.T) {
	t.Parallel()
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
