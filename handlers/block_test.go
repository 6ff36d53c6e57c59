package handlers_test

import (
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

func (a api) setBlock(t *testing.T, who chattest.User, uid string, on bool) chattest.Response {
	t.Helper()
	method := "DELETE"
	if on {
		method = "PUT"
	}
	return a.call(t, method, "/api/me/blocks/{uid}", "/api/me/blocks/"+uid, who.Token, nil)
}

// presenceOf returns uid's online and lastSeen as viewer reads them in a
// chat they share.
func (a api) presenceOf(t *testing.T, viewer chattest.User, chatID, uid string) (bool, *string) {
	t.Helper()
	_, r := a.getChat(t, viewer.Token, chatID)
	var c struct {
		Users []struct {
			UserID string   `json:"userId"`
			User   userBody `json:"user"`
		} `json:"users"`
	}
	r.JSON(t, &c)
	for _, u := range c.Users {
		if u.UserID == uid {
			return u.User.Online, u.User.LastSeen
		}
	}
	t.Fatalf("%s not in %s", uid, chatID)
	return false, nil
}

// found tells whether viewer finds uid by the prefix of its username.
func (a api) found(t *testing.T, viewer chattest.User, prefix, uid string) bool {
	t.Helper()
	r := a.call(t, "GET", "/api/users", "/api/users?q="+prefix, viewer.Token, nil)
	for _, u := range decode[struct {
		Users []userBody `json:"users"`
	}](t, r.Body).Users {
		if u.ID == uid {
			return true
		}
	}
	return false
}

// TestBlockMatrix holds the contract's "Blocking" both ways, then its end.
func TestBlockMatrix(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 4)
	ana, bob, cid, dan := u[0], u[1], u[2], u[3]
	d := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	g := w.a.mustChat(t, cid.Token, map[string]any{"userIds": []string{ana.UID, bob.UID}, "isGroup": true, "name": "g"})
	h := w.a.mustChat(t, dan.Token, map[string]any{"userIds": []string{ana.UID}, "isGroup": true, "name": "h"})
	byBob := w.a.mustSend(t, bob.Token, d.ID, "before")
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	cidB := chattest.MustDial(t, w.b.in.URL, cid.Token)
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	for _, s := range []*chattest.Socket{anaA, cidB} {
		s.MustEmit(t, "joinChat", g.ID)
	}
	anaA.WaitPresence(t, bob.UID, 1, chattest.WaitTimeout) // bob online, before the block
	expect(t, w.b.setBlock(t, ana, bob.UID, true), 204, "")
	expect(t, w.a.setBlock(t, ana, bob.UID, true), 204, "") // again
	// Each gets one presence of the other, hidden.
	for _, c := range []struct {
		s   *chattest.Socket
		uid string
		n   int
	}{{anaA, bob.UID, 2}, {bobB, ana.UID, 1}} { // ana was online before bob connected
		ev := c.s.WaitPresence(t, c.uid, c.n, chattest.WaitTimeout)
		if p := decode[userBody](t, ev.Data); p.Online || p.LastSeen != nil {
			t.Fatalf("presence after the block: %s", ev.Data)
		}
	}

	for _, c := range []struct {
		name       string
		who, other chattest.User
	}{{"Blocker", ana, bob}, {"Blocked", bob, ana}} {
		t.Run(c.name, func(t *testing.T) {
			expect(t, w.a.send(t, c.who.Token, d.ID, map[string]any{"content": "hi"}), 403, "forbidden")
			expect(t, w.a.call(t, "POST", "/api/chats", "/api/chats", c.who.Token, map[string]any{"userIds": []string{c.other.UID}}), 403, "forbidden")
			expect(t, w.a.call(t, "POST", "/api/chats", "/api/chats", c.who.Token,
				map[string]any{"userIds": []string{c.other.UID, cid.UID}, "isGroup": true, "name": "x"}), 403, "forbidden")
			if online, seen := w.b.presenceOf(t, c.who, g.ID, c.other.UID); online || seen != nil {
				t.Fatalf("presence of %s shown to %s: %v %v", c.other.UID, c.who.UID, online, seen)
			}
		})
	}
	expect(t, w.a.edit(t, bob.Token, d.ID, byBob.ID, map[string]any{"content": "edited"}), 403, "forbidden")
	expect(t, w.a.call(t, "PUT", "/api/chats/{id}/messages/{mid}/reactions/{emoji}", "/api/chats/"+d.ID+"/messages/"+byBob.ID+"/reactions/👍", ana.Token, nil), 403, "forbidden")
	expect(t, w.a.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+h.ID+"/members", ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}}), 403, "forbidden")
	if w.a.found(t, bob, usernameOf(t, w.a, ana), ana.UID) {
		t.Fatalf("bob finds ana, who blocks him")
	}
	if !w.a.found(t, ana, usernameOf(t, w.a, bob), bob.UID) {
		t.Fatalf("ana does not find bob")
	}
	r := w.a.call(t, "GET", "/api/me/blocks", "/api/me/blocks", ana.Token, nil)
	if bl := decode[struct {
		Users []userBody `json:"users"`
	}](t, r.Body).Users; len(bl) != 1 || bl[0].ID != bob.UID {
		t.Fatalf("blocks %s", r.Body)
	}
	// The shared group goes on; typing and receipts between the two stop.
	bobB.MustEmit(t, "joinChat", g.ID)
	gm := w.b.mustSend(t, bob.Token, g.ID, "in the group")
	anaA.Wait(t, "newMessage", field("id", gm.ID))
	bobB.MustEmit(t, "typing", g.ID)
	cidB.Wait(t, "typing", field("userId", bob.UID))
	anaA.MustEmit(t, "leaveChat", g.ID) // reads on joining again
	anaA.MustEmit(t, "joinChat", g.ID)
	cidB.Wait(t, "messagesRead", readBy(ana.UID, gm.ID))
	if got := w.b.markerOf(t, bob, g.ID, ana.UID); got.LastReadMessageID != "" {
		t.Fatalf("ana's marker shown to bob: %+v", got)
	}
	// The other way: bob reads and types, ana does not see it; ana types,
	// bob does not see it.
	cm := w.a.mustSend(t, cid.Token, g.ID, "from cid")
	bobB.MustEmit(t, "leaveChat", g.ID)
	bobB.MustEmit(t, "joinChat", g.ID)
	cidB.Wait(t, "messagesRead", readBy(bob.UID, cm.ID))
	anaA.MustEmit(t, "typing", g.ID)
	cidB.Wait(t, "typing", field("userId", ana.UID))
	marker(t, w.b, bobB, cid, bob)
	for _, ev := range bobB.Events("typing") {
		t.Fatalf("bob got typing %s", ev.Data)
	}
	bobB.Close() // bob goes offline: ana is not told
	marker(t, w.a, anaA, cid, ana)
	if n := len(anaA.Presence(bob.UID)); n != 2 {
		t.Fatalf("%d presence of bob after the block, want 2", n)
	}
	for _, ev := range anaA.Events("typing") {
		t.Fatalf("ana got typing %s", ev.Data)
	}
	for _, ev := range anaA.Events("messagesRead") {
		if decode[markBody](t, ev.Data).UserID == bob.UID {
			t.Fatalf("ana got bob's receipt %s", ev.Data)
		}
	}

	t.Run("Refused", func(t *testing.T) {
		expect(t, w.a.setBlock(t, ana, ana.UID, true), 400, "invalid_argument")
		expect(t, w.a.setBlock(t, ana, "nobody-"+bob.UID, true), 400, "invalid_argument")
		expect(t, w.a.setBlock(t, ana, "a/b", true), 400, "invalid_argument")
	})
	t.Run("FirstCallIsABlock", func(t *testing.T) {
		fresh := chattest.NewUser(t, unique("u")) // no profile yet: the block makes it
		expect(t, w.a.setBlock(t, fresh, cid.UID, true), 204, "")
		expect(t, w.a.setBlock(t, fresh, cid.UID, false), 204, "")
	})

	t.Run("Unblock", func(t *testing.T) {
		bobB2 := chattest.MustDial(t, w.a.in.URL, bob.Token)
		expect(t, w.b.setBlock(t, ana, bob.UID, false), 204, "")
		expect(t, w.b.setBlock(t, ana, bob.UID, false), 204, "")
		ev := anaA.WaitPresence(t, bob.UID, 3, 5*time.Second)
		if p := decode[userBody](t, ev.Data); !p.Online {
			t.Fatalf("bob's presence on unblock: %s", ev.Data)
		}
		bobB2.WaitPresence(t, ana.UID, 1, 5*time.Second)
		w.a.mustSend(t, bob.Token, d.ID, "after")
		expect(t, w.a.edit(t, bob.Token, d.ID, byBob.ID, map[string]any{"content": "edited"}), 200, "")
		if !w.a.found(t, bob, usernameOf(t, w.a, ana), ana.UID) {
			t.Fatalf("bob does not find ana after the unblock")
		}
		if online, _ := w.a.presenceOf(t, ana, g.ID, bob.UID); !online {
			t.Fatalf("bob's presence hidden after the unblock")
		}
		bobB2.MustEmit(t, "joinChat", g.ID)
		bobB2.MustEmit(t, "typing", g.ID)
		anaA.Wait(t, "typing", field("userId", bob.UID))
	})
}

