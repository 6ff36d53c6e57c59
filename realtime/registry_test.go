package realtime_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/realtime"
)

// opens records the registry's open and close calls in order.
type opens struct {
	mu  sync.Mutex
	log []string
}

func (o *opens) open(k string) int     { o.add("open " + k); return len(k) }
func (o *opens) close(k string, _ int) { o.add("close " + k) }
func (o *opens) add(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.log = append(o.log, s)
}
func (o *opens) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.log)
}

func TestRegistry(t *testing.T) {
	t.Run("RefcountWithoutLinger", func(t *testing.T) {
		o := &opens{}
		r := realtime.NewRegistry(-1, o.open, o.close)
		_, rel1, _ := r.Acquire("a")
		_, rel2, _ := r.Acquire("a")
		rel1()
		rel1() // idempotent
		if got := o.get(); !slices.Equal(got, []string{"open a"}) {
			t.Fatalf("after one of two releases: %v", got)
		}
		rel2()
		if got := o.get(); !slices.Equal(got, []string{"open a", "close a"}) {
			t.Fatalf("after both: %v", got)
		}
	})
	t.Run("ReacquiredWithinLinger", func(t *testing.T) {
		o := &opens{}
		r := realtime.NewRegistry(time.Hour, o.open, o.close)
		defer r.Close()
		_, rel, _ := r.Acquire("a")
		rel()
		_, rel, _ = r.Acquire("a")
		defer rel()
		if got := o.get(); !slices.Equal(got, []string{"open a"}) || r.Len() != 1 {
			t.Fatalf("reopened within the linger: %v", got)
		}
	})
	t.Run("ClosedAfterLinger", func(t *testing.T) {
		o := &opens{}
		r := realtime.NewRegistry(20*time.Millisecond, o.open, o.close)
		_, rel, _ := r.Acquire("a")
		rel()
		waitUntil(t, "the linger to end", func() bool { return r.Len() == 0 })
		if got := o.get(); !slices.Equal(got, []string{"open a", "close a"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("ErrClosed", func(t *testing.T) {
		o := &opens{}
		r := realtime.NewRegistry(time.Hour, o.open, o.close)
		_, rel, _ := r.Acquire("a")
		rel()
		r.Close()
		if _, _, ok := r.Acquire("b"); ok {
			t.Fatal("Acquire after Close succeeded")
		}
	})
}
