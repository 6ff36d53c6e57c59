package realtime

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatapp/chat"
)

var _ chat.Feed = (*Node)(nil)

// maxKeys is how many keys one shard's listeners cover: Firestore's `in`
// and `array-contains-any` take 30 values, one of them the heartbeat's.
const maxKeys = 29

// Options tune the engine; zero values take the defaults.
type Options struct {
	// HeartbeatInterval is how often the Source's heartbeat is written
	// (default 10 s).
	HeartbeatInterval time.Duration
	// StallTimeout restarts a listener that has delivered no heartbeat for
	// this long (default 35 s): server-side listeners can stall silently.
	StallTimeout time.Duration
	// FirstSnapshotTimeout restarts listeners whose first snapshot has not
	// come this long after they started (default 10 s).
	FirstSnapshotTimeout time.Duration
	// Rollover restarts listeners periodically so their result sets (every
	// message since they started) stay small (default 5 min).
	Rollover time.Duration
	// MaxRetainedDocs and MaxRetainedBytes bound what a messages listener
	// holds: the client library keeps its whole result set in memory, so
	// past either bound it is replaced (make-before-break) as at rollover,
	// once it is older than twice Margin (a replacement starts with Margin's
	// worth). Defaults 2,000 documents and 8 MiB; docs/performance.md.
	MaxRetainedDocs, MaxRetainedBytes int
	// MaxPendingEvents caps the inputs queued for one served user (default
	// 1,000) and ReadFailFor how long the reads their head needs may keep
	// failing (default 30 s): past either, the user's events cannot be
	// kept, so they are dropped and the user's sockets here are
	// disconnected (chat.EventResync); the client reconnects and catches up.
	MaxPendingEvents int
	ReadFailFor      time.Duration
	// MaxMailbox caps the listener batches waiting for a shard's goroutine
	// (default 10,000): past it batches are shed and every user of the
	// shard resynced, so a shard that cannot keep up holds bounded memory.
	MaxMailbox int
	// Margin is how far before the last good snapshot a restarted message
	// listener reads again, covering commits still in flight (default 15 s).
	Margin time.Duration
	// Linger keeps a user's or room's listeners after their last socket,
	// so a reload does not restart a shard (default 10 s).
	Linger time.Duration
	// ReadTimeout bounds each read the delivery rules need (default 10 s).
	ReadTimeout time.Duration
	// MaxBackoff caps the wait between retries of a failed read or
	// listener (default 5 s); the first retry waits 100 ms.
	MaxBackoff time.Duration
	Logger     *slog.Logger
}

// def sets an unset (zero) duration option to its default.
func def[T time.Duration | int](d *T, v T) {
	if *d == 0 {
		*d = v
	}
}

