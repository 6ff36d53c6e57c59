package chattest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/chatapp/chat/sioclient"
)

// Socket is a test's Socket.IO client (sioclient underneath) that keeps
// every event it receives, lets the test wait for them, and checks every
// payload the server sends against docs/asyncapi.yaml, failing the test on
// a mismatch.
type Socket struct {
	conn     *sioclient.Conn
	contract *Contract
	ID       string

	mu     sync.Mutex // guards events and wakes cond's waiters
	cond   *sync.Cond
	events []Event
}

// Event is one server→client event.
type Event struct {
	Name string
	Data json.RawMessage
	At   time.Time
}

// ConnectError is a refused handshake; Message is what a client's
// connect_error carries.
type ConnectError = sioclient.ConnectError

// WaitTimeout bounds every wait: generous, because the machines are shared;
// waits end as soon as their condition holds.
const WaitTimeout = 20 * time.Second

// Dial connects to the instance with the token in the handshake's auth.
func Dial(tb testing.TB, baseURL, token string) (*Socket, error) {
	tb.Helper()
	return DialHeader(tb, baseURL, map[string]any{"token": token}, nil)
}

// MustDial is Dial that fails the test on error.
func MustDial(tb testing.TB, baseURL, token string) *Socket {
	tb.Helper()
	s, err := Dial(tb, baseURL, token)
	if err != nil {
		tb.Fatalf("dial: %v", err)
	}
	return s
}

// MustDialRetrying is MustDial for a client that, like the contract's,
// connects again after a refusal with "internal" (a store too slow for
// the handshake's deadline), up to three times. Process tests use it on
// a Firestore emulator of their own, started cold: its first listeners
// can outlast the handshake's 8 s under -race on a loaded machine.
func MustDialRetrying(tb testing.TB, baseURL, token string) *Socket {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		s, err := Dial(tb, baseURL, token)
		var ce *ConnectError
		if err == nil || attempt == 3 || !errors.As(err, &ce) || ce.Message != "internal" {
			if err != nil {
				tb.Fatalf("dial (attempt %d): %v", attempt, err)
			}
			return s
		}
		tb.Logf("dial attempt %d refused with internal; connecting again", attempt)
	}
}

// DialHeader connects with an arbitrary auth object and HTTP header.
func DialHeader(tb testing.TB, baseURL string, auth any, header http.Header) (*Socket, error) {
	tb.Helper()
	s := &Socket{contract: MustContract(tb)}
	s.cond = sync.NewCond(&s.mu)
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	conn, err := sioclient.Dial(ctx, baseURL, auth, sioclient.Options{
		Header: header,
		OnEvent: func(name string, data json.RawMessage) {
			if err := s.contract.ValidateEvent(name, data); err != nil {
				tb.Errorf("socket %s: %v", s.ID, err)
			}
			s.mu.Lock()
			s.events = append(s.events, Event{Name: name, Data: data, At: time.Now()})
			s.cond.Broadcast()
			s.mu.Unlock()
		},
		OnMalformed: func(packet string) { tb.Errorf("socket: malformed event %q", packet) },
	})
	if err != nil {
		return nil, err
	}
	s.conn, s.ID = conn, conn.ID
	go func() { // wake waiters when the connection ends
		<-conn.Done()
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	}()
	tb.Cleanup(s.Close)
	return s, nil
}

func (s *Socket) closed() bool {
	select {
	case <-s.conn.Done():
		return true
	default:
		return false
	}
}

// EmitRaw sends args (JSON values) as event name, with an ack request, and
// returns the ack's payload, checked against the contract's Ack.
func (s *Socket) EmitRaw(name string, args ...any) (json.RawMessage, error) {
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	data, err := s.conn.Emit(ctx, name, args...)
	if err != nil {
		return nil, err
	}
	if err := s.contract.ValidateEvent("ack", data); err != nil {
		return data, err
	}
	return data, nil
}

// Emit sends name(chatID) and returns the ack's error code, "" for ok.
func (s *Socket) Emit(tb testing.TB, name string, chatID any) string {
	tb.Helper()
	data, err := s.EmitRaw(name, chatID)
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
	}
	return AckCode(data)
}

// AckCode returns an ack's error code, "" for {ok: true}.
func AckCode(raw json.RawMessage) string {
	var a struct {
		OK    bool                  `json:"ok"`
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(raw, &a)
	if a.OK {
		return ""
	}
	return a.Error.Code
}

// MustEmit sends name(chatID) and fails unless the ack is ok.
func (s *Socket) MustEmit(tb testing.TB, name string, chatID any) {
	tb.Helper()
	if code := s.Emit(tb, name, chatID); code != "" {
		tb.Fatalf("%s(%v): ack error %s", name, chatID, code)
	}
}

// Send writes a raw Socket.IO packet (for malformed-input tests).
func (s *Socket) Send(packet string) error { return s.conn.Send(packet) }

// Wait returns the first event named name, from index from on, matching
// match (nil: any), and its index; it fails the test after WaitTimeout.
func (s *Socket) Wait(tb testing.TB, name string, match func(json.RawMessage) bool) Event {
	tb.Helper()
	ev, _, ok := s.waitFrom(0, name, match, WaitTimeout)
	if !ok {
		tb.Fatalf("socket %s: no %s event within %s; got %s", s.ID, name, WaitTimeout, s.describe())
	}
	return ev
}

// WaitNth returns the nth (from 1) event named name matching match.
func (s *Socket) WaitNth(tb testing.TB, n int, name string, match func(json.RawMessage) bool) Event {
	tb.Helper()
	from := 0
	var ev Event
	for i := 0; i < n; i++ {
		var idx int
		var ok bool
		ev, idx, ok = s.waitFrom(from, name, match, WaitTimeout)
		if !ok {
			tb.Fatalf("socket %s: no %s event #%d within %s; got %s", s.ID, name, i+1, WaitTimeout, s.describe())
		}
		from = idx + 1
	}
	return ev
}

func (s *Socket) waitFrom(from int, name string, match func(json.RawMessage) bool, d time.Duration) (Event, int, bool) {
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		for i := from; i < len(s.events); i++ {
			if ev := s.events[i]; ev.Name == name && (match == nil || match(ev.Data)) {
				return ev, i, true
			}
		}
		if s.closed() || time.Now().After(deadline) {
			return Event{}, 0, false
		}
		s.cond.Wait()
	}
}

