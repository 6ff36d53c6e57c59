package realtime

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/singleflight"

	"github.com/chatapp/chat"
)

// env is what a shard needs of its node: the listener source and the
// reads, the sink, the options, and the node's lifetime and counters.
// Shards get this, not the Node, so they cannot reach the node's
// registries or other shards.
type env struct {
	src  Source
	rd   Reader
	sink chat.EventSink
	opts Options
	log  *slog.Logger
	ctx  context.Context // ends when the node closes
	wg   *sync.WaitGroup // every goroutine the node and its shards start

	loads    singleflight.Group
	restarts atomic.Int64 // listener restarts for a reason other than a change of keys
	resyncs  atomic.Int64 // users dropped because their events could not be kept
}

// read runs one read with its deadline. Chat loads are shared by every
// shard that needs the same chat at once: a rename seen by 29 members
// of a shard, or by several shards, is read once.
func (e *env) read(ctx context.Context, uid string, r read) (any, error) {
	switch r.kind {
	case readChat:
		ch := e.loads.DoChan(r.chatID, func() (any, error) {
			lctx, cancel := context.WithTimeout(e.ctx, e.opts.ReadTimeout)
			defer cancel()
			return e.rd.LoadChat(lctx, r.chatID)
		})
		select {
		case res := <-ch:
			return res.Val, res.Err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	case readGap:
		rctx, cancel := context.WithTimeout(ctx, e.opts.ReadTimeout)
		defer cancel()
		return e.rd.MessagesBetween(rctx, r.chatID, uid, r.from, r.to)
	default:
		rctx, cancel := context.WithTimeout(ctx, e.opts.ReadTimeout)
		defer cancel()
		seq, found, err := e.rd.ReadSeq(rctx, r.chatID, uid)
		return seqResult{seq: seq, found: found}, err
	}
}
