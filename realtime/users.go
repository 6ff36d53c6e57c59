package realtime

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/chatapp/chat"
)

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

// The user router's messages: a head's reads done, or failing too long.
type (
	readDone struct {
		u   *userRouter
		q   *userQueue
		got readResults
	}
	readFailed struct {
		u   *userRouter
		q   *userQueue
		err error
	}
)

func (m readDone) handle(*shard)   { m.u.onRead(m.q, m.got) }
func (m readFailed) handle(*shard) { m.u.onReadFailed(m.q, m.err) }

// userRouter turns a user shard's memberships, messages and presence flips
// into each served user's events, through the delivery rules (rules.go).
//
// What it keeps is bounded (Options.MaxPendingEvents, ReadFailFor). A user
// whose events cannot be kept is resynced: their queue is dropped, they
// leave the running listeners' keys so that the next generation gives them
// a fresh baseline, and the sink is told to disconnect their sockets here;
// their clients reconnect and catch up from storage (the contract's
// `?after=`), so nothing is lost, only delayed.
type userRouter struct {
	sh     *shard
	queues map[string]*userQueue
}

func newUserRouter(sh *shard) *userRouter {
	return &userRouter{sh: sh, queues: map[string]*userQueue{}}
}

func (u *userRouter) kinds() []Kind     { return []Kind{Members, Messages, Flips} }
func (u *userRouter) due() time.Time    { return time.Time{} }
func (u *userRouter) tick(time.Time)    {}
func (u *userRouter) add(uid string)    { u.queues[uid] = u.newQueue(uid) }
func (u *userRouter) remove(uid string) { u.drop(uid) }

func (u *userRouter) newQueue(uid string) *userQueue {
	ctx, cancel := context.WithCancel(u.sh.env.ctx)
	return &userQueue{uid: uid, feed: newUserFeed(uid, time.Now().Add(-u.sh.env.opts.Margin)), ctx: ctx, cancel: cancel}
}

func (u *userRouter) drop(uid string) {
	if q := u.queues[uid]; q != nil {
		q.cancel()
		delete(u.queues, uid)
	}
}

func (u *userRouter) close() {
	for _, q := range u.queues {
		q.cancel()
	}
}

func (u *userRouter) apply(g *generation, kind Kind, b Batch, first bool) {
	switch kind {
	case Members:
		u.onMembers(g, b, first)
	case Messages:
		u.onMessages(g, b, first)
	case Flips:
		u.onFlips(g, b)
	}
}

// onFlips queues each flip for its served audience. A first batch
// holds the flips since the listener's start time (Margin back): a user
// hears of those too, and the rules drop what they were told already.
func (u *userRouter) onFlips(g *generation, b Batch) {
	for _, c := range b.Changes {
		f := c.Flip
		if f == nil || c.Removed {
			continue
		}
		for _, uid := range f.Audience {
			if q := u.queues[uid]; q != nil && g.keys[uid] {
				u.push(q, input{flip: f})
			}
		}
	}
}

// onMembers queues membership changes for their users. A first batch is
// the whole set of each covered user's memberships.
func (u *userRouter) onMembers(g *generation, b Batch, first bool) {
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
			if q := u.queues[uid]; q != nil {
				set := sets[uid]
				if set == nil {
					set = map[string]Membership{}
				}
				u.push(q, input{memberSet: set})
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
		if q := u.queues[m.UserID]; q != nil && g.keys[m.UserID] && q.feed.hasMembers() {
			u.push(q, input{member: m, removed: c.Removed})
		}
	}
}

