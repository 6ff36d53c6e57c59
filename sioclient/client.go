// Package sioclient is a minimal Socket.IO v4 client over a websocket
// (Engine.IO v4 framing: `40{auth}` connect, `42` events, `43` acks, ping
// `2` answered with `3`), for the tests and the load tool. The project's
// measurements found the Go Socket.IO client library unreliable (about 2 %
// of websocket connects stalled) where this framing had no failure in
// 500, and it costs one goroutine and two small buffers per socket, which
// lets one load process hold thousands. Browsers use socket.io-client.
package sioclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Options are what a connection reports to its owner. Both callbacks run
// on the connection's read goroutine, one at a time, and must not block.
type Options struct {
	// OnEvent receives every server→client event: its name and first
	// argument (nil when it has none).
	OnEvent func(name string, data json.RawMessage)
	// OnMalformed receives an event packet that is not a JSON array.
	OnMalformed func(packet string)
	// Header is sent with the websocket handshake (Origin, cookies).
	Header http.Header
	// BufferSize is the websocket read and write buffer size (default
	// 4096; the load tool uses less to fit thousands of sockets).
	BufferSize int
}

// ConnectError is a refused handshake; Message is what a JS client's
// connect_error carries.
type ConnectError struct {
	Message string
	Data    json.RawMessage
}

// Error implements error.
func (e *ConnectError) Error() string { return "connect_error: " + e.Message }

// Conn is one connected socket.
type Conn struct {
	ID   string // the socket id the server gave
	ws   *websocket.Conn
	opts Options
	done chan struct{} // closed when the read loop ends

	wmu sync.Mutex // serializes writes

	mu      sync.Mutex // guards acks, nextAck and reason
	acks    map[int]chan json.RawMessage
	nextAck int
	reason  string
}

// Dial connects to baseURL's /socket.io/ endpoint with auth (nil for none)
// in the CONNECT packet. ctx bounds the handshake only.
func Dial(ctx context.Context, baseURL string, auth any, opts Options) (*Conn, error) {
	u := "ws" + strings.TrimPrefix(baseURL, "http") + "/socket.io/?EIO=4&transport=websocket"
	d := websocket.Dialer{HandshakeTimeout: 20 * time.Second, ReadBufferSize: opts.BufferSize, WriteBufferSize: opts.BufferSize}
	ws, resp, err := d.DialContext(ctx, u, opts.Header)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocket dial: %w (status %d)", err, resp.StatusCode)
		}
		return nil, fmt.Errorf("websocket dial: %w", err)
	}
	c := &Conn{ws: ws, opts: opts, done: make(chan struct{}), acks: map[int]chan json.RawMessage{}}
	if err := c.handshake(ctx, auth); err != nil {
		ws.Close()
		return nil, err
	}
	go c.read()
	return c, nil
}

func (c *Conn) handshake(ctx context.Context, auth any) error {
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(20 * time.Second)
	}
	_ = c.ws.SetReadDeadline(deadline)
	defer c.ws.SetReadDeadline(time.Time{})
	_, open, err := c.ws.ReadMessage()
	if err != nil || len(open) == 0 || open[0] != '0' {
		return fmt.Errorf("engine.io open: %q %v", open, err)
	}
	connect := "40"
	if auth != nil {
		b, err := json.Marshal(auth)
		if err != nil {
			return fmt.Errorf("auth: %w", err)
		}
		connect += string(b)
	}
	if err := c.write(connect); err != nil {
		return fmt.Errorf("socket.io connect: %w", err)
	}
	_, reply, err := c.ws.ReadMessage()
	if err != nil {
		return fmt.Errorf("socket.io connect: %w", err)
	}
	switch r := string(reply); {
	case strings.HasPrefix(r, "40"):
		var s struct{ Sid string }
		_ = json.Unmarshal(reply[2:], &s)
		c.ID = s.Sid
		return nil
	case strings.HasPrefix(r, "44"):
		var e struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(reply[2:], &e)
		return &ConnectError{Message: e.Message, Data: e.Data}
	default:
		return fmt.Errorf("socket.io connect: unexpected %q", reply)
	}
}

