// Package presence turns this instance's sockets into sessions, users'
// online status and the instance's lease: grace timers, one writer per
// user, lease renewal and sweep loops. Storage is behind SessionStore.
package presence

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/chatapp/chat"
)

// SessionStore is the storage side of presence: a user's session on this
// instance, the instance's lease, and the sweep that ends the sessions of
// instances whose lease expired. The Firestore adapter implements it.
type SessionStore interface {
	// Connect records uid's session on this instance (the user goes
	// online if no session existed anywhere), begun at at.
	Connect(ctx context.Context, uid string, at time.Time) error
	// Disconnect ends uid's session here; if it was their last anywhere,
	// the user goes offline with lastSeen at.
	Disconnect(ctx context.Context, uid string, at time.Time) error
	// Renew extends this instance's lease by ttl; lost reports that the
	// lease had been taken by a sweeper (its sessions ended).
	Renew(ctx context.Context, ttl time.Duration) (lost bool, err error)
	// Release ends the lease at shutdown: the sockets closed at at, and
	// its sessions end grace later, by whichever instance sweeps.
	Release(ctx context.Context, at time.Time, grace time.Duration) error
	// Sweep ends the sessions of expired leases; it returns how many.
	Sweep(ctx context.Context) (int, error)
}

// Options time presence; zero values take the defaults, which
// are the contract's.
type Options struct {
	// Grace is how long after a user's last socket here closes the
	// session ends, unless a socket comes back (default 5 s).
	Grace time.Duration
	// LeaseTTL is how long a lease outlives its last renewal (default
	// 20 s): an instance killed outright is swept that long after its
	// last renewal, plus up to SweepEvery.
	LeaseTTL time.Duration
	// RenewEvery renews the lease (default LeaseTTL/3).
	RenewEvery time.Duration
	// SweepEvery looks for expired leases (default 5 s).
	SweepEvery time.Duration
	// MinWriteGap spaces one user's session writes (default 1 s): a
	// client that reconnects in a loop costs at most one write a second.
	MinWriteGap time.Duration
	// Timeout bounds each storage call (default 10 s).
	Timeout time.Duration
	Logger  *slog.Logger
}

// def sets an unset (zero) duration to its default.
func def(d *time.Duration, v time.Duration) {
	if *d == 0 {
		*d = v
	}
}

func (o *Options) defaults() {
	def(&o.Grace, 5*time.Second)
	def(&o.LeaseTTL, 20*time.Second)
	def(&o.RenewEvery, o.LeaseTTL/3)
	def(&o.SweepEvery, 5*time.Second)
	def(&o.MinWriteGap, time.Second)
	def(&o.Timeout, 10*time.Second)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

var _ chat.PresenceTracker = (*Presence)(nil)

// Presence turns this instance's sockets into sessions: a user's first
// socket here records a session at once; after their last closes, the
// session ends Grace later unless a socket came back meanwhile (a reload
// or a second device writes nothing). Each user's writes run one at a
// time in a goroutine of their own, at most one per MinWriteGap, and
// always towards the latest wanted state, so flapping coalesces. Presence
// also renews the instance's lease and sweeps expired ones.
//
// mu guards users and closed; the goroutines (writers, lease and sweep
// loops) are owned by Presence and end with Close.
type Presence struct {
	store     SessionStore
	opts      Options
	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once

	mu     sync.Mutex
	users  map[string]*presenceUser
	closed bool
}

// presenceUser is one user's sockets here and their session's state.
type presenceUser struct {
	sockets  int
	openedAt time.Time   // when the first socket of this run opened
	closedAt time.Time   // when the last socket closed
	grace    *time.Timer // running while sockets == 0 and want
	want     bool        // the session should exist: a socket is open or in grace
	have     bool        // the session is recorded
	writing  bool
}

// NewPresence starts presence for an instance: the lease is taken (one
// attempt bounded by Timeout; the loop retries), and the sweep loop ends
// the sessions of expired leases at once (an instance starting after a
// crash cleans up after it).
func New(store SessionStore, opts Options) *Presence {
	opts.defaults()
	ctx, cancel := context.WithCancel(context.Background())
	p := &Presence{store: store, opts: opts, ctx: ctx, cancel: cancel, users: map[string]*presenceUser{}}
	p.renew() // before any socket: a session is never without its lease
	p.wg.Add(2)
	go p.loop(opts.RenewEvery, false, p.renew)
	go p.loop(opts.SweepEvery, true, p.sweep)
	return p
}

// SocketOpened implements chat.PresenceTracker.
func (p *Presence) SocketOpened(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[uid]
	if u == nil {
		u = &presenceUser{}
		p.users[uid] = u
	}
	u.sockets++
	if u.grace != nil {
		u.grace.Stop()
		u.grace = nil
	}
	if !u.want {
		u.want, u.openedAt = true, time.Now()
	}
	p.kick(uid, u)
}

// SocketClosed implements chat.PresenceTracker.
func (p *Presence) SocketClosed(uid string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	u := p.users[uid]
	if u == nil || u.sockets == 0 {
		return
	}
	u.sockets--
	if u.sockets > 0 || p.closed {
		return
	}
	u.closedAt = time.Now()
	var t *time.Timer
	// The callback takes p.mu, held here until t is stored: it always sees
	// its own timer, and one stopped or replaced meanwhile does nothing.
	t = time.AfterFunc(p.opts.Grace, func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		if u.grace == t {
			u.grace, u.want = nil, false
			p.kick(uid, u)
		}
	})
	u.grace = t
}