func (o *Options) defaults() {
	def(&o.HeartbeatInterval, 10*time.Second)
	def(&o.StallTimeout, 35*time.Second)
	def(&o.FirstSnapshotTimeout, 10*time.Second)
	def(&o.Rollover, 5*time.Minute)
	def(&o.Margin, 15*time.Second)
	def(&o.MaxRetainedDocs, 2000)
	def(&o.MaxRetainedBytes, 8<<20)
	def(&o.MaxPendingEvents, 1000)
	def(&o.ReadFailFor, 30*time.Second)
	def(&o.MaxMailbox, 10_000)
	def(&o.Linger, 10*time.Second)
	def(&o.ReadTimeout, 10*time.Second)
	def(&o.MaxBackoff, 5*time.Second)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Node is the realtime engine of one instance: it turns data changes made
// by any instance into events for the users and chat rooms this instance
// serves. Users are grouped in shards of up to 29, each shard listening to
// its users' memberships and messages; open chat rooms are sharded the same
// way for typing. See docs/design.md for the model and the concurrency.
type Node struct {
	env *env // what its shards share; it owns ctx and wg
	src Source
	log *slog.Logger

	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the node starts

	users *Registry[string, *sub]
	rooms *Registry[string, *sub]

	mu         sync.Mutex // guards userShards, roomShards and each shard's count
	userShards []*shard
	roomShards []*shard
}

// sub is a key (user or chat) placed in a shard.
type sub struct {
	key string
	sh  *shard
	// ready holds the channel closed once the shard's listeners cover
	// key; a key resynced gets a new one (see sub.rearm), so a client that
	// reconnects after it waits for its fresh baseline.
	ready atomic.Pointer[chan struct{}]
}

// rearm makes subscribers wait for the key's next cover, unless they wait
// already (a cover not yet given releases them when it comes).
func (s *sub) rearm() {
	if ch := s.ready.Load(); ch == nil || isClosed(*ch) {
		fresh := make(chan struct{})
		s.ready.Store(&fresh)
	}
}

// covered releases the key's subscribers: events committed from now on
// reach them.
func (s *sub) covered() {
	if ch := *s.ready.Load(); !isClosed(ch) {
		close(ch)
	}
}

// NewNode starts the engine's heartbeat; listeners start with the first
// Track or WatchChat. Events go to sink, which must not block.
func NewNode(src Source, rd Reader, sink chat.EventSink, opts Options) *Node {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{src: src, log: opts.Logger, cancel: cancel}
	n.env = &env{src: src, rd: rd, sink: sink, opts: opts, log: opts.Logger, ctx: ctx, wg: &n.wg}
	n.users = NewRegistry(opts.Linger, func(uid string) *sub { return n.place(&n.userShards, newUserShard, uid) }, n.unplace)
	n.rooms = NewRegistry(opts.Linger, func(chatID string) *sub { return n.place(&n.roomShards, newRoomShard, chatID) }, n.unplace)
	n.wg.Add(1)
	go n.heartbeat()
	return n
}

// ErrClosed is returned by Track and WatchChat once the node is closed.
var ErrClosed = errors.New("realtime: node closed")

// Track implements chat.Feed.
func (n *Node) Track(ctx context.Context, uid string) (func(), error) {
	return n.subscribe(ctx, n.users, uid)
}

// WatchChat implements chat.Feed.
func (n *Node) WatchChat(ctx context.Context, chatID string) (func(), error) {
	return n.subscribe(ctx, n.rooms, chatID)
}

func (n *Node) subscribe(ctx context.Context, reg *Registry[string, *sub], key string) (func(), error) {
	s, release, ok := reg.Acquire(key)
	if !ok {
		return nil, ErrClosed
	}
	select {
	case <-*s.ready.Load():
		return release, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	case <-n.env.ctx.Done():
		release()
		return nil, ErrClosed
	}
}

// place puts a key in the first of shards with room, or in a new one
// (called under the registry's lock; it only posts to the shard).
func (n *Node) place(shards *[]*shard, newShard func(*env) *shard, key string) *sub {
	n.mu.Lock()
	defer n.mu.Unlock()
	var target *shard
	for _, sh := range *shards {
		if sh.count < maxKeys {
			target = sh
			break
		}
	}
	if target == nil {
		target = newShard(n.env)
		*shards = append(*shards, target)
		n.wg.Add(1)
		go target.run()
	}
	target.count++
	s := &sub{key: key, sh: target}
	s.rearm()
	target.box.post(addKey{s})
	return s
}

// unplace takes a key out of its shard after its linger. A shard left
// with no key is retired: its goroutine ends once it has handled what was
// posted before.
func (n *Node) unplace(key string, s *sub) {
	n.mu.Lock()
	defer n.mu.Unlock()
	sh := s.sh
	sh.count--
	sh.box.post(removeKey{s})
	if sh.count > 0 {
		return
	}
	for _, list := range []*[]*shard{&n.userShards, &n.roomShards} {
		*list = slices.DeleteFunc(*list, func(x *shard) bool { return x == sh })
	}
	sh.box.post(retire{})
}

// Resyncs counts the users dropped because their events could not be
// kept (see Options.MaxPendingEvents): an operator's signal.
func (n *Node) Resyncs() int64 { return n.env.resyncs.Load() }

// Restarts counts listener restarts for a reason other than a change of
// keys (stall, error, late first snapshot, rollover): an operator's signal.
func (n *Node) Restarts() int64 { return n.env.restarts.Load() }

// Listeners counts the listeners running now: three per user shard with
// keys (members, messages, presence), one per room shard with keys, and
// for a user shard whose keys changed one more (the old generation's
// messages) until its new listeners have their first batches. Operators watch it against the ~100 streams a gRPC connection
// carries.
func (n *Node) Listeners() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	total := 0
	for _, sh := range append(append([]*shard(nil), n.userShards...), n.roomShards...) {
		total += int(sh.listening.Load())
	}
	return total
}

// Served counts the users and rooms the node holds, lingering ones included.
func (n *Node) Served() (users, rooms int) { return n.users.Len(), n.rooms.Len() }

// Close stops every listener, read and timer of the node and waits for
// them.
func (n *Node) Close() {
	n.users.Close()
	n.rooms.Close()
	n.cancel()
	n.wg.Wait()
}

// heartbeat writes the Source's heartbeat every HeartbeatInterval.
func (n *Node) heartbeat() {
	defer n.wg.Done()
	t := time.NewTicker(n.env.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		ctx, cancel := context.WithTimeout(n.env.ctx, n.env.opts.HeartbeatInterval)
		if err := n.src.Beat(ctx); err != nil && n.env.ctx.Err() == nil {
			n.log.Warn("heartbeat failed", "err", err.Error())
		}
		cancel()
		select {
		case <-n.env.ctx.Done():
			return
		case <-t.C:
		}
	}
}
