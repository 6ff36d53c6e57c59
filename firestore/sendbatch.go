package firestore

import (
	"context"
	"crypto/rand"
	"fmt"
	"maps"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cloud.google.com/go/firestore"
	gax "github.com/googleapis/gax-go/v2"

	"github.com/chatapp/chat"
)

const (
	// txAttempts is how often a batch whose chat moved on between its read
	// and its write is tried before its sends are refused as busy: several
	// instances may write one chat at once.
	txAttempts = 12
	// retryInitial and retryMax bound the pause before a batch's next
	// attempt (full jitter, doubling): instances that lost the same race
	// spread out instead of colliding again, and 12 attempts still fit in
	// batchTimeout.
	retryInitial = 10 * time.Millisecond
	retryMax     = time.Second
	// batchTimeout bounds one batch, all its attempts. It runs on a context
	// of its own: it serves many requests, and none of them owns it.
	batchTimeout = 20 * time.Second
)

// pendingSend is one send waiting in its chat's queue.
type pendingSend struct {
	ctx    context.Context // the request's: a send whose caller left before its batch is dropped
	id     chat.Identity
	random string
	in     chat.MessageCreate
	keyRef *firestore.DocumentRef // the clientMessageId's key, else the request's own
	// serverKey tells that keyRef was made by the server for this request:
	// finding it means this send's own message landed (created).
	serverKey bool
	up        *upload         // nil without an attachment
	done      chan sendResult // buffered: a batch never waits for a caller
	// change, when set, makes this a change of an existing message rather
	// than a send (in is then unused).
	change *pendingChange
	// quote and mentions are a send's, as settle checked them.
	quote    *chat.Quote
	mentions []string
}

type sendResult struct {
	msg     *chat.Message
	created bool
	err     error
}

func (p *pendingSend) answer(m *chat.Message, created bool, err error) {
	p.done <- sendResult{m, created, err}
}

// commitBatch stores a batch of sends to one chat and answers each.
//
// Optimistic concurrency instead of a transaction: read the chat, then
// commit every write at once on the condition that the chat is still the
// version read. Two RPCs for the whole batch, no locks held between them;
// a batch that lost the race to another instance reads again and takes the
// next seqs.
//
// A failed commit may still have been applied: the client library retries
// Commit on Unavailable (the retry then fails a precondition: the chat's
// version, or a message's or key's must-not-exist) and a server can cancel
// a call it has done. So after any storage failure the batch's first
// message is looked up by its id: found, the batch (atomic) is the answer,
// and a retry never stores a message twice.
func (s *MessageService) commitBatch(chatID string, batch []*pendingSend) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	pause := gax.Backoff{Initial: retryInitial, Max: retryMax}
	for attempt := 0; attempt < txAttempts; attempt++ {
		if attempt > 0 {
			if err := gax.Sleep(ctx, pause.Pause()); err != nil {
				break
			}
		}
		batch = live(batch)
		if len(batch) == 0 {
			return
		}
		pre, err := s.readBatch(ctx, chatID, batch)
		if isNotFound(err) || chat.ErrorCode(err) == chat.ENOTFOUND {
			s.queue.learn(chatID, nil)
		}
		if err != nil {
			answerAll(batch, failed("read", err))
			return
		}
		s.queue.learn(chatID, pre.chat.MemberIDs)
		batch = s.settle(ctx, chatID, batch, pre)
		if len(batch) == 0 {
			return
		}
		msgs, err := s.writeBatch(ctx, chatID, batch, pre)
		if err == nil {
			answerStored(batch, msgs)
			if pre.pushDue != nil {
				s.push.schedule(chatID, *pre.pushDue)
			}
			return
		}
		if !s.afterFailedCommit(ctx, chatID, batch, msgs, err) {
			return
		}
	}
	answerAll(batch, errChatBusy())
}