// Events returns the events received so far named name ("" for all).
func (s *Socket) Events(name string) []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Event
	for _, ev := range s.events {
		if name == "" || ev.Name == name {
			out = append(out, ev)
		}
	}
	return out
}

func (s *Socket) describe() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for _, ev := range s.events {
		names = append(names, ev.Name+string(ev.Data))
	}
	if len(names) > 20 {
		names = names[len(names)-20:]
	}
	return fmt.Sprintf("%d events (closed=%v %s), last: %s", len(s.events), s.closed(), s.conn.Reason(), strings.Join(names, " | "))
}

// WaitClosed waits for the server to close the socket.
func (s *Socket) WaitClosed(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(WaitTimeout)
	timer := time.AfterFunc(WaitTimeout, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed() {
		if time.Now().After(deadline) {
			tb.Fatalf("socket %s still open", s.ID)
		}
		s.cond.Wait()
	}
}

// Close disconnects the socket.
func (s *Socket) Close() { s.conn.Close() }

// DialEmit connects and emits name(arg) with an ack request in the same
// instant the server's CONNECT reply arrives: the fastest client a real
// Socket.IO client can be (it buffers emits until connected). It returns
// the ack's payload.
func DialEmit(tb testing.TB, baseURL, token, name string, arg any, timeout time.Duration) (json.RawMessage, error) {
	tb.Helper()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: timeout}
	ws, _, err := d.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	defer ws.Close()
	_ = ws.SetReadDeadline(time.Now().Add(timeout))
	if _, open, err := ws.ReadMessage(); err != nil || len(open) == 0 || open[0] != '0' {
		return nil, fmt.Errorf("engine.io open: %q %v", open, err)
	}
	batch := "40" + string(MustJSON(map[string]any{"token": token}))
	if err := ws.WriteMessage(websocket.TextMessage, []byte(batch)); err != nil {
		return nil, err
	}
	event := "421" + string(MustJSON([]any{name, arg}))
	connected := false
	for {
		_, msg, err := ws.ReadMessage()
		if err != nil {
			return nil, fmt.Errorf("connected=%v: %w", connected, err)
		}
		m := string(msg)
		switch {
		case m == "2":
			_ = ws.WriteMessage(websocket.TextMessage, []byte("3"))
		case strings.HasPrefix(m, "40"):
			connected = true
			if err := ws.WriteMessage(websocket.TextMessage, []byte(event)); err != nil {
				return nil, err
			}
		case strings.HasPrefix(m, "44"):
			return nil, &ConnectError{Message: m}
		case strings.HasPrefix(m, "431"):
			var arr []json.RawMessage
			_ = json.Unmarshal([]byte(m[3:]), &arr)
			if len(arr) == 0 {
				return nil, fmt.Errorf("empty ack %q", m)
			}
			_ = ws.WriteMessage(websocket.TextMessage, []byte("41"))
			return arr[0], nil
		}
	}
}

// Flood writes n events name(arg) back to back, each asking for an ack,
// without waiting in between (a pipelining client), then waits for all the
// acks and returns them in order.
func (s *Socket) Flood(tb testing.TB, n int, name string, arg any) []json.RawMessage {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	defer cancel()
	out, err := s.conn.Flood(ctx, n, name, arg)
	if err != nil {
		tb.Fatalf("flood: %v", err)
	}
	return out
}

// Presence returns the presence events received so far about uid.
func (s *Socket) Presence(uid string) []Event {
	var out []Event
	for _, ev := range s.Events("presence") {
		var p struct {
			UserID string `json:"userId"`
		}
		if json.Unmarshal(ev.Data, &p) == nil && p.UserID == uid {
			out = append(out, ev)
		}
	}
	return out
}

// WaitPresence waits up to within for the n-th presence event about uid
// and returns it; it fails if more than n have come by then.
func (s *Socket) WaitPresence(tb testing.TB, uid string, n int, within time.Duration) Event {
	tb.Helper()
	deadline := time.Now().Add(within)
	for len(s.Presence(uid)) < n {
		if time.Now().After(deadline) {
			tb.Fatalf("socket %s: no presence #%d about %s within %s (got %d)", s.ID, n, uid, within, len(s.Presence(uid)))
		}
		time.Sleep(10 * time.Millisecond)
	}
	got := s.Presence(uid)
	if len(got) != n {
		tb.Fatalf("socket %s: %d presence events about %s, want %d", s.ID, len(got), uid, n)
	}
	return got[n-1]
}

// Reason is why the socket closed ("server disconnect" when the server
// disconnected it), "" while it is open.
func (s *Socket) Reason() string { return s.conn.Reason() }
