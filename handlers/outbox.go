package handlers

import (
	"sync"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
)

// Bounds of a socket's pending output (the contract's socket limits): a
// client that stops reading must not make the server hold its events
// without end.
const (
	maxPendingOutput = 8 << 20          // bytes not yet written to the client
	drainTimeout     = 30 * time.Second // pending output that has not moved for this long
)

// outbox measures one socket's pending output from the engine's own
// events: bytes of packets created and not yet handed to the transport
// (the engine buffers them while a write is under way), plus the batch
// last handed over while the transport is still writing it.
type outbox struct {
	mu        sync.Mutex // guards the fields below
	unsent    int        // created, not yet handed to the transport
	inflight  int        // handed over, the transport not writable again yet
	lastFlush time.Time  // the transport last took a batch
}

func newOutbox() *outbox { return &outbox{lastFlush: time.Now()} }

func packetSize(p *packet.Packet) int {
	if l, ok := p.Data.(interface{ Len() int }); ok {
		return l.Len()
	}
	return 0
}

// created counts a packet the engine is about to buffer.
func (o *outbox) created(args ...any) {
	if p, ok := firstArg[*packet.Packet](args); ok {
		o.mu.Lock()
		o.unsent += packetSize(p)
		o.mu.Unlock()
	}
}

// flushed moves a batch from unsent to in flight: the transport was
// writable, so the previous batch is written.
func (o *outbox) flushed(args ...any) {
	batch, ok := firstArg[[]*packet.Packet](args)
	if !ok {
		return
	}
	n := 0
	for _, p := range batch {
		n += packetSize(p)
	}
	o.mu.Lock()
	o.unsent = max(o.unsent-n, 0)
	o.inflight = n
	o.lastFlush = time.Now()
	o.mu.Unlock()
}

// overdue says why the socket must be cut, "" if it need not: more than
// maxPendingOutput pending, or output pending that has not moved for
// drainTimeout. writable tells whether the transport has finished its
// last write.
func (o *outbox) overdue(now time.Time, writable bool) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	if writable {
		o.inflight = 0
	}
	switch pending := o.unsent + o.inflight; {
	case pending > maxPendingOutput:
		return "pending output over 8 MiB"
	case pending > 0 && now.Sub(o.lastFlush) > drainTimeout:
		return "pending output not drained for 30 s"
	}
	return ""
}

func firstArg[T any](args []any) (T, bool) {
	var zero T
	if len(args) == 0 {
		return zero, false
	}
	v, ok := args[0].(T)
	return v, ok
}