// afterFailedCommit answers the batch whose commit failed with err, or
// tells the caller to try it again (true). A commit that landed after all
// is found by its first item (landed); a chat that moved on or a
// transient failure is tried again; a key committed elsewhere, or a value
// the store refuses, splits the batch so that each send finds out alone.
func (s *MessageService) afterFailedCommit(ctx context.Context, chatID string, batch []*pendingSend, msgs []*chat.Message, err error) (retry bool) {
	if ok, lookErr := s.landed(ctx, chatID, batch[0], msgs[0]); lookErr != nil {
		answerAll(batch, failed("look up after a failed commit ("+err.Error()+")", lookErr))
		return false
	} else if ok { // applied after all
		answerStored(batch, msgs)
		return false
	}
	switch {
	case status.Code(err) == codes.FailedPrecondition, retryable(err):
		return true // the chat moved on (another instance took these seqs), or a transient failure
	case (isAlreadyExists(err) || valueRefused(err)) && len(batch) > 1:
		// A clientMessageId of the batch committed first elsewhere, or a
		// value the store refuses (the edge lets none through; this is
		// defence in depth): one by one, each finds out whether it was its
		// own, and only a faulty send fails.
		for _, p := range batch {
			s.commitBatch(chatID, []*pendingSend{p})
		}
	case isAlreadyExists(err) && batch[0].keyRef != nil:
		s.answerByKey(ctx, chatID, batch[0])
	default:
		answerAll(batch, failed("commit", err))
	}
	return false
}

// answerStored answers each send with its stored message.
func answerStored(batch []*pendingSend, msgs []*chat.Message) {
	for i, p := range batch {
		p.answer(msgs[i], true, nil)
	}
}

// live answers and drops the sends whose caller has gone: an attempt not
// yet made is not made for nobody.
func live(batch []*pendingSend) []*pendingSend {
	return slices.DeleteFunc(batch, func(p *pendingSend) bool {
		if err := p.ctx.Err(); err != nil {
			p.answer(nil, false, err)
			return true
		}
		return false
	})
}

// failed is a storage error of a batch's step, the step named for the
// operator's log; domain errors pass unchanged.
func failed(step string, err error) error {
	if err = translate(err); chat.ErrorCode(err) != chat.EINTERNAL {
		return err
	}
	return fmt.Errorf("send message: %s: %w", step, err)
}

func answerAll(batch []*pendingSend, err error) {
	for _, p := range batch {
		p.answer(nil, false, err)
	}
}

// writeBatch makes one attempt at storing the batch: each sent message
// with its idempotency key (and its upload's to-do deleted), each changed
// message rewritten in place, the chat's lastSeq/lastMessage/lastRev once
// (conditional on the version read) and each sender's read marker once,
// in one atomic commit. Every item takes the chat's next rev in batch
// order. It returns the messages it tried to store, also on failure
// (whether the commit landed is looked up by the first: see landed).
func (s *MessageService) writeBatch(ctx context.Context, chatID string, batch []*pendingSend, pre *batchRead) ([]*chat.Message, error) {
	d := pre.chat
	now := s.db.now()
	if d.LastMessage != nil && now.Before(d.LastMessage.CreatedAt) {
		now = d.LastMessage.CreatedAt // never earlier than its predecessor
	}
	b := s.db.client.Batch()
	msgs := make([]*chat.Message, len(batch))
	readSeq, readID := map[string]int64{}, map[string]string{}
	seq, rev := d.LastSeq, d.nextRev()-1
	sends := 0
	changes := map[string][]*pendingChange{} // by message, in batch order
	for _, p := range batch {
		if p.change == nil {
			sends++
		} else {
			changes[p.change.mid] = append(changes[p.change.mid], p.change)
		}
	}
	token, quoted := rand.Text()[:12], map[string]bool{} // quoted: messages a reply of this batch quotes
	var last *messageDoc
	for i, p := range batch {
		rev++
		if p.change != nil {
			// The chat's newest message stays so only if no send follows.
			isLast := sends == 0 && p.change.doc.Seq == d.LastSeq
			msgs[i] = stampChange(p.change, d.MemberIDs, rev, isLast, token)
			if isLast {
				last = p.change.doc
			}
			continue
		}
		seq++
		last = s.writeSend(b, chatID, p, pre, seq, rev, now)
		readSeq[p.id.UID] = seq // sending marks the chat read for the sender
		readID[p.id.UID] = last.ID
		msgs[i] = last.toMessage(last.ID)
		if p.quote != nil {
			quoted[p.quote.ID] = true
		}
	}
	s.writeChanges(b, chatID, changes, quoted, pre)
	updates := []firestore.Update{{Path: "lastRev", Value: rev}}
	if last != nil {
		copied := *last
		copied.MemberIDs, copied.WasLast, copied.RevAt = nil, false, time.Time{}
		updates = append(updates, firestore.Update{Path: "lastMessage", Value: copied})
	}
	if seq > d.LastSeq {
		updates = append(updates, firestore.Update{Path: "lastSeq", Value: seq}, firestore.Update{Path: "activityAt", Value: now})
	}
	b.Update(s.db.chatRef(chatID), updates, firestore.LastUpdateTime(pre.version))
	pre.pushDue = nil
	if s.push != nil && seq > d.LastSeq {
		pre.pushDue = s.push.writeTodo(b, chatID, pre, seq, now)
	}
	s.writeMarkers(b, chatID, readSeq, readID)
	_, err := b.Commit(ctx)
	return msgs, err
}