// usernameOf is uid's username as they read it.
func usernameOf(t *testing.T, a api, who chattest.User) string {
	t.Helper()
	return me(t, a.in, who.Token).Username
}

// TestSendRacingBlock: direct-chat sends racing a block are each either
// committed before it (answered 201 and listed) or refused 403, and
// nothing is stored after its 204.
func TestSendRacingBlock(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 2)
	ana, bob := u[0], u[1]
	d := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	r := raceSends(t, w, bob, d.ID, func(r chattest.Response) bool { return r.Status == 403 && r.ErrorCode() == "forbidden" })
	expect(t, w.a.setBlock(t, ana, bob.UID, true), 204, "")
	after := w.a.revPage(t, ana.Token, d.ID, "limit=100")
	close(r.stop)
	r.wg.Wait()
	expect(t, w.b.send(t, bob.Token, d.ID, map[string]any{"content": "late"}), 403, "forbidden")
	n := r.holdStored(t, w.a, ana, d.ID, after)
	t.Logf("%d sends committed before the block, the rest refused", n)
}

// racer is bob sending in a chat on two instances until refused (or
// stopped), recording every send answered 201.
type racer struct {
	mu   sync.Mutex // guards sent
	sent []string
	stop chan struct{}
	wg   sync.WaitGroup
}

