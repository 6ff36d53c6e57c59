package firestore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/firestore"
)

// heldQueue is a send queue whose first batch is held in its commit until
// release is called, so that what queues behind it is known exactly.
type heldQueue struct {
	*firestore.SendQueue
	batches chan []string
	release func()
}

func mustHeldQueue(t *testing.T) heldQueue {
	t.Helper()
	gate := make(chan struct{})
	first := true
	h := heldQueue{batches: make(chan []string, 1000)}
	h.SendQueue = firestore.NewSendQueue(func(_ string, labels []string) {
		h.batches <- labels
		if first { // one chat: its batches run one at a time
			first = false
			<-gate
		}
	})
	released := false
	h.release = func() {
		if !released {
			released = true
			close(gate)
		}
	}
	t.Cleanup(h.release)
	h.mustAdd(t, firestore.QueuedSend{Label: "held"})
	if got := h.next(t); !slices.Equal(got, []string{"held"}) {
		t.Fatalf("first batch %v", got)
	}
	return h
}

func (h heldQueue) mustAdd(t *testing.T, s firestore.QueuedSend) func() error {
	t.Helper()
	if s.Ctx == nil {
		s.Ctx = context.Background()
	}
	wait, err := h.Add("c1", s)
	if err != nil {
		t.Fatalf("add %s: %v", s.Label, err)
	}
	return wait
}

func (h heldQueue) next(t *testing.T) []string {
	t.Helper()
	select {
	case b := <-h.batches:
		return b
	case <-time.After(10 * time.Second):
		t.Fatal("no batch")
		return nil
	}
}

// TestSendQueue: the rules by which a chat's sends are grouped into
// batches, and refused.
func TestSendQueue(t *testing.T) {
	t.Run("QueuedWhileInFlightCommitTogether", func(t *testing.T) {
		h := mustHeldQueue(t)
		var waits []func() error
		for _, l := range []string{"a", "b", "c"} {
			waits = append(waits, h.mustAdd(t, firestore.QueuedSend{Label: l}))
		}
		h.release()
		if got := h.next(t); !slices.Equal(got, []string{"a", "b", "c"}) {
			t.Fatalf("batch %v, want [a b c] in arrival order", got)
		}
		for _, w := range waits {
			if err := w(); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("AttachmentCommitsAlone", func(t *testing.T) {
		h := mustHeldQueue(t)
		h.mustAdd(t, firestore.QueuedSend{Label: "t1"})
		h.mustAdd(t, firestore.QueuedSend{Label: "f1", File: true})
		h.mustAdd(t, firestore.QueuedSend{Label: "t2"})
		h.mustAdd(t, firestore.QueuedSend{Label: "t3"}) // its answer ends the batches
		h.release()
		for _, want := range [][]string{{"t1"}, {"f1"}, {"t2", "t3"}} {
			if got := h.next(t); !slices.Equal(got, want) {
				t.Fatalf("batch %v, want %v", got, want)
			}
		}
	})
	t.Run("RepeatedKeyWaitsForNextBatch", func(t *testing.T) {
		h := mustHeldQueue(t)
		h.mustAdd(t, firestore.QueuedSend{Label: "k1", Key: "a"})
		h.mustAdd(t, firestore.QueuedSend{Label: "k2", Key: "a"})
		h.mustAdd(t, firestore.QueuedSend{Label: "t", Key: "b"})
		h.release()
		for _, want := range [][]string{{"k1"}, {"k2", "t"}} {
			if got := h.next(t); !slices.Equal(got, want) {
				t.Fatalf("batch %v, want %v", got, want)
			}
		}
	})
	t.Run("CallerGoneIsDropped", func(t *testing.T) {
		h := mustHeldQueue(t)
		gone, cancel := context.WithCancel(context.Background())
		wait := h.mustAdd(t, firestore.QueuedSend{Ctx: gone, Label: "gone"})
		cancel()
		h.mustAdd(t, firestore.QueuedSend{Label: "t"})
		h.release()
		if got := h.next(t); !slices.Equal(got, []string{"t"}) {
			t.Fatalf("batch %v, want [t]", got)
		}
		if err := wait(); err != context.Canceled {
			t.Fatalf("gone caller answered %v", err)
		}
	})
	t.Run("ErrRateLimitedOverFloorWithFullQueue", func(t *testing.T) {
		h := mustHeldQueue(t)
		accepted := 0
		for i := 0; i < 100; i++ { // a full batch may always wait
			h.mustAdd(t, firestore.QueuedSend{Label: fmt.Sprint(i)})
			accepted++
		}
		refused := 0
		for i := 100; i < 300; i++ {
			if _, err := h.Add("c1", firestore.QueuedSend{Ctx: context.Background(), Label: fmt.Sprint(i)}); err != nil {
				code(t, err, chat.ERATELIMITED)
				refused++
			} else {
				accepted++
			}
		}
		if refused == 0 {
			t.Fatal("300 sends at once into a held chat: none refused")
		}
		h.release()
		for got := 0; got < accepted; {
			b := h.next(t)
			if len(b) > 100 {
				t.Fatalf("a batch of %d", len(b))
			}
			got += len(b)
		}
		if _, err := h.Add("other", firestore.QueuedSend{Ctx: context.Background(), Label: "x"}); err != nil {
			t.Fatalf("another chat refused: %v", err)
		}
	})
	t.Run("UnderFloorNeverRefused", func(t *testing.T) {
		// 25 sends/s, under the floor of 30/s, into a chat whose commit
		// never finishes: its queue passes a full batch and nothing is
		// refused. A late tick only spaces the sends out more.
		h := mustHeldQueue(t)
		tick := time.NewTicker(time.Second / 25)
		defer tick.Stop()
		for i := 0; i < 110; i++ {
			<-tick.C
			h.mustAdd(t, firestore.QueuedSend{Label: fmt.Sprint(i)})
		}
	})
}
