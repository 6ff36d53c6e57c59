package realtime_test

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestListenerReplacedPastRetainedBound: a messages listener that has
// received more documents than its bound is replaced make-before-break
// (the engine's fake store keeps each listener's set as Firestore's client
// does), and the user gets every message exactly once, in order.
func TestListenerReplacedPastRetainedBound(t *testing.T) {
	st, k := newStore(), newSink()
	opts := fast()
	opts.Margin = 20 * time.Millisecond
	opts.MaxRetainedDocs = 50
	n := MustNode(t, st, k, opts)
	mustTrack(t, n, "ana")
	st.join("g", "bob")
	st.join("g", "ana")
	k.waitFor(t, "ana", "newChat:g:unread=0")
	before := n.Restarts()
	const total = 300
	for i := 1; i <= total; i++ {
		st.send("g", "bob")
		if i%30 == 0 {
			k.waitFor(t, "ana", fmt.Sprintf("newMessage:g:%d", i))
		}
	}
	waitUntil(t, "a restart past the retained bound", func() bool { return n.Restarts() > before })
	st.send("g", "bob") // the marker: delivered after everything before it
	got := k.waitFor(t, "ana", fmt.Sprintf("newMessage:g:%d", total+1))
	next := 1
	for _, e := range got {
		if !strings.HasPrefix(e, "newMessage:g:") {
			continue
		}
		if want := fmt.Sprintf("newMessage:g:%d", next); e != want {
			t.Fatalf("got %s, want %s (every message once, in order)", e, want)
		}
		next++
	}
	if next != total+2 {
		t.Fatalf("%d messages delivered, want %d", next-1, total+1)
	}
}
