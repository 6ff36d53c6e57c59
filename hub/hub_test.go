package hub_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/hub"
)

// fakeWire records what the hub writes; its writes block while block is
// open.
type fakeWire struct {
	mu      sync.Mutex
	cond    *sync.Cond
	frames  []*hub.Frame
	cuts    int
	discons int
	block   chan struct{} // nil: writes return at once
}

func newWire(blocked bool) *fakeWire {
	w := &fakeWire{}
	w.cond = sync.NewCond(&w.mu)
	if blocked {
		w.block = make(chan struct{})
	}
	return w
}

func (w *fakeWire) Write(f *hub.Frame) {
	if w.block != nil {
		<-w.block
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.frames = append(w.frames, f)
	w.cond.Broadcast()
}

func (w *fakeWire) Overdue(time.Time) string { return "" }

func (w *fakeWire) Cut() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.cuts++
	w.cond.Broadcast()
}

func (w *fakeWire) Disconnect(bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.discons++
	w.cond.Broadcast()
}

// wait returns once cond holds (under the wire's lock), failing after 10 s.
func (w *fakeWire) wait(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	t := time.AfterFunc(10*time.Second, func() { w.cond.Broadcast() })
	defer t.Stop()
	deadline := time.Now().Add(10 * time.Second)
	w.mu.Lock()
	defer w.mu.Unlock()
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		w.cond.Wait()
	}
}

// names decodes the event names of the frames written so far.
func (w *fakeWire) names(tb testing.TB) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, f := range w.frames {
		var pkt []json.RawMessage
		s := string(f.Packets[0].Bytes())
		if err := json.Unmarshal([]byte(s[1:]), &pkt); err != nil { // "2" then the array
			tb.Fatalf("frame %q: %v", s, err)
		}
		var name string
		_ = json.Unmarshal(pkt[0], &name)
		out = append(out, name)
	}
	return out
}

func payload(ev chat.Event) any { return map[string]string{"chat": ev.ChatID} }

// MustOpenHub returns a hub closed with the test.
func MustOpenHub(tb testing.TB, opts hub.Options) *hub.Hub {
	tb.Helper()
	opts.Payload = payload
	h := hub.New(opts)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Close(ctx)
	})
	return h
}

// MustConnect opens, attaches and starts a socket of uid on w.
func MustConnect(tb testing.TB, h *hub.Hub, uid, id string, w hub.Wire) *hub.Conn {
	tb.Helper()
	ctx := chat.NewContextWithIdentity(context.Background(), chat.Identity{UID: uid})
	c, err := h.Open(ctx, uid, id, w)
	if err != nil {
		tb.Fatal(err)
	}
	h.Attach(c)
	h.Start(c)
	tb.Cleanup(func() { h.Drop(c) }) // what the glue does on disconnect
	return c
}

func message(chatID string) chat.Event {
	return chat.Event{Kind: chat.EventNewMessage, ChatID: chatID, Message: &chat.Message{ChatID: chatID}}
}
