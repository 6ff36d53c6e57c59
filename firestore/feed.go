package firestore

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.Feed = (*Feed)(nil)

// maxKeys is Firestore's limit of values in an `in` or
// `array-contains-any` filter; one slot of each shard is the heartbeat's.
const maxKeys = 30

// FeedOptions tune the listeners; zero values take the defaults.
type FeedOptions struct {
	// InstanceID names this instance's heartbeat documents.
	InstanceID string
	// HeartbeatInterval is how often the instance writes the heartbeat
	// documents every listener also matches (default 10 s).
	HeartbeatInterval time.Duration
	// StallTimeout restarts a listener that has delivered no heartbeat for
	// this long (default 35 s): server-side listeners can stall silently.
	StallTimeout time.Duration
	// Rollover restarts listeners periodically so their result sets (every
	// matching message since they started) stay small (default 5 min).
	Rollover time.Duration
	// Margin is how far before the last good snapshot a restarted message
	// listener reads again, covering commits still in flight (default 15 s).
	Margin time.Duration
	// Linger keeps a user's listeners after their last socket closes, so a
	// reload does not restart a shard (default 10 s).
	Linger time.Duration
	// OnChange, if set, sees every document change any listener receives,
	// before filtering: tests count fan-out with it.
	OnChange func(collection, chatID string)
	Logger   *slog.Logger
}

