package realtime

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatapp/chat"
)

// replaceFor is how long starting generations may be replaced by ones
// that also cover newer keys (see run).
const replaceFor = 3 * time.Second

// shard serves up to maxKeys keys with one set of listeners. All of its
// state below the mailbox is owned by the goroutine running run: keys come
// and go, listener batches, read results and timers all arrive to it as
// messages or timer fires, and it never waits on I/O. Listeners and reads
// run in goroutines of their own that only post to the mailbox.
type shard struct {
	n         *Node
	users     bool // a user shard (members, messages, presence) or a room shard (typing)
	box       mailbox
	count     int          // keys placed here; guarded by Node.mu
	listening atomic.Int32 // listeners running, for Node.Listeners

	// Owned by run's goroutine.
	subs     map[string]*sub
	queues   map[string]*userQueue // user shards
	rooms    map[string]*roomFeed  // room shards
	gen      *generation           // the covered generation delivering events, or nil
	next     *generation           // a generation starting: its batches wait in its buffer
	genSeq   int64
	dirty    bool      // keys changed: start a new generation
	lastGood time.Time // read time of the last messages batch applied
	backoff  time.Duration
	retrying bool // a failed listener waits for retry before restarting
}

// generation is one start of the shard's listeners over a set of keys.
//
// Generations replace each other make-before-break: a new one (sh.next)
// starts while the running one (sh.gen) goes on delivering messages, and
// its batches wait in its buffer until every kind has had its first; then
// it is promoted: the old one stops and the buffer is applied in arrival
// order. Messages may come from both meanwhile: the rules drop repeats by
// seq. The old generation stops its other listeners when the new one
// starts: memberships and typing are snapshots that must not go back in
// time, and presence can wait; their changes come with the new one's
// first batch, as a restart always made them wait. Every listener costs
// the store work on every write, so the overlap is kept to messages.
type generation struct {
	id      int64
	keys    map[string]bool
	kinds   []Kind
	stops   map[Kind]context.CancelFunc // the kinds still listening
	started time.Time
	waiting map[Kind]bool      // kinds whose first batch has not arrived
	pending map[Kind]bool      // kinds whose first batch is not applied
	beats   map[Kind]time.Time // last heartbeat per kind
	buffer  []batchMsg         // batches that arrived before promotion
	// chainStart is when the first of the starting generations that
	// replaced one another started.
	chainStart time.Time
	// held keeps messages batches until the members' first batch is
	// applied, so a new user's memberships are known before their messages.
	held []Batch
	// retainedDocs and retainedBytes estimate the messages listener's
	// result set, which the client library keeps in memory.
	retainedDocs, retainedBytes int
}

// stop ends the generation's listeners of the given kinds (all if none).
func (g *generation) stop(kinds ...Kind) {
	if len(kinds) == 0 {
		kinds = slices.Collect(maps.Keys(g.stops))
	}
	for _, k := range kinds {
		if cancel := g.stops[k]; cancel != nil {
			cancel()
			delete(g.stops, k)
		}
	}
}

// userQueue is a served user's inputs in arrival order. The head is
// stepped until its reads are in; nothing behind it goes out before it.
type userQueue struct {
	uid          string
	feed         *userFeed
	inbox        []input
	got          readResults // reads done for the head
	reading      bool
	messagesSeen bool // a first messages batch covering the user was applied
	ctx          context.Context
	cancel       context.CancelFunc // ends the user's reads when dropped
}

// Mailbox messages.
type (
	addKey    struct{ s *sub }
	removeKey struct{ s *sub }
	batchMsg  struct {
		gen  int64
		kind Kind
		b    Batch
	}
	listenErr struct {
		gen  int64
		kind Kind
		err  error
	}
	readDone struct {
		q   *userQueue
		got readResults
	}
	readFailed struct { // the head's reads failed for ReadFailFor
		q   *userQueue
		err error
	}
	retire struct{} // the shard has no keys left: end
)

