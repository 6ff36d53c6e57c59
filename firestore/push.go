package firestore

import (
	"context"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// Push notifications start on the send path: an offline member has no
// instance watching for them. Each chat has one to-do, pushes/{chatId},
// read and written by every send batch of the chat (in the batch's one
// round trip and one commit, conditional on its version): the first send
// after the to-do was handled sets `since` and `due` (since + delay). The
// instance that committed it handles it at `due` (a timer); a sweeper on
// every instance handles to-dos past due that nobody did (the instance
// died), under a lease, so that several sweepers push once. Handling
// reads the chat and its members, pushes the newest message to every
// member who has not read it, and records per member what was pushed:
// one push per message and device, except when an instance dies between
// FCM's answer and that record (then one repeat, with the same tag).

// pushDoc is pushes/{chatId}.
type pushDoc struct {
	ChatID string `firestore:"chatId"`
	// Seq is the chat's newest message when a batch last wrote; Done, the
	// seq handled up to.
	Seq  int64 `firestore:"seq"`
	Done int64 `firestore:"done"`
	// Since is when the oldest message not yet handled was sent; Due,
	// when it is to be handled: nil when nothing is owed.
	Since *time.Time `firestore:"since"`
	Due   *time.Time `firestore:"due"`
	// Pushed is per member the seq last pushed and when.
	Pushed map[string]pushedDoc `firestore:"pushed"`
	// LeaseOwner holds the to-do until LeaseUntil while it handles it.
	LeaseOwner string     `firestore:"leaseOwner"`
	LeaseUntil *time.Time `firestore:"leaseUntil"`
	ExpireAt   time.Time  `firestore:"expireAt"` // TTL: a chat quiet for a month
}

type pushedDoc struct {
	Seq int64     `firestore:"seq"`
	At  time.Time `firestore:"at"`
}

const (
	// pushLease bounds how long one instance holds a to-do it handles;
	// pushTimeout, one handling (below the lease, so it never outlives it).
	pushLease   = 30 * time.Second
	pushTimeout = 20 * time.Second
	// pushSweepGrace is how long past due a to-do waits for its own
	// instance's timer before sweepers take it.
	pushSweepGrace = 5 * time.Second
	pushTTL        = 30 * 24 * time.Hour
)

func (db *DB) pushRef(chatID string) *firestore.DocumentRef {
	return db.client.Collection("pushes").Doc(chatID)
}

// PushOptions configure a Pusher.
type PushOptions struct {
	// Delay is how long after a message an unread member is pushed
	// (PUSH_DELAY, 10 s by default).
	Delay time.Duration
	// WebAppURL makes each push's web link (WEB_APP_URL/?chat=id); links
	// are left out unless it is https (FCM refuses others).
	WebAppURL string
	// Owner names this instance in leases.
	Owner string
}

// Pusher sends the pushes owed by to-dos. Its timers and the handlings
// they start are its own: Close stops the timers and waits for the
// handlings (Sweep runs on its caller's goroutine).
type Pusher struct {
	db     *DB
	sender chat.PushSender
	opts   PushOptions
	stop   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup // handlings started by timers

	mu     sync.Mutex             // guards timers, closed
	timers map[string]*time.Timer // chat → its to-do's handling here
	closed bool
}

// NewPusher returns a Pusher sending through sender.
func NewPusher(db *DB, sender chat.PushSender, opts PushOptions) *Pusher {
	if opts.Delay <= 0 {
		opts.Delay = 10 * time.Second
	}
	p := &Pusher{db: db, sender: sender, opts: opts, timers: map[string]*time.Timer{}}
	p.stop, p.cancel = context.WithCancel(context.Background())
	return p
}

// Close stops the timers and waits for handlings under way.
func (p *Pusher) Close() {
	p.mu.Lock()
	p.closed = true
	for _, t := range p.timers {
		t.Stop()
	}
	p.timers = map[string]*time.Timer{}
	p.mu.Unlock()
	p.cancel()
	p.wg.Wait()
}

// schedule handles the chat's to-do at due on this instance (once: a
// timer already set is earlier).
func (p *Pusher) schedule(chatID string, due time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.timers[chatID] != nil {
		return
	}
	p.timers[chatID] = time.AfterFunc(time.Until(due), func() {
		p.mu.Lock()
		delete(p.timers, chatID)
		if p.closed {
			p.mu.Unlock()
			return
		}
		p.wg.Add(1) // under mu: never after Close began to wait
		p.mu.Unlock()
		defer p.wg.Done()
		p.run(chatID)
	})
}

// run handles one to-do, on a deadline of its own.
func (p *Pusher) run(chatID string) {
	ctx, cancel := context.WithTimeout(p.stop, pushTimeout)
	defer cancel()
	if err := p.handle(ctx, chatID); err != nil && p.stop.Err() == nil {
		p.db.Log.Warn("push failed; the sweeper will try again", "chat", chatID, "err", err.Error())
	}
}

// Sweep handles the to-dos past due that no instance handled: their
// instance died, or its handling failed. Every instance runs it.
func (p *Pusher) Sweep(ctx context.Context) error {
	snaps, err := p.db.query(qPushesDue, nil, p.db.now().Add(-pushSweepGrace)).Limit(100).Documents(ctx).GetAll()
	if err != nil {
		return err
	}
	for _, s := range snaps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		hctx, cancel := context.WithTimeout(ctx, pushTimeout)
		err := p.handle(hctx, s.Ref.ID)
		cancel()
		if err != nil {
			p.db.Log.Warn("push sweep failed", "chat", s.Ref.ID, "err", err.Error())
		}
	}
	return nil
}

// writeTodo adds the batch's write of the chat's to-do to b (conditional
// on the version the batch read) and returns the due it set, if any.
func (p *Pusher) writeTodo(b *firestore.WriteBatch, chatID string, pre *batchRead, seq int64, now time.Time) *time.Time {
	ref := p.db.pushRef(chatID)
	var due *time.Time
	if pre.push == nil || pre.push.Due == nil {
		d := now.Add(p.opts.Delay)
		due = &d
	}
	if pre.push == nil {
		// A Set, not a Create: only a batch of the chat makes the to-do, and
		// another that made it meanwhile moved the chat, whose condition
		// then fails this one (a Create would fail first, and as a key's
		// AlreadyExists, which sends treat as a clientMessageId taken).
		b.Set(ref, pushDoc{ChatID: chatID, Seq: seq, Since: &now, Due: due, ExpireAt: now.Add(pushTTL)})
	} else {
		ups := []firestore.Update{{Path: "seq", Value: seq}, {Path: "expireAt", Value: now.Add(pushTTL)}}
		if due != nil {
			ups = append(ups, firestore.Update{Path: "since", Value: now}, firestore.Update{Path: "due", Value: *due})
		}
		b.Update(ref, ups, firestore.LastUpdateTime(pre.pushVersion))
	}
	return due
}