func (o *FeedOptions) defaults() {
	if o.HeartbeatInterval == 0 {
		o.HeartbeatInterval = 10 * time.Second
	}
	if o.StallTimeout == 0 {
		o.StallTimeout = 35 * time.Second
	}
	if o.Rollover == 0 {
		o.Rollover = 5 * time.Minute
	}
	if o.Margin == 0 {
		o.Margin = 15 * time.Second
	}
	if o.Linger == 0 {
		o.Linger = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Feed implements chat.Feed with Firestore snapshot listeners. Users this
// instance serves are grouped in shards of up to 29; each user shard runs
// two listeners (their memberships, and messages addressed to them), so an
// instance reads only what its own users receive. Open chat rooms are
// sharded the same way for typing. See docs/design.md.
type Feed struct {
	db    *DB
	chats *ChatService
	sink  chat.EventSink
	opts  FeedOptions
	log   *slog.Logger
	hbKey string

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu         sync.Mutex
	users      map[string]*userState
	userShards []*shard
	rooms      map[string]*roomState
	roomShards []*shard

	restarts atomic.Int64
}

// NewFeed starts the heartbeat; listeners start with the first Track.
func NewFeed(db *DB, chats *ChatService, sink chat.EventSink, opts FeedOptions) *Feed {
	opts.defaults()
	if opts.InstanceID == "" {
		opts.InstanceID = "i" + hashKey(time.Now().String())[:16]
	}
	ctx, cancel := context.WithCancel(context.Background())
	f := &Feed{
		db: db, chats: chats, sink: sink, opts: opts, log: opts.Logger, hbKey: "~hb~" + opts.InstanceID,
		ctx: ctx, cancel: cancel, users: map[string]*userState{}, rooms: map[string]*roomState{},
	}
	f.wg.Add(1)
	go f.heartbeat()
	return f
}

// Restarts counts listener restarts for a reason other than a change of
// keys (stall, error, rollover): an operator's and a test's signal.
func (f *Feed) Restarts() int64 { return f.restarts.Load() }

// Listeners counts the snapshot listeners running now: two per user shard,
// one per room shard. Operators watch it against the ~100 streams a gRPC
// connection carries.
func (f *Feed) Listeners() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, sh := range f.userShards {
		if len(sh.keys) > 0 {
			n += 2
		}
	}
	for _, sh := range f.roomShards {
		if len(sh.keys) > 0 {
			n++
		}
	}
	return n
}

// Close stops every listener and removes the heartbeat documents.
func (f *Feed) Close() {
	f.cancel()
	f.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	inst := f.db.client.Collection("instances").Doc(f.opts.InstanceID)
	for _, c := range []string{"messages", "members", "typing"} {
		_, _ = inst.Collection(c).Doc("hb").Delete(ctx)
	}
}

// heartbeat writes one document into each listened collection group that
// every listener of this instance matches, so a listener that has stopped
// delivering is noticed within StallTimeout.
func (f *Feed) heartbeat() {
	defer f.wg.Done()
	inst := f.db.client.Collection("instances").Doc(f.opts.InstanceID)
	t := time.NewTicker(f.opts.HeartbeatInterval)
	defer t.Stop()
	for {
		now := f.db.now()
		ctx, cancel := context.WithTimeout(f.ctx, f.opts.HeartbeatInterval)
		bw := f.db.client.BulkWriter(ctx)
		_, _ = bw.Set(inst.Collection("messages").Doc("hb"), messageDoc{MemberIDs: []string{f.hbKey}, CreatedAt: now})
		_, _ = bw.Set(inst.Collection("members").Doc("hb"), map[string]any{"userId": f.hbKey, "beat": now})
		_, _ = bw.Set(inst.Collection("typing").Doc("hb"), map[string]any{"chatId": f.hbKey, "until": now})
		bw.End()
		cancel()
		select {
		case <-f.ctx.Done():
			return
		case <-t.C:
		}
	}
}

// shard is a set of keys (user or chat ids) served by one set of
// listeners. Keys are added by restarting the listeners with the new set;
// a key no longer wanted stays until the next restart, its events dropped.
type shard struct {
	f      *Feed
	kind   string // "user" or "room"
	wake   chan struct{}
	keys   []string // of the running generation
	gen    int64
	frozen atomic.Int64 // generation frozen by a test; 0 none

	// guarded by Feed.mu
	pending []string
	waiters []chan error

	proc     sync.Mutex // serialises the shard's listeners' processing
	lastGood time.Time  // read time of the last message snapshot processed
	beats    map[string]time.Time
}

func (f *Feed) newShard(kind string) *shard {
	sh := &shard{f: f, kind: kind, wake: make(chan struct{}, 1), beats: map[string]time.Time{}}
	f.wg.Add(1)
	go sh.run()
	return sh
}

// place finds a shard for a key (Feed.mu held) and returns a channel that
// reports when listeners cover it.
func (f *Feed) place(shards *[]*shard, kind, key string, live func(string) bool) (*shard, <-chan error) {
	var target *shard
	for _, sh := range *shards {
		n := len(sh.pending)
		for _, k := range sh.keys {
			if live(k) {
				n++
			}
		}
		if n < maxKeys-1 {
			target = sh
			break
		}
	}
	if target == nil {
		target = f.newShard(kind)
		*shards = append(*shards, target)
	}
	return target, target.enqueue(key)
}

// enqueue asks the shard to cover key (Feed.mu held) and returns the
// channel that reports when its listeners do.
func (sh *shard) enqueue(key string) <-chan error {
	sh.pending = append(sh.pending, key)
	ch := make(chan error, 1)
	sh.waiters = append(sh.waiters, ch)
	select {
	case sh.wake <- struct{}{}:
	default:
	}
	return ch
}

// run owns the shard's listeners: it (re)starts them when keys change, a
// listener fails or stalls, or the rollover is due.
func (sh *shard) run() {
	f := sh.f
	defer f.wg.Done()
	var stop context.CancelFunc = func() {}
	defer func() { stop() }()
	errs := make(chan error, 4)
	check := time.NewTicker(f.opts.HeartbeatInterval / 2)
	defer check.Stop()
	started := time.Now()
	for {
		select {
		case <-f.ctx.Done():
			return
		case <-sh.wake:
		case err := <-errs:
			if f.ctx.Err() != nil {
				return
			}
			f.restarts.Add(1)
			f.log.Warn("listener failed; restarting", "shard", sh.kind, "err", err.Error())
		case <-check.C:
			if len(sh.keys) == 0 {
				continue
			}
			if reason := sh.unhealthy(started); reason == "" {
				continue
			} else {
				f.restarts.Add(1)
				f.log.Warn("listener restarting", "shard", sh.kind, "reason", reason)
			}
		}
		f.mu.Lock()
		keys := sh.liveKeys()
		waiters := sh.waiters
		sh.pending, sh.waiters = nil, nil
		f.mu.Unlock()
		stop()
		if len(keys) == 0 {
			sh.proc.Lock()
			f.mu.Lock()
			sh.keys = nil
			f.mu.Unlock()
			sh.proc.Unlock()
			stop = func() {}
			for _, w := range waiters {
				w <- nil
			}
			continue
		}
		ctx, cancel := context.WithCancel(f.ctx)
		stop = cancel
		sh.proc.Lock()
		f.mu.Lock()
		sh.gen++
		sh.keys = keys
		gen := sh.gen
		f.mu.Unlock()
		sh.proc.Unlock()
		started = time.Now()
		err := sh.start(ctx, gen, keys, errs)
		for _, w := range waiters {
			w <- err
		}
		if err != nil {
			f.log.Error("listener start failed", "shard", sh.kind, "err", err.Error())
		}
	}
}

// liveKeys returns the keys still wanted plus the pending ones (Feed.mu held).
func (sh *shard) liveKeys() []string {
	var out []string
	live := sh.f.liveUser
	if sh.kind == "room" {
		live = sh.f.liveRoom
	}
	for _, k := range append(slices.Clone(sh.keys), sh.pending...) {
		if k != sh.f.hbKey && live(k) && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// unhealthy says why the running listeners must restart, "" if not.
func (sh *shard) unhealthy(started time.Time) string {
	f := sh.f
	sh.proc.Lock()
	defer sh.proc.Unlock()
	now := time.Now()
	if now.Sub(started) > f.opts.Rollover {
		return "rollover"
	}
	for _, name := range sh.listenerNames() {
		last := sh.beats[name]
		if last.Before(started) {
			last = started
		}
		if now.Sub(last) > f.opts.StallTimeout {
			return "stalled: no heartbeat on " + name
		}
	}
	return ""
}

func (sh *shard) listenerNames() []string {
	if sh.kind == "room" {
		return []string{"typing"}
	}
	return []string{"members", "messages"}
}

// start opens the listeners for keys and returns once each has processed
// its first snapshot, so that from then on nothing committed is missed.
func (sh *shard) start(ctx context.Context, gen int64, keys []string, errs chan<- error) error {
	f := sh.f
	all := append(slices.Clone(keys), f.hbKey)
	type listener struct {
		name string
		q    firestore.Query
		fn   func(gen int64, snap *firestore.QuerySnapshot, first bool)
	}
	var ls []listener
	if sh.kind == "room" {
		ls = []listener{{"typing", f.db.client.CollectionGroup("typing").Where("chatId", "in", all), sh.onTyping}}
	} else {
		sh.proc.Lock()
		since := sh.lastGood.Add(-f.opts.Margin)
		if sh.lastGood.IsZero() {
			since = f.db.now().Add(-f.opts.Margin)
		}
		sh.proc.Unlock()
		ls = []listener{
			{"members", f.db.client.CollectionGroup("members").Where("userId", "in", all), sh.onMembers},
			{"messages", f.db.client.CollectionGroup("messages").Where("memberIds", "array-contains-any", all).
				Where("createdAt", ">", since).OrderBy("createdAt", firestore.Asc), sh.onMessages},
		}
	}
	ready := make(chan error, len(ls))
	for _, l := range ls {
		it := l.q.Snapshots(ctx)
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			defer it.Stop()
			first := true
			for {
				snap, err := it.Next()
				if err != nil {
					if first {
						ready <- err
					} else if ctx.Err() == nil {
						errs <- err
					}
					return
				}
				if ctx.Err() != nil {
					return
				}
				if sh.frozen.Load() == gen {
					continue // a test froze this generation: behave as a stalled stream
				}
				sh.proc.Lock()
				if gen == sh.gen {
					for _, ch := range snap.Changes {
						if ch.Doc.Ref.ID == "hb" && ch.Doc.Ref.Parent.Parent != nil && ch.Doc.Ref.Parent.Parent.Parent.ID == "instances" {
							sh.beats[l.name] = time.Now()
						} else if f.opts.OnChange != nil {
							cid, _ := ch.Doc.Data()["chatId"].(string)
							f.opts.OnChange(l.name, cid)
						}
					}
					l.fn(gen, snap, first)
					if l.name == "messages" {
						sh.lastGood = snap.ReadTime
					}
				}
				sh.proc.Unlock()
				if first {
					first = false
					ready <- nil
				}
			}
		}()
	}
	var err error
	for range ls {
		if e := <-ready; e != nil && err == nil {
			err = e
		}
	}
	return err
}

// Freeze makes every running listener of this feed drop what it receives,
// as a silently stalled stream would: a test-only fault injection at the
// adapter's boundary. Restarted listeners are healthy again.
func (f *Feed) Freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, sh := range append(slices.Clone(f.userShards), f.roomShards...) {
		sh.frozen.Store(sh.gen)
	}
}

var errClosed = errors.New("feed closed")

// wait blocks until a shard reports, or ctx ends.
func (f *Feed) wait(ctx context.Context, ch <-chan error) error {
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-f.ctx.Done():
		return errClosed
	}
}

// allDocs decodes every document of a snapshot (a listener's first one
// holds the whole result), keeping those keep accepts; undecodable ones,
// such as heartbeats, are skipped.
func allDocs[T any](snap *firestore.QuerySnapshot, keep func(*T) bool) []*T {
	var out []*T
	for {
		d, err := snap.Documents.Next()
		if err != nil {
			return out
		}
		v := new(T)
		if d.DataTo(v) == nil && keep(v) {
			out = append(out, v)
		}
	}
}
