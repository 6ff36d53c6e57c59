package realtime_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/realtime"
)

// TestResyncWhenEventsCannotBeKept: a user whose queue passes its cap, or
// whose reads keep failing past ReadFailFor, is resynced (the sink is told
// to disconnect their sockets) instead of holding ever more memory, and is
// served again from a fresh baseline.
func TestResyncWhenEventsCannotBeKept(t *testing.T) {
	for name, tune := range map[string]func(o *realtime.Options){
		"QueueFull":    func(o *realtime.Options) { o.MaxPendingEvents, o.ReadFailFor = 5, time.Hour },
		"ReadsFailing": func(o *realtime.Options) { o.MaxPendingEvents, o.ReadFailFor = 1000, 300*time.Millisecond },
	} {
		t.Run(name, func(t *testing.T) {
			st, k := newStore(), newSink()
			o := fast()
			tune(&o)
			n := MustNode(t, st, k, o)
			mustTrack(t, n, "ana")
			st.set(func(s *store) { s.failLoads = 1 << 30 })
			// Each new chat needs a read of the chat: none succeeds.
			for i := range 10 {
				st.join(fmt.Sprint("g", i), "bob")
				st.join(fmt.Sprint("g", i), "ana")
			}
			k.waitFor(t, "ana", "resync:")
			if n.Resyncs() == 0 {
				t.Fatal("no resync counted")
			}
			st.set(func(s *store) { s.failLoads = 0 })
			waitUntil(t, "ana served again from a new baseline", func() bool {
				st.send("g9", "bob")
				return slices.ContainsFunc(k.of("ana"), func(e string) bool { return strings.HasPrefix(e, "newMessage:g9:") })
			})
		})
	}
}

// TestTrackAfterResyncWaitsForBaseline: a user resynced is covered again
// only by a new generation; a socket that reconnects meanwhile (Track)
// waits for it instead of missing what is committed before it.
func TestTrackAfterResyncWaitsForBaseline(t *testing.T) {
	st, k := newStore(), newSink()
	o := fast()
	o.MaxPendingEvents = 5
	n := MustNode(t, st, k, o)
	mustTrack(t, n, "ana")
	st.set(func(s *store) { s.failLoads = 1 << 30; s.holdFirst = true })
	for i := range 10 {
		st.join(fmt.Sprint("g", i), "ana")
	}
	k.waitFor(t, "ana", "resync:")
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if release, err := n.Track(ctx, "ana"); err == nil {
		release()
		t.Fatal("Track returned before a new generation covered the resynced user")
	}
	st.set(func(s *store) { s.failLoads = 0; s.holdFirst = false })
	mustTrack(t, n, "ana")
}
