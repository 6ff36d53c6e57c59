package realtime

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync/atomic"
	"time"

	"github.com/chatapp/chat"
)

// replaceFor is how long starting generations may be replaced by ones
// that also cover newer keys (see run).
const replaceFor = 3 * time.Second

// shard serves up to maxKeys keys with one set of listeners, and its
// router applies what they deliver. All of its state below the mailbox is
// owned by the goroutine running run: keys come and go, listener batches,
// read results and timers all arrive to it as mail or timer fires, and it
// never waits on I/O. Listeners and reads run in goroutines of their own
// that only post to the mailbox.
type shard struct {
	env       *env
	r         router
	box       mailbox
	count     int          // keys placed here; guarded by Node.mu
	listening atomic.Int32 // listeners running, for Node.Listeners

	// Owned by run's goroutine.
	subs     map[string]*sub
	gen      *generation // the covered generation delivering events, or nil
	next     *generation // a generation starting: its batches wait in its buffer
	genSeq   int64
	dirty    bool      // keys changed: start a new generation
	lastGood time.Time // read time of the last messages batch applied
	backoff  time.Duration
	retrying bool        // a failed listener waits for retry before restarting
	retry    *time.Timer // fires when a failed listener may restart
	retired  bool        // the shard has no keys left: run ends
}

// newUserShard and newRoomShard make a shard serving users or chat rooms.
func newUserShard(e *env) *shard { sh := newShard(e); sh.r = newUserRouter(sh); return sh }
func newRoomShard(e *env) *shard { sh := newShard(e); sh.r = newRoomRouter(sh); return sh }

func newShard(e *env) *shard {
	return &shard{env: e, box: newMailbox(e.opts.MaxMailbox), subs: map[string]*sub{}}
}

// run is the shard's owner goroutine.
func (sh *shard) run() {
	e := sh.env
	defer e.wg.Done()
	check := time.NewTicker(min(e.opts.HeartbeatInterval, e.opts.FirstSnapshotTimeout) / 2)
	defer check.Stop()
	timed := time.NewTimer(time.Hour)
	timed.Stop()
	defer timed.Stop()
	sh.retry = time.NewTimer(time.Hour)
	sh.retry.Stop()
	defer sh.retry.Stop()
	defer sh.stop()
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-sh.box.wake:
			msgs, shed := sh.box.take()
			if shed {
				sh.behind()
			}
			for _, m := range msgs {
				if m.handle(sh); sh.retired {
					return
				}
			}
		case <-check.C:
			sh.checkHealth()
		case <-timed.C:
			sh.r.tick(time.Now())
		case <-sh.retry.C:
			sh.retrying, sh.dirty = false, true
		}
		sh.regenerate()
		if t := sh.r.due(); !t.IsZero() {
			timed.Reset(max(time.Until(t), 0))
		} else {
			timed.Stop()
		}
	}
}

// regenerate acts on the state the last message left: stop every listener
// of a shard without keys, or start a generation over changed keys.
func (sh *shard) regenerate() {
	switch {
	case len(sh.subs) == 0 && (sh.gen != nil || sh.next != nil):
		sh.stopAll()
	case !sh.dirty || sh.retrying:
	case sh.next == nil:
		sh.restart()
	case time.Since(sh.next.chainStart) < replaceFor:
		// Start over with the new keys too, so a user's first socket
		// waits for one generation, not two; existing users are served
		// by the running one meanwhile. Only for replaceFor: after that
		// the starting one gets to finish, so connect churn cannot starve
		// the new keys.
		chain := sh.next.chainStart
		sh.next.stop()
		sh.next = nil
		sh.restart()
		sh.next.chainStart = chain
	}
}

func (sh *shard) addKey(s *sub) {
	sh.subs[s.key] = s
	// Back after a removal: the running listeners still match the key but
	// never gave this subscription its baseline.
	sh.rebase(s.key)
	sh.r.add(s.key)
}

func (sh *shard) removeKey(s *sub) {
	if sh.subs[s.key] != s {
		return
	}
	delete(sh.subs, s.key)
	sh.r.remove(s.key)
	// A key no longer wanted stays in the running listeners until the
	// next restart, its changes ignored; only an empty shard stops.
	if len(sh.subs) == 0 {
		sh.dirty = true
	}
}

// rebase takes key out of the running generations, so that only the next
// one, started for it, applies its changes, from a fresh baseline.
func (sh *shard) rebase(key string) {
	for _, g := range []*generation{sh.gen, sh.next} {
		if g != nil {
			delete(g.keys, key)
		}
	}
	sh.dirty = true
}

// behind handles shed listener batches: what they carried is lost to this
// shard, so every key starts over from the next generation's baseline.
func (sh *shard) behind() {
	sh.env.log.Warn("shard fell behind its listeners; batches shed", "keys", len(sh.subs))
	sh.r.resyncAll()
	for _, g := range []*generation{sh.gen, sh.next} {
		if g != nil {
			clear(g.keys)
		}
	}
	sh.dirty = true
}

func (sh *shard) onListenErr(m listenErr) {
	g := sh.genOf(m.gen)
	if g == nil {
		return
	}
	sh.env.restarts.Add(1)
	sh.backoff = min(max(2*sh.backoff, 100*time.Millisecond), sh.env.opts.MaxBackoff)
	sh.env.log.Warn("listener failed; restarting", "listener", m.kind.String(), "err", m.err.Error(), "retryInMs", sh.backoff.Milliseconds())
	g.stop()
	if g == sh.gen {
		sh.gen = nil // a starting one, if any, takes over when covered
	} else {
		sh.next = nil
	}
	sh.countListeners()
	if sh.next == nil {
		sh.retrying = true
		sh.retry.Reset(sh.backoff)
	}
}

