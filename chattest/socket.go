package chattest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Socket is a Socket.IO v4 client over a raw websocket (Engine.IO v4
// framing: `40{auth}` connect, `42` events, `43` acks, ping `2` answered
// with `3`). It checks every payload the server sends against
// docs/asyncapi.yaml and fails the test on a mismatch.
type Socket struct {
	tb       testing.TB
	ws       *websocket.Conn
	contract *Contract
	ID       string

	wmu sync.Mutex

	mu      sync.Mutex
	cond    *sync.Cond
	events  []Event
	acks    map[int]chan json.RawMessage
	nextAck int
	closed  bool
	reason  string
}

// Event is one server→client event.
type Event struct {
	Name string
	Data json.RawMessage
	At   time.Time
}

// ConnectError is a refused handshake; Message is what a client's
// connect_error carries.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

// Error implements error.
func (e *ConnectError) Error() string { return "connect_error: " + e.Message }

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

// DialHeader connects with an arbitrary auth object and HTTP header.
func DialHeader(tb testing.TB, baseURL string, auth any, header http.Header) (*Socket, error) {
	tb.Helper()
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: WaitTimeout}
	ws, resp, err := d.Dial(u, header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket dial: %w (status %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("websocket dial: %w", err)
	}
	s := &Socket{tb: tb, ws: ws, contract: MustContract(tb), acks: map[int]chan json.RawMessage{}}
	s.cond = sync.NewCond(&s.mu)
	_ = ws.SetReadDeadline(time.Now().Add(WaitTimeout))
	_, open, err := ws.ReadMessage()
	if err != nil || len(open) == 0 || open[0] != '0' {
		ws.Close()
		return nil, fmt.Errorf("engine.io open: %q %v", open, err)
	}
	if auth == nil {
		s.write("40")
	} else {
		s.write("40" + string(MustJSON(auth)))
	}
	_, reply, err := ws.ReadMessage()
	if err != nil {
		ws.Close()
		return nil, fmt.Errorf("socket.io connect: %w", err)
	}
	switch {
	case strings.HasPrefix(string(reply), "40"):
		var c struct{ Sid string }
		_ = json.Unmarshal(reply[2:], &c)
		s.ID = c.Sid
	case strings.HasPrefix(string(reply), "44"):
		ws.Close()
		var e struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(reply[2:], &e)
		return nil, &ConnectError{Message: e.Message, Data: e.Data}
	default:
		ws.Close()
		return nil, fmt.Errorf("socket.io connect: unexpected %q", reply)
	}
	_ = ws.SetReadDeadline(time.Time{})
	go s.read()
	tb.Cleanup(s.Close)
	return s, nil
}

func (s *Socket) write(msg string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.ws.WriteMessage(websocket.TextMessage, []byte(msg))
}

func (s *Socket) read() {
	for {
		_, msg, err := s.ws.ReadMessage()
		if err != nil {
			s.mu.Lock()
			s.closed = true
			if s.reason == "" {
				s.reason = err.Error()
			}
			s.cond.Broadcast()
			s.mu.Unlock()
			return
		}
		m := string(msg)
		switch {
		case m == "2":
			_ = s.write("3")
		case strings.HasPrefix(m, "41"):
			s.mu.Lock()
			s.reason = "server disconnect"
			s.mu.Unlock()
			s.ws.Close()
		case strings.HasPrefix(m, "42"):
			var arr []json.RawMessage
			if err := json.Unmarshal([]byte(m[2:]), &arr); err != nil || len(arr) == 0 {
				s.tb.Errorf("socket: malformed event %q", m)
				continue
			}
			var name string
			_ = json.Unmarshal(arr[0], &name)
			var data json.RawMessage
			if len(arr) > 1 {
				data = arr[1]
			}
			if err := s.contract.ValidateEvent(name, data); err != nil {
				s.tb.Errorf("socket %s: %v", s.ID, err)
			}
			s.mu.Lock()
			s.events = append(s.events, Event{Name: name, Data: data, At: time.Now()})
			s.cond.Broadcast()
			s.mu.Unlock()
		case strings.HasPrefix(m, "43"):
			i := 2
			for i < len(m) && m[i] >= '0' && m[i] <= '9' {
				i++
			}
			id, _ := strconv.Atoi(m[2:i])
			var arr []json.RawMessage
			_ = json.Unmarshal([]byte(m[i:]), &arr)
			var data json.RawMessage
			if len(arr) > 0 {
				data = arr[0]
			}
			s.mu.Lock()
			ch := s.acks[id]
			delete(s.acks, id)
			s.mu.Unlock()
			if ch != nil {
				ch <- data
			}
		}
	}
}

// EmitRaw sends args (JSON values) as event name, with an ack request, and
// returns the ack's payload, checked against the contract's Ack.
func (s *Socket) EmitRaw(name string, args ...any) (json.RawMessage, error) {
	s.mu.Lock()
	s.nextAck++
	id := s.nextAck
	ch := make(chan json.RawMessage, 1)
	s.acks[id] = ch
	s.mu.Unlock()
	packet := append([]any{name}, args...)
	if err := s.write("42" + strconv.Itoa(id) + string(MustJSON(packet))); err != nil {
		return nil, err
	}
	select {
	case data := <-ch:
		if err := s.contract.ValidateEvent("ack", data); err != nil {
			return data, err
		}
		return data, nil
	case <-time.After(WaitTimeout):
		return nil, errors.New("no ack for " + name)
	}
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
func (s *Socket) Send(packet string) error { return s.write(packet) }

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
		if s.closed || time.Now().After(deadline) {
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
	return fmt.Sprintf("%d events (closed=%v %s), last: %s", len(s.events), s.closed, s.reason, strings.Join(names, " | "))
}

// WaitClosed waits for the server to close the socket.
func (s *Socket) WaitClosed(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(WaitTimeout)
	timer := time.AfterFunc(WaitTimeout, func() { s.mu.Lock(); s.cond.Broadcast(); s.mu.Unlock() })
	defer timer.Stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closed {
		if time.Now().After(deadline) {
			tb.Fatalf("socket %s still open", s.ID)
		}
		s.cond.Wait()
	}
}

// Close disconnects the socket.
func (s *Socket) Close() {
	_ = s.write("41")
	s.ws.Close()
}

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
	chans := make([]chan json.RawMessage, n)
	s.mu.Lock()
	ids := make([]int, n)
	for i := range chans {
		s.nextAck++
		ids[i] = s.nextAck
		chans[i] = make(chan json.RawMessage, 1)
		s.acks[ids[i]] = chans[i]
	}
	s.mu.Unlock()
	payload := string(MustJSON([]any{name, arg}))
	for _, id := range ids {
		if err := s.write("42" + strconv.Itoa(id) + payload); err != nil {
			tb.Fatalf("flood: %v", err)
		}
	}
	out := make([]json.RawMessage, n)
	timeout := time.After(WaitTimeout)
	for i, ch := range chans {
		select {
		case out[i] = <-ch:
		case <-timeout:
			tb.Fatalf("flood: %d of %d acks came", i, n)
		}
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
