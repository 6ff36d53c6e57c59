// Package hub holds this instance's sockets and delivers the engine's
// events to them: it is the engine's sink. Each socket has a bounded queue
// and a writer goroutine of its own, so delivering never waits on a
// socket's transport, and an event that goes to many sockets is encoded
// once. The hub also keeps what delivery needs to know per user: the
// chats each socket has open (rooms), the unread counts the last summaries
// told, and removals that a join in flight must respect.
//
// The Socket.IO glue (handshakes, client events) lives in package
// handlers; it reaches a socket's connection only through Wire.
package hub

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/chatapp/chat"
)

var _ chat.EventSink = (*Hub)(nil)

// Wire is one socket's connection as the hub uses it. The glue implements
// it on a Socket.IO socket; tests wrap it (a wire whose writes block).
type Wire interface {
	// Write hands one encoded event to the socket's transport. Only the
	// socket's writer goroutine calls it, so it may block.
	Write(f *Frame)
	// Overdue says why the socket's pending output means it must be cut,
	// "" if it need not (checked every Options.CheckEvery).
	Overdue(now time.Time) string
	// Cut closes the connection of a client that does not keep up.
	Cut()
	// Disconnect ends the socket from the server's side ("io server
	// disconnect"): the client connects again and catches up. closeConn
	// also closes the underlying connection (an instance shutting down).
	Disconnect(closeConn bool)
}

// Options are the hub's limits (the contract's socket limits).
type Options struct {
	Logger *slog.Logger
	// MaxSocketsPerUser bounds a user's sockets on this instance,
	// handshakes under way included (the contract's 20 when 0).
	MaxSocketsPerUser int
	// MaxRoomsPerSocket bounds the chats one socket has open (the
	// contract's 100 when 0).
	MaxRoomsPerSocket int
	// MaxQueued bounds the events waiting for a socket's writer; a socket
	// whose queue is full is cut (its client reconnects and catches up).
	MaxQueued int
	// CheckEvery is how often each socket's Wire.Overdue is asked.
	CheckEvery time.Duration
	// Payload is an event's JSON payload as the contract shapes it (the
	// transport's translation, given by the glue).
	Payload func(ev chat.Event) any
	// StopTyping clears a typing mark left by a socket that left a chat
	// (ctx carries the socket's identity). It runs in the background.
	StopTyping func(ctx context.Context, chatID string) error
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxSocketsPerUser == 0 {
		o.MaxSocketsPerUser = 20
	}
	if o.MaxRoomsPerSocket == 0 {
		o.MaxRoomsPerSocket = 100
	}
	if o.MaxQueued == 0 {
		o.MaxQueued = 512
	}
	if o.CheckEvery == 0 {
		o.CheckEvery = time.Second
	}
	if o.StopTyping == nil {
		o.StopTyping = func(context.Context, string) error { return nil }
	}
}

// Hub is this instance's sockets. Its state is split over three sharded
// maps, each shard behind its own lock (registry.go), and each socket's
// own state behind the socket's lock (conn.go), so that deliveries to
// different users or chats do not wait for each other.
type Hub struct {
	opts   Options
	log    *slog.Logger
	reg    registry
	frames frameCache
	stop   chan struct{}  // closed by Close: ends the watchdog
	bg     sync.WaitGroup // the watchdog, writers, cuts, disconnects, typing clean-ups

	// life guards closing and waiting; bg.Add happens under it, so that
	// Close's Wait never races an Add.
	life    sync.Mutex
	closing bool // Close began: no new writer, cut or disconnect
	waiting bool // Close waits for bg: nothing new at all
}

// New returns an empty hub whose watchdog runs until Close.
func New(opts Options) *Hub {
	opts.defaults()
	h := &Hub{opts: opts, log: opts.Logger, stop: make(chan struct{})}
	h.reg.init()
	h.frames.init()
	h.bg.Add(1)
	go h.watch()
	return h
}

// watch cuts sockets whose output does not drain: one goroutine for the
// hub, ended by Close.
func (h *Hub) watch() {
	defer h.bg.Done()
	t := time.NewTicker(h.opts.CheckEvery)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			for _, c := range h.reg.all() {
				if reason := c.wire.Overdue(now); reason != "" {
					h.cut(c, reason)
				}
			}
		}
	}
}

// Sockets counts the sockets the hub holds (handshakes under way
// included) and the users they belong to.
func (h *Hub) Sockets() (sockets, users int) { return h.reg.count() }

// goBg runs fn in the background, owned by the hub, unless it is
// closing (Close ends every socket itself). It reports whether fn runs.
func (h *Hub) goBg(fn func()) bool { return h.run(fn, false) }

// goCleanup is goBg for a clean-up that must happen even while the hub
// closes: the sockets Close disconnects clear their typing marks.
func (h *Hub) goCleanup(fn func()) bool { return h.run(fn, true) }

func (h *Hub) run(fn func(), cleanup bool) bool {
	h.life.Lock()
	if h.waiting || (h.closing && !cleanup) {
		h.life.Unlock()
		return false
	}
	h.bg.Add(1)
	h.life.Unlock()
	go func() {
		defer h.bg.Done()
		fn()
	}()
	return true
}

func (h *Hub) isClosing() bool {
	h.life.Lock()
	defer h.life.Unlock()
	return h.closing
}

// Close refuses new sockets, disconnects the connected ones, so clients
// reconnect to another instance at once instead of waiting for a timeout,
// and waits for their clean-ups and writers until ctx ends.
func (h *Hub) Close(ctx context.Context) {
	h.life.Lock()
	was := h.closing
	h.closing = true
	h.life.Unlock()
	if was {
		return
	}
	close(h.stop)
	// The library runs a socket's disconnect handlers (the glue's drop,
	// which may start typing clean-ups) within Disconnect.
	for _, c := range h.reg.all() {
		c.wire.Disconnect(true)
	}
	h.life.Lock()
	h.waiting = true
	h.life.Unlock()
	done := make(chan struct{})
	go func() { h.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