func (c *Conn) write(msg string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_ = c.ws.SetWriteDeadline(time.Now().Add(20 * time.Second))
	return c.ws.WriteMessage(websocket.TextMessage, []byte(msg))
}

func (c *Conn) read() {
	defer close(c.done)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			c.setReason(err.Error())
			return
		}
		switch m := string(msg); {
		case m == "2":
			_ = c.write("3")
		case strings.HasPrefix(m, "41"):
			c.setReason("server disconnect")
			c.ws.Close()
		case strings.HasPrefix(m, "42"):
			var arr []json.RawMessage
			if err := json.Unmarshal(msg[2:], &arr); err != nil || len(arr) == 0 {
				if c.opts.OnMalformed != nil {
					c.opts.OnMalformed(m)
				}
				continue
			}
			var name string
			_ = json.Unmarshal(arr[0], &name)
			var data json.RawMessage
			if len(arr) > 1 {
				data = arr[1]
			}
			if c.opts.OnEvent != nil {
				c.opts.OnEvent(name, data)
			}
		case strings.HasPrefix(m, "43"):
			c.onAck(m)
		}
	}
}

func (c *Conn) onAck(m string) {
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
	c.mu.Lock()
	ch := c.acks[id]
	delete(c.acks, id)
	c.mu.Unlock()
	if ch != nil {
		ch <- data
	}
}

func (c *Conn) setReason(r string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.reason == "" {
		c.reason = r
	}
}

// Emit sends event name with args (JSON values) and an ack request, and
// returns the ack's first argument.
func (c *Conn) Emit(ctx context.Context, name string, args ...any) (json.RawMessage, error) {
	c.mu.Lock()
	c.nextAck++
	id := c.nextAck
	ch := make(chan json.RawMessage, 1)
	c.acks[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.acks, id)
		c.mu.Unlock()
	}()
	packet, err := json.Marshal(append([]any{name}, args...))
	if err != nil {
		return nil, err
	}
	if err := c.write("42" + strconv.Itoa(id) + string(packet)); err != nil {
		return nil, err
	}
	select {
	case data := <-ch:
		return data, nil
	case <-c.done:
		return nil, errors.New("socket closed before the ack of " + name)
	case <-ctx.Done():
		return nil, fmt.Errorf("no ack for %s: %w", name, ctx.Err())
	}
}

// Send writes a raw Socket.IO packet (for malformed-input tests).
func (c *Conn) Send(packet string) error { return c.write(packet) }

// Done is closed when the connection has ended, by either side.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Reason says why the connection ended ("" while open).
func (c *Conn) Reason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// Close sends a Socket.IO disconnect and closes the websocket.
func (c *Conn) Close() {
	_ = c.write("41")
	c.ws.Close()
}

// Flood writes n events name(args) back to back, each asking for an ack,
// without waiting in between (a pipelining client), then waits for all the
// acks and returns them in order.
func (c *Conn) Flood(ctx context.Context, n int, name string, args ...any) ([]json.RawMessage, error) {
	chans := make([]chan json.RawMessage, n)
	ids := make([]int, n)
	c.mu.Lock()
	for i := range chans {
		c.nextAck++
		ids[i] = c.nextAck
		chans[i] = make(chan json.RawMessage, 1)
		c.acks[ids[i]] = chans[i]
	}
	c.mu.Unlock()
	payload, err := json.Marshal(append([]any{name}, args...))
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := c.write("42" + strconv.Itoa(id) + string(payload)); err != nil {
			return nil, err
		}
	}
	out := make([]json.RawMessage, n)
	for i, ch := range chans {
		select {
		case out[i] = <-ch:
		case <-c.done:
			return out[:i], fmt.Errorf("socket closed after %d of %d acks", i, n)
		case <-ctx.Done():
			return out[:i], fmt.Errorf("%d of %d acks came: %w", i, n, ctx.Err())
		}
	}
	return out, nil
}
