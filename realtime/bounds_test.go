package realtime_test

import (
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
