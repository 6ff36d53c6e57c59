package handlers_test

import (
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/realtime"
)

func TestTargetedFanOut(t *testing.T) {
	t.Parallel()
	var counter *chattest.FaultySource
	w := world{
		newAPI(t, chattest.NewInstance(t, chattest.Options{})),
		newAPI(t, chattest.NewInstance(t, chattest.Options{WrapSource: func(s realtime.Source) realtime.Source {
			counter = chattest.NewFaultySource(s)
			return counter
		}})),
	}
	u := newUsers(t, w.a, 4)
	ana, bob, cid, dan := u[0], u[1], u[2], u[3]
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	bobA := chattest.MustDial(t, w.a.in.URL, bob.Token)
	cidB := chattest.MustDial(t, w.b.in.URL, cid.Token) // B serves only cid
	g := w.b.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true})
	anaA.MustEmit(t, "joinChat", g.ID)
	bobA.MustEmit(t, "joinChat", g.ID)
	for i := 0; i < 5; i++ {
		w.b.mustSend(t, ana.Token, g.ID, "x") // written through B, read only by A
	}
	bobA.MustEmit(t, "typing", g.ID)
	w.b.call(t, "PATCH", "/api/chats/{id}", "/api/chats/"+g.ID, ana.Token, map[string]any{"name": "n"})
	anaA.Wait(t, "chatUpdated", field("name", "n"))
	// Marker through B's listeners: cid's own chat, after all of the above.
	marker(t, w.a, cidB, dan, cid)
	if n := counter.Changes(g.ID); n != 0 {
		t.Fatalf("instance B received %d changes of a chat none of its users is in", n)
	}
}

func TestStalledListenerRestarts(t *testing.T) {
	t.Parallel()
	opts := realtime.Options{HeartbeatInterval: 200 * time.Millisecond, StallTimeout: 1500 * time.Millisecond}
	var src *chattest.FaultySource
	w := world{
		newAPI(t, chattest.NewInstance(t, chattest.Options{})),
		newAPI(t, chattest.NewInstance(t, chattest.Options{Realtime: opts, WrapSource: func(s realtime.Source) realtime.Source {
			src = chattest.NewFaultySource(s)
			return src
		}})),
	}
	u := newUsers(t, w.a, 2)
	ana, bob := u[0], u[1]
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	ch := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	bobB.Wait(t, "newChat", field("id", ch.ID))
	first := w.a.mustSend(t, ana.Token, ch.ID, "before")
	bobB.Wait(t, "newMessage", field("id", first.ID))

	old := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "old"})
	bobB.Wait(t, "newChat", field("id", old.ID))

	restarts := w.b.in.Node.Restarts()
	src.Freeze() // B's listeners now drop everything, silently
	var sent []string
	for i := 0; i < 3; i++ {
		sent = append(sent, w.a.mustSend(t, ana.Token, ch.ID, "during").ID)
	}
	// Membership changes during the stall are reconciled after it.
	gained := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "new"})
	if r := w.a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+old.ID+"/members/"+bob.UID, ana.Token, nil); r.Status != 204 {
		t.Fatalf("remove %d", r.Status)
	}
	// Detected by the missing heartbeat, restarted, and caught up: each
	// message exactly once, in order.
	bobB.Wait(t, "newMessage", field("id", sent[2]))
	bobB.Wait(t, "newChat", field("id", gained.ID))
	bobB.Wait(t, "chatDeleted", isString(old.ID))
	if w.b.in.Node.Restarts() == restarts {
		t.Fatal("no restart recorded")
	}
	after := w.a.mustSend(t, ana.Token, ch.ID, "after")
	bobB.Wait(t, "newMessage", field("id", after.ID))
	var got []string
	for _, ev := range bobB.Events("newMessage") {
		got = append(got, decode[msgBody](t, ev.Data).ID)
	}
	want := append(append([]string{first.ID}, sent...), after.ID)
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

// TestShardedListeners connects many users to one instance: listeners grow
// by one trio (memberships, messages, presence) per 29 users (Firestore's 30-value filters, one slot for the
// heartbeat), and every user is served.
func TestShardedListeners(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	const n = 100
	users := newUsers(t, a, n)
	// The users connect ten at a time: keys that arrive while a shard's
	// listeners start join the same start.
	sockets := make([]*chattest.Socket, n)
	var wg sync.WaitGroup
	slots := make(chan struct{}, 10)
	for i, u := range users {
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			s, err := chattest.Dial(t, a.in.URL, u.Token)
			if err != nil {
				t.Errorf("dial %d: %v", i, err)
			}
			sockets[i] = s
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if got, want := a.in.Node.Listeners(), 3*((n+28)/29); got != want {
		t.Fatalf("%d listeners for %d users, want %d", got, n, want)
	}
	// A message to a group of the first and last users reaches both.
	g := a.mustChat(t, users[0].Token, map[string]any{"userIds": []string{users[n-1].UID, users[n/2].UID}, "isGroup": true})
	m := a.mustSend(t, users[0].Token, g.ID, "all shards")
	for _, i := range []int{0, n / 2, n - 1} {
		sockets[i].Wait(t, "newMessage", field("id", m.ID))
	}
}

// worldWithFaultyReads is two instances, the second (b) with engine
// options o and its reads behind a FaultyReader.
func worldWithFaultyReads(t *testing.T, o realtime.Options) (world, *chattest.FaultyReader) {
	t.Helper()
	var rd *chattest.FaultyReader
	w := world{
		newAPI(t, chattest.NewInstance(t, chattest.Options{})),
		newAPI(t, chattest.NewInstance(t, chattest.Options{Realtime: o, WrapReader: func(r realtime.Reader) realtime.Reader {
			rd = chattest.NewFaultyReader(r)
			return rd
		}})),
	}
	return w, rd
}

// TestReadFailuresRetried: while instance B's reads fail, a new chat and a
// message in it wait; once reads work, bob on B gets newChat, then the
// message, each once.
func TestReadFailuresRetried(t *testing.T) {
	t.Parallel()
	w, rd := worldWithFaultyReads(t, realtime.Options{})
	u := newUsers(t, w.a, 2)
	ana, bob := u[0], u[1]
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	rd.Fail()
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true})
	m := w.a.mustSend(t, ana.Token, g.ID, "waits behind its chat")
	waitFor(t, "reads to fail", func() bool { return rd.Failed() >= 2 })
	if n := len(bobB.Events("newChat")) + len(bobB.Events("newMessage")); n != 0 {
		t.Fatalf("%d events went out while their chat could not be read", n)
	}
	rd.Heal()
	bobB.Wait(t, "newMessage", field("id", m.ID))
	chats, msgs := bobB.Events("newChat"), bobB.Events("newMessage")
	if len(chats) != 1 || len(msgs) != 1 || !chats[0].At.Before(msgs[0].At) && !chats[0].At.Equal(msgs[0].At) {
		t.Fatalf("want one newChat then one newMessage; got %d newChat, %d newMessage", len(chats), len(msgs))
	}
}