// raceSends starts who sending in chatID on both of w's instances, each
// until refused says an answer is the refusal awaited, and returns once
// two sends are in: what the test does next races them.
func raceSends(t *testing.T, w world, who chattest.User, chatID string, refused func(chattest.Response) bool) *racer {
	r := &racer{stop: make(chan struct{})}
	for i, in := range []api{w.a, w.b} {
		r.wg.Go(func() {
			for n := 0; ; n++ {
				select {
				case <-r.stop:
					return
				default:
				}
				res := in.send(t, who.Token, chatID, map[string]any{"content": "race"})
				switch {
				case res.Status == 201:
					r.mu.Lock()
					r.sent = append(r.sent, decode[msgBody](t, res.Body).ID)
					r.mu.Unlock()
				case refused(res):
					return
				case res.Status == 429: // the sender's own rate: try again
				default:
					t.Errorf("instance %d send %d: %d %s", i, n, res.Status, res.Body)
					return
				}
			}
		})
	}
	waitFor(t, "the senders under way", func() bool { return len(r.sentSoFar()) >= 2 })
	return r
}

func (r *racer) sentSoFar() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

// holdStored holds that nothing was stored after the page after (read at
// the refusing change's answer) and that every send answered 201 is
// stored; it returns how many are.
func (r *racer) holdStored(t *testing.T, a api, viewer chattest.User, chatID string, after revPageBody) int {
	t.Helper()
	final := a.revPage(t, viewer.Token, chatID, "limit=100")
	if len(final.Messages) != len(after.Messages) {
		t.Fatalf("%d messages stored after the 204 (%d at it)", len(final.Messages)-len(after.Messages), len(after.Messages))
	}
	listed := map[string]bool{}
	for _, m := range final.Messages {
		listed[m.ID] = true
	}
	for _, id := range r.sentSoFar() {
		if !listed[id] {
			t.Fatalf("send answered 201 (%s) but not stored", id)
		}
	}
	return len(final.Messages)
}
