package handlers_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/realtime"
)

// TestReadOutageDisconnectsAndCatchUp: while instance B's reads fail for
// longer than ReadFailFor (the contract's 30 s; a second here), bob's
// events there cannot be kept: the server disconnects his socket ("io
// server disconnect") instead of queueing without end, and once reads work
// a reconnected client's catch-up has every message exactly once.
func TestReadOutageDisconnectsAndCatchUp(t *testing.T) {
	t.Parallel()
	w, rd := worldWithFaultyReads(t, realtime.Options{ReadFailFor: time.Second})
	u := newUsers(t, w.a, 2)
	ana, bob := u[0], u[1]
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	rd.Fail()
	// A new chat needs a read before its events go out: nothing can.
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true})
	var sent []string
	for i := range 20 {
		sent = append(sent, w.a.mustSend(t, ana.Token, g.ID, fmt.Sprint("during the outage ", i)).ID)
	}
	bobB.WaitClosed(t)
	if r := bobB.Reason(); r != "server disconnect" {
		t.Fatalf("closed by %q, want the server's disconnect", r)
	}
	rd.Heal()
	// The client connects again and catches up from storage.
	again := chattest.MustDial(t, w.b.in.URL, bob.Token)
	p := w.b.page(t, bob.Token, g.ID, "limit=100")
	var got []string
	for _, m := range p.Messages {
		got = append(got, m.ID)
	}
	if !slices.Equal(got, sent) {
		t.Fatalf("catch-up has %d messages, want the %d sent once each in order", len(got), len(sent))
	}
	m := w.a.mustSend(t, ana.Token, g.ID, "after the outage")
	again.Wait(t, "newMessage", field("id", m.ID))
	if n := len(again.Events("newMessage")); n != 1 {
		t.Fatalf("%d newMessage on the new socket, want 1 (the one sent after)", n)
	}
}