func newShard(n *Node, users bool) *shard {
	return &shard{n: n, users: users, box: mailbox{wake: make(chan struct{}, 1), max: n.opts.MaxMailbox}, subs: map[string]*sub{},
		queues: map[string]*userQueue{}, rooms: map[string]*roomFeed{}}
}

// run is the shard's owner goroutine.
func (sh *shard) run() {
	n := sh.n
	defer n.wg.Done()
	check := time.NewTicker(min(n.opts.HeartbeatInterval, n.opts.FirstSnapshotTimeout) / 2)
	defer check.Stop()
	typing := time.NewTimer(time.Hour)
	typing.Stop()
	defer typing.Stop()
	retry := time.NewTimer(time.Hour)
	retry.Stop()
	defer retry.Stop()
	defer sh.stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-sh.box.wake:
			msgs, shed := sh.box.take()
			if shed {
				sh.behind()
			}
			for _, m := range msgs {
				if _, ok := m.(retire); ok {
					return
				}
				sh.handle(m, retry)
			}
		case <-check.C:
			sh.checkHealth()
		case <-typing.C:
			sh.expireTyping()
		case <-retry.C:
			sh.retrying, sh.dirty = false, true
		}
		switch {
		case len(sh.subs) == 0 && (sh.gen != nil || sh.next != nil):
			sh.stopAll()
		case !sh.dirty || sh.retrying:
		case sh.next == nil:
			sh.restart()
		case time.Since(sh.next.chainStart) < replaceFor:
			// Start over with the new keys too, so a user's first socket
			// waits for one generation, not two; existing users are served
			// by the running one meanwhile. Only for replaceFor: after
			// that the starting one gets to finish, so connect churn
			// cannot starve the new keys.
			chain := sh.next.chainStart
			sh.next.stop()
			sh.next = nil
			sh.restart()
			sh.next.chainStart = chain
		}
		if t := sh.nextTyping(); !t.IsZero() {
			typing.Reset(max(time.Until(t), 0))
		} else {
			typing.Stop()
		}
	}
}

func (sh *shard) handle(m any, retry *time.Timer) {
	switch m := m.(type) {
	case addKey:
		sh.subs[m.s.key] = m.s
		for _, g := range []*generation{sh.gen, sh.next} {
			if g != nil {
				// Back after a removal: the running listeners still match
				// the key but never gave this subscription its baseline.
				delete(g.keys, m.s.key)
			}
		}
		if sh.users {
			sh.queues[m.s.key] = sh.newQueue(m.s.key)
		} else {
			sh.rooms[m.s.key] = newRoomFeed(m.s.key)
		}
		sh.dirty = true
	case removeKey:
		if sh.subs[m.s.key] != m.s {
			return
		}
		delete(sh.subs, m.s.key)
		if q := sh.queues[m.s.key]; q != nil {
			q.cancel()
			delete(sh.queues, m.s.key)
		}
		delete(sh.rooms, m.s.key)
		// A key no longer wanted stays in the running listeners until the
		// next restart, its changes ignored; only an empty shard stops.
		if len(sh.subs) == 0 {
			sh.dirty = true
		}
	case batchMsg:
		sh.onBatch(m)
	case listenErr:
		g := sh.genOf(m.gen)
		if g == nil {
			return
		}
		sh.n.restarts.Add(1)
		sh.backoff = min(max(2*sh.backoff, 100*time.Millisecond), sh.n.opts.MaxBackoff)
		sh.n.log.Warn("listener failed; restarting", "listener", m.kind.String(), "err", m.err.Error(), "retryInMs", sh.backoff.Milliseconds())
		g.stop()
		if g == sh.gen {
			sh.gen = nil // a starting one, if any, takes over when covered
		} else {
			sh.next = nil
		}
		sh.countListeners()
		if sh.next == nil {
			sh.retrying = true
			retry.Reset(sh.backoff)
		}
	case readFailed:
		if sh.queues[m.q.uid] == m.q {
			sh.resync(m.q.uid, "reads failing", m.err)
		}
	case readDone:
		if sh.queues[m.q.uid] != m.q {
			return // dropped meanwhile
		}
		if m.q.got == nil {
			m.q.got = readResults{}
		}
		maps.Copy(m.q.got, m.got)
		m.q.reading = false
		sh.drain(m.q)
	}
}