// onMessages queues each message for its served recipients. In a first
// batch, a new user's messages are a baseline.
func (u *userRouter) onMessages(g *generation, b Batch, first bool) {
	for _, c := range b.Changes {
		p := c.Posted
		if p == nil || c.Removed {
			continue
		}
		for _, uid := range p.MemberIDs {
			q := u.queues[uid]
			if q == nil || !g.keys[uid] {
				continue
			}
			switch {
			case q.messagesSeen:
				u.push(q, input{posted: p.Message, changed: p.Changed, last: p.Last})
			case first:
				u.push(q, input{posted: p.Message, changed: p.Changed, baseline: true})
			}
		}
	}
	if first {
		for uid := range g.keys {
			if q := u.queues[uid]; q != nil {
				q.messagesSeen = true
			}
		}
	}
}

// push queues an input for a user and delivers what can go out. A user
// whose queue is full is resynced instead.
func (u *userRouter) push(q *userQueue, in input) {
	if len(q.inbox) >= u.sh.env.opts.MaxPendingEvents {
		u.resync(q.uid, "too many pending events", nil)
		return
	}
	q.inbox = append(q.inbox, in)
	u.drain(q)
}

// drain steps the user's inputs in order until one needs reads, which are
// then fetched; their result comes back as readDone.
func (u *userRouter) drain(q *userQueue) {
	for len(q.inbox) > 0 && !q.reading {
		evs, need := q.feed.step(q.inbox[0], q.got)
		if need != nil {
			q.reading = true
			u.fetch(q, need)
			return
		}
		u.sh.deliver(evs)
		q.inbox[0] = input{}
		q.inbox = q.inbox[1:]
		q.got = nil
	}
}

func (u *userRouter) onRead(q *userQueue, got readResults) {
	if u.queues[q.uid] != q {
		return // dropped meanwhile
	}
	if q.got == nil {
		q.got = readResults{}
	}
	maps.Copy(q.got, got)
	q.reading = false
	u.drain(q)
}

func (u *userRouter) onReadFailed(q *userQueue, err error) {
	if u.queues[q.uid] == q {
		u.resync(q.uid, "reads failing", err)
	}
}

// fetch does reads for a user's head input in a goroutine of its own,
// retrying a failure with capped backoff until it succeeds, the user is
// dropped, or it has failed for ReadFailFor (then the user is resynced): a
// transient error delays events, never loses them.
func (u *userRouter) fetch(q *userQueue, need []read) {
	e := u.sh.env
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
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
				if v, err = e.read(q.ctx, q.uid, r); err != nil {
					break
				}
				got[r] = v
			}
			if err == nil {
				u.sh.box.post(readDone{u: u, q: q, got: got})
				return
			}
			if q.ctx.Err() != nil {
				return
			}
			if failingSince.IsZero() {
				failingSince = time.Now()
			} else if time.Since(failingSince) > e.opts.ReadFailFor {
				u.sh.box.post(readFailed{u: u, q: q, err: err})
				return
			}
			e.log.Warn("read failed; retrying", "user", q.uid, "err", err.Error(), "retryInMs", wait.Milliseconds())
			t := time.NewTimer(wait)
			select {
			case <-q.ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait = min(2*wait, e.opts.MaxBackoff)
		}
	}()
}

// resync drops what is kept for uid and has its sockets here
// disconnected. err, if any, is the failure that caused it.
func (u *userRouter) resync(uid, reason string, err error) {
	old := u.queues[uid]
	if old == nil {
		return
	}
	old.cancel()
	u.queues[uid] = u.newQueue(uid)
	u.sh.rebase(uid)
	if s := u.sh.subs[uid]; s != nil {
		s.rearm() // a socket that reconnects waits for the fresh baseline
	}
	u.sh.env.resyncs.Add(1)
	attrs := []any{"user", uid, "reason", reason, "pending", len(old.inbox)}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	u.sh.env.log.Warn("user's events dropped; disconnecting their sockets to resync", attrs...)
	u.sh.env.sink.Deliver(chat.Event{Kind: chat.EventResync, UserID: uid})
}

func (u *userRouter) resyncAll() {
	for _, uid := range slices.Sorted(maps.Keys(u.queues)) {
		u.resync(uid, "engine behind", nil)
	}
}
