package hub_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/hub"
)

func TestDeliver(t *testing.T) {
	t.Run("BlockedSocketDoesNotDelayOthers", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{MaxQueued: 8})
		stuck, free := newWire(true), newWire(false)
		defer close(stuck.block)
		MustConnect(t, h, "ana", "s1", stuck)
		MustConnect(t, h, "bob", "s2", free)
		for range 20 { // past ana's queue: she is cut, never waited for
			h.Deliver(chat.Event{Kind: chat.EventNewMessage, UserID: "ana", ChatID: "c", Message: &chat.Message{}})
		}
		h.Deliver(chat.Event{Kind: chat.EventNewMessage, UserID: "bob", ChatID: "c", Message: &chat.Message{}})
		free.wait(t, "bob's event", func() bool { return len(free.frames) == 1 })
		stuck.wait(t, "ana's cut", func() bool { return stuck.cuts == 1 })
	})
	t.Run("SamePayloadEncodedOnce", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{})
		ws := []*fakeWire{newWire(false), newWire(false), newWire(false)}
		for i, uid := range []string{"ana", "bob", "cem"} {
			MustConnect(t, h, uid, "s"+uid, ws[i])
		}
		m := &chat.Message{ChatID: "c"}
		for _, uid := range []string{"ana", "bob", "cem"} {
			h.Deliver(chat.Event{Kind: chat.EventNewMessage, UserID: uid, ChatID: "c", Message: m})
		}
		for _, w := range ws {
			w.wait(t, "the message", func() bool { return len(w.frames) == 1 })
		}
		if ws[0].frames[0] != ws[1].frames[0] || ws[1].frames[0] != ws[2].frames[0] {
			t.Fatal("one message to three users was encoded more than once")
		}
	})
	t.Run("TypingEncodedOnceNotToTypist", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{})
		ws := map[string]*fakeWire{"ana": newWire(false), "bob": newWire(false), "cem": newWire(false)}
		for uid, w := range ws {
			c := MustConnect(t, h, uid, "s"+uid, w)
			mustJoin(t, h, c, "c")
		}
		h.Deliver(chat.Event{Kind: chat.EventTyping, ChatID: "c", Typing: &chat.Typing{ChatID: "c", UserID: "ana"}})
		h.Deliver(chat.Event{Kind: chat.EventNewChat, UserID: "ana", ChatID: "marker"})
		ws["ana"].wait(t, "ana's marker", func() bool { return len(ws["ana"].frames) == 1 })
		if got := ws["ana"].names(t); !slices.Equal(got, []string{"newChat"}) {
			t.Fatalf("the typist got %v, want only the marker", got)
		}
		for _, uid := range []string{"bob", "cem"} {
			ws[uid].wait(t, uid+"'s typing", func() bool { return len(ws[uid].frames) == 1 })
		}
		if ws["bob"].frames[0] != ws["cem"].frames[0] {
			t.Fatal("one typing event was encoded once per socket")
		}
	})
	t.Run("EventsWaitForStart", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{})
		w := newWire(false)
		c, err := h.Open(context.Background(), "ana", "s1", w)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Drop(c) })
		h.Deliver(chat.Event{Kind: chat.EventNewChat, UserID: "ana", ChatID: "before-attach"})
		h.Attach(c)
		h.Deliver(chat.Event{Kind: chat.EventNewChat, UserID: "ana", ChatID: "a"})
		h.Deliver(chat.Event{Kind: chat.EventChatDeleted, UserID: "ana", ChatID: "b"})
		w.mu.Lock()
		early := len(w.frames)
		w.mu.Unlock()
		if early != 0 {
			t.Fatalf("%d frames written before Start", early)
		}
		h.Start(c)
		w.wait(t, "two events", func() bool { return len(w.frames) == 2 })
		if got := w.names(t); !slices.Equal(got, []string{"newChat", "chatDeleted"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("ResyncDisconnectsTheUsersSockets", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{})
		a1, a2, b := newWire(false), newWire(false), newWire(false)
		MustConnect(t, h, "ana", "s1", a1)
		MustConnect(t, h, "ana", "s2", a2)
		MustConnect(t, h, "bob", "s3", b)
		h.Deliver(chat.Event{Kind: chat.EventResync, UserID: "ana"})
		h.Deliver(chat.Event{Kind: chat.EventNewChat, UserID: "bob", ChatID: "marker"})
		a1.wait(t, "a disconnect", func() bool { return a1.discons == 1 })
		a2.wait(t, "a disconnect", func() bool { return a2.discons == 1 })
		b.wait(t, "bob's marker", func() bool { return len(b.frames) == 1 })
		if b.discons != 0 {
			t.Fatal("bob disconnected by ana's resync")
		}
	})
}

func mustJoin(tb testing.TB, h *hub.Hub, c *hub.Conn, chatID string) {
	tb.Helper()
	j, err := h.BeginJoin(c, chatID)
	if err != nil {
		tb.Fatal(err)
	}
	h.MarkedRead(j)
	if err := h.FinishJoin(j, func() {}); err != nil {
		tb.Fatal(err)
	}
}