// restart starts a generation over the live keys, to be promoted once
// covered. Its messages listener starts Margin before the last good batch,
// so what a failed or replaced one missed is in its first batch; the rules
// drop the overlap by seq.
func (sh *shard) restart() {
	n := sh.n
	sh.dirty = false
	sh.genSeq++
	now := time.Now()
	g := &generation{id: sh.genSeq, keys: map[string]bool{}, stops: map[Kind]context.CancelFunc{}, started: now, chainStart: now,
		waiting: map[Kind]bool{}, pending: map[Kind]bool{}, beats: map[Kind]time.Time{}}
	for k := range sh.subs {
		g.keys[k] = true
	}
	g.kinds = []Kind{Typing}
	if sh.users {
		g.kinds = []Kind{Members, Messages, Flips}
	}
	since := sh.lastGood.Add(-n.opts.Margin)
	if sh.lastGood.IsZero() {
		since = time.Now().Add(-n.opts.Margin)
	}
	keys := slices.Sorted(maps.Keys(g.keys))
	for _, kind := range g.kinds {
		g.waiting[kind], g.pending[kind] = true, true
		kctx, cancel := context.WithCancel(n.ctx)
		g.stops[kind] = cancel
		q := Query{Kind: kind, Keys: keys, Since: since}
		id := g.id
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			err := n.src.Listen(kctx, q, func(b Batch) { sh.box.post(batchMsg{gen: id, kind: kind, b: b}) })
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
		sh.gen.stop(Members, Flips, Typing) // from the new generation only
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
		if s := sh.subs[k]; s != nil && !isClosed(s.ready) {
			close(s.ready)
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
	for _, q := range sh.queues {
		q.cancel()
	}
}

// checkHealth replaces a starting generation late with its first
// batches, and starts a successor for a running one that is stalled (no
// heartbeat for StallTimeout on a kind it still listens to) or due for
// rollover. It looks only at state the shard owns, so a hung listener
// cannot stop it.
func (sh *shard) checkHealth() {
	o := sh.n.opts
	now := time.Now()
	if nx := sh.next; nx != nil {
		if now.Sub(nx.started) > o.FirstSnapshotTimeout {
			sh.n.restarts.Add(1)
			sh.n.log.Warn("listener restarting", "reason", "first snapshot late", "keys", len(nx.keys))
			nx.stop()
			sh.next, sh.dirty = nil, true
			sh.countListeners()
		}
		return
	}
	g := sh.gen
	if g == nil {
		return
	}
	reason := ""
	if now.Sub(g.started) > o.Rollover {
		reason = "rollover"
	} else if (g.retainedDocs > o.MaxRetainedDocs || g.retainedBytes > o.MaxRetainedBytes) && now.Sub(g.started) > 2*o.Margin {
		reason = "retained past its bound"
	} else {
		for _, k := range g.kinds {
			last := g.beats[k]
			if last.Before(g.started) {
				last = g.started
			}
			if _, live := g.stops[k]; live && now.Sub(last) > o.StallTimeout {
				reason = "stalled: no heartbeat on " + k.String()
				break
			}
		}
	}
	if reason != "" {
		sh.n.restarts.Add(1)
		sh.n.log.Warn("listener restarting", "reason", reason, "keys", len(g.keys), "retainedDocs", g.retainedDocs, "retainedBytes", g.retainedBytes)
		sh.dirty = true
	}
}

// onBatch buffers a starting generation's batch, promoting it once every
// kind has had its first, or applies a running generation's batch.
func (sh *shard) onBatch(m batchMsg) {
	if g := sh.genOf(m.gen); g != nil && m.kind == Messages {
		for _, c := range m.b.Changes {
			if c.Posted != nil && !c.Removed {
				g.retainedDocs++
				g.retainedBytes += retainedSize(c.Posted)
			}
		}
	}
	switch g := sh.genOf(m.gen); {
	case g == nil:
		return // an old generation's late batch
	case g == sh.next:
		g.buffer = append(g.buffer, m)
		delete(g.waiting, m.kind)
		if len(g.waiting) == 0 {
			sh.promote()
		}
	default:
		sh.apply(g, m)
	}
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
	switch kind {
	case Members:
		sh.onMembers(g, b, first)
	case Messages:
		sh.onMessages(g, b, first)
		if !b.ReadTime.IsZero() {
			sh.lastGood = b.ReadTime
		}
	case Typing:
		sh.onTyping(g, b, first)
	case Flips:
		sh.onFlips(g, b)
	}
}

// onFlips queues each flip for its served audience. A first batch
// holds the flips since the listener's start time (Margin back): a user
// hears of those too, and the rules drop what they were told already.
func (sh *shard) onFlips(g *generation, b Batch) {
	for _, c := range b.Changes {
		f := c.Flip
		if f == nil || c.Removed {
			continue
		}
		for _, uid := range f.Audience {
			if q := sh.queues[uid]; q != nil && g.keys[uid] {
				sh.push(q, input{flip: f})
			}
		}
	}
}

// onMembers queues membership changes for their users. A first batch is
// the whole set of each covered user's memberships.
func (sh *shard) onMembers(g *generation, b Batch, first bool) {
	if first {
		sets := map[string]map[string]Membership{}
		for _, c := range b.Changes {
			if m := c.Membership; m != nil && !c.Removed {
				if sets[m.UserID] == nil {
					sets[m.UserID] = map[string]Membership{}
				}
				sets[m.UserID][m.ChatID] = *m
			}
		}
		for _, uid := range slices.Sorted(maps.Keys(g.keys)) {
			if q := sh.queues[uid]; q != nil {
				set := sets[uid]
				if set == nil {
					set = map[string]Membership{}
				}
				sh.push(q, input{memberSet: set})
			}
		}
		return
	}
	for _, c := range b.Changes {
		m := c.Membership
		if m == nil {
			continue
		}
		// A user added since this generation started is not covered yet:
		// the restart it asked for brings its baseline.
		if q := sh.queues[m.UserID]; q != nil && g.keys[m.UserID] && !q.feed.freshMembers {
			sh.push(q, input{member: m, removed: c.Removed})
		}
	}
}

// onMessages queues each message for its served recipients. In a first
// batch, a new user's messages are a baseline.
func (sh *shard) onMessages(g *generation, b Batch, first bool) {
	for _, c := range b.Changes {
		p := c.Posted
		if p == nil || c.Removed {
			continue
		}
		for _, uid := range p.MemberIDs {
			q := sh.queues[uid]
			if q == nil || !g.keys[uid] {
				continue
			}
			switch {
			case q.messagesSeen:
				sh.push(q, input{posted: p.Message})
			case first:
				sh.push(q, input{posted: p.Message, baseline: true})
			}
		}
	}
	if first {
		for uid := range g.keys {
			if q := sh.queues[uid]; q != nil {
				q.messagesSeen = true
			}
		}
	}
}

// push queues an input for a user and delivers what can go out. A user
// whose queue is full is resynced instead.
func (sh *shard) push(q *userQueue, in input) {
	if len(q.inbox) >= sh.n.opts.MaxPendingEvents {
		sh.resync(q.uid, "too many pending events", nil)
		return
	}
	q.inbox = append(q.inbox, in)
	sh.drain(q)
}

// drain steps the user's inputs in order until one needs reads, which are
// then fetched; their result comes back as readDone.
func (sh *shard) drain(q *userQueue) {
	for len(q.inbox) > 0 && !q.reading {
		evs, need := q.feed.step(q.inbox[0], q.got)
		if need != nil {
			q.reading = true
			sh.fetch(q, need)
			return
		}
		sh.deliver(evs)
		q.inbox[0] = input{}
		q.inbox = q.inbox[1:]
		q.got = nil
	}
}

// fetch does reads for a user's head input in a goroutine of its own,
// retrying a failure with capped backoff until it succeeds, the user is
// dropped, or it has failed for ReadFailFor (then the user is resynced): a
// transient error delays events, never loses them.
func (sh *shard) fetch(q *userQueue, need []read) {
	n := sh.n
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		got := readResults{}
		wait := 100 * time.Millisecond
		var failingSince time.Time
		for {
			var err error
			for _, r := range need {
				if _, ok := got[r]; ok {
					continue
				}
				var v any
				if v, err = n.read(q.ctx, q.uid, r); err != nil {
					break
				}
				got[r] = v
			}
			if err == nil {
				sh.box.post(readDone{q: q, got: got})
				return
			}
			if q.ctx.Err() != nil {
				return
			}
			if failingSince.IsZero() {
				failingSince = time.Now()
			} else if time.Since(failingSince) > n.opts.ReadFailFor {
				sh.box.post(readFailed{q: q, err: err})
				return
			}
			n.log.Warn("read failed; retrying", "user", q.uid, "err", err.Error(), "retryInMs", wait.Milliseconds())
			t := time.NewTimer(wait)
			select {
			case <-q.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, n.opts.MaxBackoff)
		}
	}()
}

func (sh *shard) deliver(evs []chat.Event) {
	for _, ev := range evs {
		sh.n.sink.Deliver(ev)
	}
}

// onTyping applies typing entries to the shard's rooms.
func (sh *shard) onTyping(g *generation, b Batch, first bool) {
	now := time.Now()
	if first {
		sets := map[string]map[string]TypingEntry{}
		for _, c := range b.Changes {
			if t := c.Typing; t != nil && !c.Removed {
				if sets[t.Typing.ChatID] == nil {
					sets[t.Typing.ChatID] = map[string]TypingEntry{}
				}
				sets[t.Typing.ChatID][t.Typing.UserID] = *t
			}
		}
		for _, cid := range slices.Sorted(maps.Keys(g.keys)) {
			if r := sh.rooms[cid]; r != nil {
				sh.deliver(r.reconcile(sets[cid], now))
			}
		}
		return
	}
	for _, c := range b.Changes {
		t := c.Typing
		if t == nil {
			continue
		}
		r := sh.rooms[t.Typing.ChatID]
		if r == nil || r.fresh || !g.keys[r.chatID] {
			continue
		}
		if c.Removed {
			sh.deliver(r.gone(t.Typing.UserID))
		} else {
			sh.deliver(r.seen(*t, now))
		}
	}
}

func (sh *shard) expireTyping() {
	now := time.Now()
	for _, cid := range slices.Sorted(maps.Keys(sh.rooms)) {
		sh.deliver(sh.rooms[cid].expire(now))
	}
}

func (sh *shard) nextTyping() time.Time {
	var t time.Time
	for _, r := range sh.rooms {
		if nx := r.next(); !nx.IsZero() && (t.IsZero() || nx.Before(t)) {
			t = nx
		}
	}
	return t
}

// mailbox is the queue of messages to a shard's goroutine. Posting never
// blocks, so it may be done under the registry's lock and from listener
// callbacks. Listener batches past max are shed (shed is then set): the
// shard resyncs its users. Every other message is bounded by the keys and
// reads of the shard, and always kept.
type mailbox struct {
	wake chan struct{} // signalled when q becomes non-empty
	max  int           // batches kept at most

	mu      sync.Mutex // guards q, batches, shed
	q       []any
	batches int  // listener batches in q
	shed    bool // a batch was shed since the last take
}

func (m *mailbox) post(v any) {
	m.mu.Lock()
	if _, ok := v.(batchMsg); ok {
		if m.batches >= m.max {
			m.shed = true
			m.mu.Unlock()
			return
		}
		m.batches++
	}
	m.q = append(m.q, v)
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// take empties the mailbox; shed tells that batches were dropped.
func (m *mailbox) take() (q []any, shed bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	q, shed = m.q, m.shed
	m.q, m.batches, m.shed = nil, 0, false
	return q, shed
}