// writeMarkers moves each sender's read marker to their last message of
// the batch, without a receipt (receiptAt): a sender has read their own
// message, and no messagesRead says so.
func (s *MessageService) writeMarkers(b *firestore.WriteBatch, chatID string, readSeq map[string]int64, readID map[string]string) {
	for _, uid := range slices.Sorted(maps.Keys(readSeq)) {
		b.Update(s.db.memberRef(chatID, uid), []firestore.Update{{Path: "readSeq", Value: readSeq[uid]},
			{Path: "lastReadId", Value: readID[uid]}, {Path: "lastReadAt", Value: firestore.ServerTimestamp}})
	}
}

// writeSend adds one sent message, its idempotency key and its upload's
// to-do deletion to b, and returns the message (ID set).
func (s *MessageService) writeSend(b *firestore.WriteBatch, chatID string, p *pendingSend, pre *batchRead, seq, rev int64, now time.Time) *messageDoc {
	uid := p.id.UID
	username := p.id.Name
	if n, ok := pre.usernames[uid]; ok && n != "" {
		username = n
	}
	mid := messageID(seq, p.random)
	m := messageDoc{
		ChatID: chatID, Seq: seq, SenderID: uid, SenderUsername: username, Content: p.in.Content,
		CreatedAt: now, ClientMessageID: p.in.ClientMessageID, MemberIDs: slices.Clone(pre.chat.MemberIDs), Rev: rev,
		Mentions: p.mentions,
	}
	if p.quote != nil {
		m.ReplyTo = toQuoteDoc(p.quote)
	}
	if p.up != nil {
		m.FileURL, m.FileName = chat.FileURL(chatID, p.up.fileID), p.up.name
	}
	b.Create(s.db.messages(chatID).Doc(mid), m)
	switch {
	case p.serverKey:
		b.Create(p.keyRef, map[string]any{"messageId": mid, "expireAt": now.Add(serverKeyTTL)})
	case p.keyRef != nil:
		b.Create(p.keyRef, map[string]any{"messageId": mid})
	}
	if p.up != nil {
		// Only while nobody has given the upload up (see upload.go).
		b.Delete(p.up.todo, firestore.LastUpdateTime(p.up.written))
	}
	m.ID = mid
	return &m
}

// retryable tells whether a failed commit may be tried again: the server
// was unavailable or cancelled the call on its own.
func retryable(err error) bool {
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled, codes.Aborted, codes.DeadlineExceeded:
		return true
	}
	return false
}

// valueRefused tells whether a commit failed for a value it carries rather
// than for the store: the client library refuses to send a string that is
// not UTF-8 (Internal, "error while marshaling") and the server answers
// InvalidArgument for a value it cannot take.
func valueRefused(err error) bool {
	switch status.Code(err) {
	case codes.InvalidArgument, codes.Internal:
		return true
	}
	return false
}
