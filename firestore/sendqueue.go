package firestore

import (
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/chatapp/chat"
)

// Sends to one chat contend for its document: every message moves the
// chat's lastSeq, and a commit is conditional on the version it read. One
// send at a time per chat caps a busy group at one message per round trip
// (docs/performance.md, P1b). So the sends
// that arrive for a chat while one of its batches is in flight wait in the
// chat's queue and commit together in the next batch: one read, one
// commit, whatever their number.
const (
	// maxBatch caps the sends one commit carries: ≤ 3 writes each plus one
	// per sender, well under Firestore's 500 writes and 10 MiB a commit.
	maxBatch = 100
	// maxWaiting is the queue length from which a chat over its floor is
	// refused: a full batch is already waiting, so the store is not
	// keeping up and a further send would only wait longer.
	maxWaiting = maxBatch
	// floorRate and floorBurst are the contract's per-chat floor: a chat
	// sending under it is never refused, however long its queue.
	floorRate  = 30
	floorBurst = 60
	// queueIdle is how long an idle chat's floor bucket is kept before it
	// is dropped (only when full: dropping it then changes nothing).
	queueIdle = time.Minute
)

// sendQueue groups the sends waiting for each chat on this instance and runs
// one goroutine per chat with sends waiting; it ends when the chat's queue
// is empty, so no goroutine outlives its work and each batch has a
// deadline (batchTimeout).
type sendQueue struct {
	commit func(chatID string, batch []*pendingSend) // stores a batch and answers each send

	mu    sync.Mutex
	chats map[string]*chatSends // guarded by mu
	swept time.Time             // guarded by mu: the last sweep of idle chats
}

// chatSends is one chat's queue; every field is guarded by sendQueue.mu.
type chatSends struct {
	waiting []*pendingSend
	running bool          // a goroutine is committing this chat's batches
	floor   *rate.Limiter // the chat's send rate against the floor
	used    time.Time
	// members is the chat's member list as last read (by a batch or by a
	// send's own check), nil before: a sender in it, or any sender while it
	// is unknown, is queued at once; anyone else is checked first, so a
	// non-member spends the chat's floor and a batch slot at most once per
	// time the chat is forgotten (queueIdle), and members pay no extra read.
	// A member removed since is still refused by the batch.
	members map[string]bool
}

func newSendQueue(commit func(string, []*pendingSend)) *sendQueue {
	return &sendQueue{commit: commit, chats: map[string]*chatSends{}}
}

// errChatBusy refuses a send to a chat over both its floor and what the
// store takes: the client retries after Retry-After.
func errChatBusy() error {
	return chat.Errorf(chat.ERATELIMITED, "The chat is too busy to take the message now; retry.")
}

// chat returns chatID's queue, made if needed; q.mu must be held.
func (q *sendQueue) chat(chatID string, now time.Time) *chatSends {
	q.sweep(now)
	c := q.chats[chatID]
	if c == nil {
		c = &chatSends{floor: rate.NewLimiter(floorRate, floorBurst)}
		q.chats[chatID] = c
	}
	c.used = now
	return c
}

// membership tells whether chatID's member list is known on this instance
// and, if so, whether uid was in it when it was last read.
func (q *sendQueue) membership(chatID, uid string) (known, member bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.chats[chatID]
	if c == nil || c.members == nil {
		return false, false
	}
	return true, c.members[uid]
}

// learn records chatID's member list as just read (nil: the chat is gone).
func (q *sendQueue) learn(chatID string, memberIDs []string) {
	members := make(map[string]bool, len(memberIDs))
	for _, id := range memberIDs {
		members[id] = true
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.chat(chatID, time.Now()).members = members
}

// add queues p for its chat, or refuses it when the chat is over its floor
// and a full batch is already waiting.
func (q *sendQueue) add(chatID string, p *pendingSend) error {
	now := time.Now()
	q.mu.Lock()
	defer q.mu.Unlock()
	c := q.chat(chatID, now)
	if !c.floor.AllowN(now, 1) && len(c.waiting) >= maxWaiting {
		return errChatBusy()
	}
	c.waiting = append(c.waiting, p)
	if !c.running {
		c.running = true
		go q.run(chatID, c)
	}
	return nil
}

// run commits the chat's batches until its queue is empty.
func (q *sendQueue) run(chatID string, c *chatSends) {
	for {
		q.mu.Lock()
		batch := c.next()
		if len(batch) == 0 {
			c.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		q.commit(chatID, batch)
	}
}

// next takes the next batch off the queue in arrival order: up to maxBatch
// text sends, or one send with an attachment alone (its commit also
// depends on its upload's to-do, and a failed condition must not fail the
// others' messages). A send repeating a clientMessageId already in the
// batch waits for the next one, where it finds the first's key. Sends
// whose caller has gone are answered and dropped. Edits and deletions
// queue like sends and count against the floor like them.
func (c *chatSends) next() []*pendingSend {
	var batch []*pendingSend
	keys := map[string]bool{}
	i := 0
	for ; i < len(c.waiting) && len(batch) < maxBatch; i++ {
		p := c.waiting[i]
		if err := p.ctx.Err(); err != nil {
			p.answer(nil, false, err)
			continue
		}
		if p.up != nil && len(batch) > 0 {
			break
		}
		if p.keyRef != nil {
			if keys[p.keyRef.Path] {
				break
			}
			keys[p.keyRef.Path] = true
		}
		batch = append(batch, p)
		if p.up != nil {
			i++
			break
		}
	}
	c.waiting = c.waiting[i:]
	if len(c.waiting) == 0 {
		c.waiting = nil // let the old array go
	}
	return batch
}

// sweep drops chats without work whose floor bucket is full again, once a
// minute: a bucket at its burst is what a new one would be.
func (q *sendQueue) sweep(now time.Time) {
	if now.Sub(q.swept) < queueIdle {
		return
	}
	q.swept = now
	for id, c := range q.chats {
		if !c.running && len(c.waiting) == 0 && now.Sub(c.used) >= queueIdle && c.floor.TokensAt(now) >= floorBurst {
			delete(q.chats, id)
		}
	}
}