// kick starts a write towards the wanted state if none is running, or
// forgets a user with nothing left to do. p.mu is held.
func (p *Presence) kick(uid string, u *presenceUser) {
	if u.writing || p.closed {
		return
	}
	if u.want == u.have {
		if !u.want { // no socket, no grace, no session: nothing to keep
			delete(p.users, uid)
		}
		return
	}
	u.writing = true
	want, at := u.want, u.closedAt
	if want {
		at = u.openedAt
	}
	p.wg.Add(1)
	go p.write(uid, u, want, at)
}

// write records one session change, retrying with capped backoff until
// it is done or presence closes, then waits MinWriteGap before the next.
func (p *Presence) write(uid string, u *presenceUser, want bool, at time.Time) {
	defer p.wg.Done()
	wait := 100 * time.Millisecond
	for {
		ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
		var err error
		if want {
			err = p.store.Connect(ctx, uid, at)
		} else {
			err = p.store.Disconnect(ctx, uid, at)
		}
		cancel()
		if err == nil {
			break
		}
		if p.ctx.Err() != nil {
			return
		}
		p.opts.Logger.Warn("presence write failed; retrying", "user", uid, "online", want, "err", err.Error(), "retryInMs", wait.Milliseconds())
		if !p.sleep(wait) {
			return
		}
		wait = min(2*wait, 5*time.Second)
	}
	p.mu.Lock()
	u.have = want
	p.mu.Unlock()
	if !p.sleep(p.opts.MinWriteGap) {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	u.writing = false
	p.kick(uid, u)
}

// sleep waits d; false if presence closed meanwhile.
func (p *Presence) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// loop runs f every every (first at once if now), until Close.
func (p *Presence) loop(every time.Duration, now bool, f func()) {
	defer p.wg.Done()
	if now {
		f()
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-t.C:
			f()
		}
	}
}

// renew extends the lease. If a sweeper had taken it, the sessions it
// ended are recorded again.
func (p *Presence) renew() {
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
	defer cancel()
	lost, err := p.store.Renew(ctx, p.opts.LeaseTTL)
	if err != nil {
		if p.ctx.Err() == nil {
			p.opts.Logger.Warn("lease renewal failed", "err", err.Error())
		}
		return
	}
	if !lost {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, uid := range slices.Sorted(maps.Keys(p.users)) {
		if u := p.users[uid]; u.have {
			u.have = false
			p.kick(uid, u)
			n++
		}
	}
	p.opts.Logger.Warn("lease was lost; sessions recorded again", "users", n)
}

func (p *Presence) sweep() {
	ctx, cancel := context.WithTimeout(p.ctx, 4*p.opts.Timeout)
	defer cancel()
	if n, err := p.store.Sweep(ctx); err != nil && p.ctx.Err() == nil {
		p.opts.Logger.Warn("session sweep failed", "err", err.Error())
	} else if n > 0 {
		p.opts.Logger.Info("sessions of expired instances ended", "sessions", n)
	}
}

// Close stops presence at shutdown, after the sockets closed at closedAt:
// the lease is released so that the sessions still recorded end Grace
// after closedAt, by a live instance or the next one to start. Later
// calls do nothing.
func (p *Presence) Close(ctx context.Context, closedAt time.Time) {
	p.closeOnce.Do(func() { p.close(ctx, closedAt) })
}

func (p *Presence) close(ctx context.Context, closedAt time.Time) {
	p.mu.Lock()
	p.closed = true
	for _, u := range p.users {
		if u.grace != nil {
			u.grace.Stop()
		}
	}
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
	if err := p.store.Release(ctx, closedAt, p.opts.Grace); err != nil {
		p.opts.Logger.Warn("lease release failed; the lease expires on its own", "err", err.Error())
	}
}
