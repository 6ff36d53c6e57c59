package hub

import (
	"context"
	"sync"
)

// Conn is one socket in the hub. Its queue and writer make delivery to it
// independent of its transport: Deliver only puts a frame in the queue.
type Conn struct {
	// ID is the socket's id; UID its user's.
	ID, UID string
	// ctx carries the socket's identity (for the typing clean-up); it is
	// the glue's socket context.
	ctx  context.Context
	wire Wire
	q    chan *Frame   // frames for the writer; bounded by Options.MaxQueued
	done chan struct{} // closed by Drop: ends the writer

	mu      sync.Mutex        // guards the fields below
	joined  map[string]func() // chat id → release of the chat's typing watch
	typing  map[string]bool   // chats where the socket said it is typing
	started bool              // the writer runs
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
	}
}

// Start runs the socket's writer: from now on the client can take events
// (the library has connected the socket). It is a no-op once dropped.
func (h *Hub) Start(c *Conn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.dropped {
		return
	}
	c.started = true
	if !h.goBg(func() { h.write(c) }) {
		c.started = false
	}
}

// write is the socket's writer goroutine: it hands queued frames to the
// wire, one at a time, until Drop.
func (h *Hub) write(c *Conn) {
	for {
		select {
		case <-c.done:
			return
		case f := <-c.q:
			select {
			case <-c.done: // dropped meanwhile: the wire is gone
				return
			default:
			}
			c.wire.Write(f)
		}
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