// restart starts a generation over the live keys, to be promoted once
// covered. Its messages listener starts Margin before the last good batch,
// so what a failed or replaced one missed is in its first batch; the rules
// drop the overlap by seq.
func (sh *shard) restart() {
	e := sh.env
	sh.dirty = false
	sh.genSeq++
	keys := slices.Sorted(maps.Keys(sh.subs))
	g := newGeneration(sh.genSeq, keys, sh.r.kinds(), time.Now())
	since := sh.lastGood.Add(-e.opts.Margin)
	if sh.lastGood.IsZero() {
		since = time.Now().Add(-e.opts.Margin)
	}
	for _, kind := range g.kinds {
		kctx, cancel := context.WithCancel(e.ctx)
		g.stops[kind] = cancel
		q := Query{Kind: kind, Keys: keys, Since: since}
		id := g.id
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			err := e.src.Listen(kctx, q, func(b Batch) { sh.box.post(batchMsg{gen: id, kind: kind, b: b}) })
			if kctx.Err() == nil {
				if err == nil {
					err = errors.New("listener ended")
				}
				sh.box.post(listenErr{gen: id, kind: kind, err: err})
			}
		}()
	}
	sh.next = g
	if sh.gen != nil {
		sh.gen.stop(Members, Flips, Typing, Receipts) // from the new generation only
	}
	sh.countListeners()
}

// promote makes the starting generation, now covered, the running one.
func (sh *shard) promote() {
	if sh.gen != nil {
		sh.gen.stop()
	}
	g := sh.next
	sh.gen, sh.next = g, nil
	for _, m := range g.buffer {
		sh.apply(g, m)
	}
	g.buffer = nil
	sh.backoff = 0
	sh.countListeners()
	// From now on nothing committed is missed for these keys.
	for k := range g.keys {
		if s := sh.subs[k]; s != nil {
			s.covered()
		}
	}
}

// genOf returns the running or starting generation with that id.
func (sh *shard) genOf(id int64) *generation {
	switch {
	case sh.gen != nil && sh.gen.id == id:
		return sh.gen
	case sh.next != nil && sh.next.id == id:
		return sh.next
	}
	return nil
}

func (sh *shard) countListeners() {
	total := 0
	for _, g := range []*generation{sh.gen, sh.next} {
		if g != nil {
			total += len(g.stops)
		}
	}
	sh.listening.Store(int32(total))
}

// stopAll ends both generations: the shard has no keys, and the next keys
// start from now.
func (sh *shard) stopAll() {
	for _, g := range []*generation{sh.gen, sh.next} {
		if g != nil {
			g.stop()
		}
	}
	sh.gen, sh.next = nil, nil
	sh.dirty = false
	sh.lastGood = time.Time{}
	sh.countListeners()
}

// stop ends the shard's listeners and reads: the node is closing.
func (sh *shard) stop() {
	sh.stopAll()
	sh.r.close()
}

// checkHealth replaces a starting generation late with its first
// batches, and starts a successor for a running one that is due (see
// generation.due). It looks only at state the shard owns, so a hung
// listener cannot stop it.
func (sh *shard) checkHealth() {
	e := sh.env
	now := time.Now()
	if nx := sh.next; nx != nil {
		if now.Sub(nx.started) > e.opts.FirstSnapshotTimeout {
			e.restarts.Add(1)
			e.log.Warn("listener restarting", "reason", "first snapshot late", "keys", len(nx.keys))
			nx.stop()
			sh.next, sh.dirty = nil, true
			sh.countListeners()
		}
		return
	}
	if g := sh.gen; g != nil {
		if reason := g.due(e.opts, now); reason != "" {
			e.restarts.Add(1)
			e.log.Warn("listener restarting", "reason", reason, "keys", len(g.keys), "retainedDocs", g.retainedDocs, "retainedBytes", g.retainedBytes)
			sh.dirty = true
		}
	}
}

// onBatch buffers a starting generation's batch, promoting it once every
// kind has had its first, or applies a running generation's batch.
func (sh *shard) onBatch(m batchMsg) {
	g := sh.genOf(m.gen)
	if g == nil {
		return // an old generation's late batch
	}
	if m.kind == Messages {
		g.retain(m.b)
	}
	if g == sh.next {
		g.buffer = append(g.buffer, m)
		delete(g.waiting, m.kind)
		if len(g.waiting) == 0 {
			sh.promote()
		}
		return
	}
	sh.apply(g, m)
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// apply applies one batch of the running generation; messages wait for
// the members' first batch.
func (sh *shard) apply(g *generation, m batchMsg) {
	if m.b.Heartbeat {
		g.beats[m.kind] = time.Now()
	}
	if m.kind == Messages && g.pending[Members] {
		g.held = append(g.held, m.b)
		return
	}
	sh.applyKind(g, m.kind, m.b)
	if m.kind == Members {
		held := g.held
		g.held = nil
		for _, b := range held {
			sh.applyKind(g, Messages, b)
		}
	}
}

func (sh *shard) applyKind(g *generation, kind Kind, b Batch) {
	first := g.pending[kind]
	delete(g.pending, kind)
	sh.r.apply(g, kind, b, first)
	if kind == Messages && !b.ReadTime.IsZero() {
		sh.lastGood = b.ReadTime
	}
}

func (sh *shard) deliver(evs []chat.Event) {
	for _, ev := range evs {
		sh.env.sink.Deliver(ev)
	}
}