func TestJoin(t *testing.T) {
	t.Run("ErrNotFoundWhenRemovedDuringJoin", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{})
		c := MustConnect(t, h, "ana", "s1", newWire(false))
		j, err := h.BeginJoin(c, "c")
		if err != nil {
			t.Fatal(err)
		}
		h.Deliver(chat.Event{Kind: chat.EventChatDeleted, UserID: "ana", ChatID: "c"})
		released := false
		err = h.FinishJoin(j, func() { released = true })
		if chat.ErrorCode(err) != chat.ENOTFOUND || !released || c.Joined("c") {
			t.Fatalf("err %v, released %v, joined %v; want not_found, released, not joined", err, released, c.Joined("c"))
		}
	})
	t.Run("ReadSkipUntilUnread", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{})
		c := MustConnect(t, h, "ana", "s1", newWire(false))
		mustJoin(t, h, c, "c")
		if j, _ := h.BeginJoin(c, "c"); !j.Open || !j.Skip {
			t.Fatalf("open and read: %+v, want Skip", j)
		}
		h.Deliver(chat.Event{Kind: chat.EventChatSummary, UserID: "ana", ChatID: "c", Summary: &chat.ChatSummary{UnreadCount: 2}})
		if j, _ := h.BeginJoin(c, "c"); j.Skip {
			t.Fatal("two unread: the join was skipped")
		}
	})
	t.Run("ErrTooLargePastMaxRooms", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{MaxRoomsPerSocket: 2})
		c := MustConnect(t, h, "ana", "s1", newWire(false))
		mustJoin(t, h, c, "a")
		mustJoin(t, h, c, "b")
		if _, err := h.BeginJoin(c, "c"); chat.ErrorCode(err) != chat.ETOOLARGE {
			t.Fatalf("third room: %v, want too_large", err)
		}
	})
	t.Run("ErrRateLimitedPastMaxSockets", func(t *testing.T) {
		h := MustOpenHub(t, hub.Options{MaxSocketsPerUser: 2})
		MustConnect(t, h, "ana", "s1", newWire(false))
		c2 := MustConnect(t, h, "ana", "s2", newWire(false))
		if _, err := h.Open(context.Background(), "ana", "s3", newWire(false)); chat.ErrorCode(err) != chat.ERATELIMITED {
			t.Fatalf("third socket: %v, want rate_limited", err)
		}
		h.Drop(c2)
		if _, err := h.Open(context.Background(), "ana", "s3", newWire(false)); err != nil {
			t.Fatalf("after a drop: %v", err)
		}
		if n, users := h.Sockets(); n != 2 || users != 1 {
			t.Fatalf("Sockets() = %d, %d; want 2, 1", n, users)
		}
	})
	t.Run("DropReleasesRoomsAndTyping", func(t *testing.T) {
		stopped := make(chan string, 1)
		h := MustOpenHub(t, hub.Options{StopTyping: func(ctx context.Context, chatID string) error {
			id, _ := chat.IdentityFromContext(ctx)
			stopped <- id.UID + "/" + chatID
			return nil
		}})
		c := MustConnect(t, h, "ana", "s1", newWire(false))
		released := 0
		j, _ := h.BeginJoin(c, "c")
		_ = h.FinishJoin(j, func() { released++ })
		c.SetTyping("c", true)
		if !h.Drop(c) || h.Drop(c) {
			t.Fatal("Drop is true once")
		}
		select {
		case got := <-stopped:
			if got != "ana/c" || released != 1 {
				t.Fatalf("stop typing %q, released %d", got, released)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("typing not stopped")
		}
	})
}

// droppingWire drops its conn when disconnected, as the glue's disconnect
// handler does (the library runs it within Disconnect).
type droppingWire struct {
	*fakeWire
	h *hub.Hub
	c *hub.Conn
}

func (w *droppingWire) Disconnect(bool) { w.h.Drop(w.c) }

// TestCloseClearsTyping: the sockets Close disconnects clear their typing
// marks before Close returns.
func TestCloseClearsTyping(t *testing.T) {
	stopped := make(chan string, 1)
	h := hub.New(hub.Options{Payload: payload, StopTyping: func(ctx context.Context, chatID string) error {
		stopped <- chatID
		return nil
	}})
	w := &droppingWire{fakeWire: newWire(false), h: h}
	c, err := h.Open(context.Background(), "ana", "s1", w)
	if err != nil {
		t.Fatal(err)
	}
	w.c = c
	h.Attach(c)
	h.Start(c)
	mustJoin(t, h, c, "c")
	c.SetTyping("c", true)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.Close(ctx)
	select {
	case got := <-stopped:
		if got != "c" {
			t.Fatalf("typing cleared in %q, want c", got)
		}
	default:
		t.Fatal("Close returned with the socket's typing mark left")
	}
}
