package hub

import (
	"context"
	"sync"
)

// Conn is one socket in the hub. Its queue and writer make delivery to it
// independent of its transport: Deliver only puts a frame in the queue,
// and a writer goroutine, started when the queue gets a frame and ended
// when it is empty, hands frames to the transport.
type Conn struct {
	// ID is the socket's id; UID its user's.
	ID, UID string
	// ctx carries the socket's identity (for the typing clean-up); it is
	// the glue's socket context.
	ctx  context.Context
	wire Wire
	q    chan *Frame   // frames for the writer; bounded by Options.MaxQueued
	done chan struct{} // closed by Drop: ends a running writer

	mu      sync.Mutex        // guards the fields below
	joined  map[string]func() // chat id → release of the chat's typing watch
	typing  map[string]bool   // chats where the socket said it is typing
	started bool              // the writer may run (the library connected the socket)
	writing bool              // a writer goroutine runs
	dropped bool              // released (disconnect or abandoned handshake)
	cut     bool              // a cut is under way
}

// send queues f for the socket's writer, never waiting: a socket whose
// queue is full does not keep up and is cut. Frames queued before Start
// wait for it (the library must have sent CONNECT first).
func (h *Hub) send(c *Conn, f *Frame) {
	select {
	case c.q <- f:
	default:
		h.cut(c, "event queue full")
		return
	}
	h.wake(c)
}

// wake starts the socket's writer if it is not running and may run. A
// writer runs only while the queue has frames, so an idle socket costs
// no goroutine.
func (h *Hub) wake(c *Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.writing || !c.started || c.dropped {
		return
	}
	c.writing = h.goBg(func() { h.write(c) })
}

// Start lets the socket's writer run: from now on the client can take
// events (the library has connected the socket).
func (h *Hub) Start(c *Conn) {
	c.mu.Lock()
	c.started = true
	c.mu.Unlock()
	h.wake(c)
}

// write hands queued frames to the wire, one at a time, until the queue
// is empty (checked under the socket's lock, which send's wake also
// takes after queueing: a frame is never left without a writer) or the
// socket is dropped.
func (h *Hub) write(c *Conn) {
	for {
		select {
		case <-c.done:
			return
		case f := <-c.q:
			c.wire.Write(f)
			continue
		default:
		}
		c.mu.Lock()
		if len(c.q) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()
	}
}

// cut closes a socket that does not keep up, once, in the background:
// the caller may be a delivery, which must not wait on a transport.
func (h *Hub) cut(c *Conn, reason string) {
	c.mu.Lock()
	if c.cut || c.dropped {
		c.mu.Unlock()
		return
	}
	c.cut = true
	c.mu.Unlock()
	if h.goBg(c.wire.Cut) {
		h.log.Warn("socket cut", "user", c.UID, "socket", c.ID, "reason", reason)
	}
}

// Joined tells whether the socket has the chat open.
func (c *Conn) Joined(chatID string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.joined[chatID]
	return ok
}

// SetTyping records whether the socket is typing in a chat it has open;
// it returns whether it was. A chat not open is never marked.
func (c *Conn) SetTyping(chatID string, on bool) (was bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	was = c.typing[chatID]
	if _, open := c.joined[chatID]; on && open {
		c.typing[chatID] = true
	} else {
		delete(c.typing, chatID)
	}
	return was
}
