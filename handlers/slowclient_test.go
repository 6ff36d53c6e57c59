package handlers_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/hub"
)

// TestNonReadingClientCut: a client that stops reading (and keeps
// answering pings, so the heartbeat alone would never close it) while
// large events are produced for it is cut once its pending output passes
// 8 MiB; the server's memory stays bounded; its user's other socket and
// other users are unaffected. Ten chats renamed about once a second each
// (a chat's changes are limited to one a second) make ~2 MB/s of
// chatUpdated for it: the size bound cuts it within seconds, or, on an
// instance too loaded to produce that, the 30 s drain timeout (both bounds
// are unit-tested in outbox_test.go).
func TestNonReadingClientCut(t *testing.T) {
	const chats = 10
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{PingInterval: time.Minute, PingTimeout: time.Minute}))
	u := newUsers(t, a, chats+1)
	bob, senders := u[0], u[1:]
	groups := make([]chatBody, chats)
	long := strings.Repeat("x", 4000)
	var wg sync.WaitGroup
	for i, s := range senders {
		groups[i] = a.mustChat(t, s.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true})
		wg.Add(1)
		go func() { // each sender under the 10 messages/s per user
			defer wg.Done()
			pace := time.NewTicker(time.Second / 9)
			defer pace.Stop()
			for range 50 {
				<-pace.C
				a.mustSend(t, s.Token, groups[i].ID, long) // chatUpdated will carry these 50: ~200 KB each
			}
		}()
	}
	wg.Wait()
	ws := dialStuck(t, a.in.URL, bob.Token, groups)
	good := chattest.MustDial(t, a.in.URL, bob.Token) // bob's healthy device
	good.MustEmit(t, "joinChat", groups[0].ID)
	other := chattest.MustDial(t, a.in.URL, senders[0].Token)

	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	before := ms.HeapInuse
	var peak uint64
	done := make(chan struct{})
	go func() { // keeps answering pings blindly, as a live but stuck tab would
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
			}
		}
	}()
	defer close(done)
	renames := 0
	cut := func() bool { n, _ := a.in.App.Sockets(); return n == 2 } // good + other
	deadline := time.Now().Add(60 * time.Second)
	pace := time.NewTicker(1100 * time.Millisecond)
	defer pace.Stop()
	for !cut() {
		if time.Now().After(deadline) {
			t.Fatalf("stuck socket not cut after %d renames", renames)
		}
		var round sync.WaitGroup
		for i, s := range senders {
			renames++
			round.Add(1)
			go func(name string) {
				defer round.Done()
				a.call(t, "PATCH", "/api/chats/{id}", "/api/chats/"+groups[i].ID, s.Token, map[string]any{"name": name})
			}(fmt.Sprint("r", renames))
		}
		round.Wait()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
		select {
		case <-pace.C:
		case <-time.After(time.Until(deadline)):
		}
	}
	t.Logf("cut after %d renames (~%d KB of chatUpdated each); heap in use grew at most %d MiB", renames, 200, (peak-before)>>20)
	if grew := int64(peak) - int64(before); grew > 96<<20 { // unbounded, it would grow ~2 MB/s here
		t.Errorf("heap grew %d MiB for one stuck socket", grew>>20)
	}
	// The stuck connection is closed by the server.
	_ = ws.SetReadDeadline(time.Now().Add(chattest.WaitTimeout))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("connection still open")
			}
			break
		}
	}
	// Others never noticed: the healthy device and the sender still get events.
	m := a.mustSend(t, senders[0].Token, groups[0].ID, "after")
	good.Wait(t, "newMessage", field("id", m.ID))
	other.Wait(t, "newMessage", field("id", m.ID))
}

// dialStuck opens a raw websocket client with a tiny receive buffer that
// connects as the user's token, joins the chats, and then never reads
// again (the caller stops reading).
func dialStuck(t *testing.T, base, token string, chats []chatBody) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(chattest.WaitTimeout))
	_, _, _ = ws.ReadMessage()
	_ = ws.WriteMessage(websocket.TextMessage, []byte(`40{"token":"`+token+`"}`))
	for i, c := range chats {
		_ = ws.WriteMessage(websocket.TextMessage, []byte(fmt.Sprintf(`42%d["joinChat",%q]`, i+1, c.ID)))
		ack := fmt.Sprintf("43%d[", i+1)
		for { // skip the CONNECT answer and any event until the join's ack
			_, msg, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("joining %s: %v", c.ID, err)
			}
			if strings.HasPrefix(string(msg), ack) {
				if strings.Contains(string(msg), `"error"`) {
					t.Fatalf("joining %s: %s", c.ID, msg)
				}
				break
			}
		}
	}
	_ = ws.SetReadDeadline(time.Time{})
	return ws
}

// stuckWire is a socket's connection whose writes block until released,
// as a transport stuck in a kernel write would.
type stuckWire struct {
	hub.Wire
	until chan struct{}
}

func (w stuckWire) Write(f *hub.Frame) {
	<-w.until
	w.Wire.Write(f)
}

// TestBlockedSocketDelaysNoOneElse: while every write to ana's socket
// blocks, bob gets each message of their group and ana's typing, and ana's
// own requests are served; once her writes pass, her events follow.
func TestBlockedSocketDelaysNoOneElse(t *testing.T) {
	t.Parallel()
	var stuck atomic.Value // the uid whose socket's writes block
	stuck.Store("")
	unblock := make(chan struct{})
	release := sync.OnceFunc(func() { close(unblock) })
	t.Cleanup(release) // before the instance closes, also if the test fails early
	in := chattest.NewInstance(t, chattest.Options{WrapWire: func(uid string, w hub.Wire) hub.Wire {
		if uid == stuck.Load().(string) {
			return stuckWire{w, unblock}
		}
		return w
	}})
	a := newAPI(t, in)
	u := newUsers(t, a, 3)
	ana, bob, cem := u[0], u[1], u[2]
	stuck.Store(ana.UID)
	g := a.mustChat(t, cem.Token, map[string]any{"userIds": []string{ana.UID, bob.UID}, "isGroup": true})
	anaS := chattest.MustDial(t, in.URL, ana.Token)
	bobS := chattest.MustDial(t, in.URL, bob.Token)
	anaS.MustEmit(t, "joinChat", g.ID)
	bobS.MustEmit(t, "joinChat", g.ID)
	var last msgBody
	for i := range 5 {
		last = a.mustSend(t, cem.Token, g.ID, fmt.Sprint("m", i))
		bobS.Wait(t, "newMessage", field("id", last.ID))
	}
	anaS.MustEmit(t, "typing", g.ID)
	bobS.Wait(t, "typing", field("userId", ana.UID))
	if n := len(anaS.Events("newMessage")); n != 0 {
		t.Fatalf("ana got %d messages while her writes were blocked", n)
	}
	release()
	anaS.Wait(t, "newMessage", field("id", last.ID))
}
