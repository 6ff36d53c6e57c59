package firestore

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"sync"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.MessageService = (*MessageService)(nil)

// MessageService implements chat.MessageService.
type MessageService struct {
	db      *DB
	files   chat.FileStore
	queue   *sendQueue
	uploads *uploadSlots
	// refreshes runs the quote refreshes after their change's answer:
	// Close cancels stop and waits for them.
	refreshes sync.WaitGroup
	stop      context.Context
	cancel    context.CancelFunc
	// push, when set, has every send batch keep its chat's push to-do.
	push *Pusher
}

// PushWith makes the service's sends owe pushes to p's handling. It is
// called once, before the service serves.
func (s *MessageService) PushWith(p *Pusher) { s.push = p }

var _ chat.FileService = (*MessageService)(nil)

// NewMessageService returns a MessageService on db keeping attachments in
// files.
func NewMessageService(db *DB, files chat.FileStore) *MessageService {
	s := &MessageService{db: db, files: files, uploads: newUploadSlots()}
	s.stop, s.cancel = context.WithCancel(context.Background())
	s.queue = newSendQueue(s.commitBatch)
	return s
}

// SendMessage implements chat.MessageService. The sends waiting for one
// chat commit together: the chat (its lastSeq) is read, then the messages,
// the chat's lastSeq/lastMessage, the senders' read markers and the
// idempotency keys commit in one atomic batch, conditional on the chat
// being unchanged since it was read. Seqs are therefore gapless, and the
// same clientMessageId sent to two instances at once yields one message
// (the key is created with a must-not-exist precondition). A chat over its
// floor (30 msg/s, bursts of 60) whose queue is full is refused with
// ERATELIMITED.
func (s *MessageService) SendMessage(ctx context.Context, chatID string, in chat.MessageCreate) (*chat.Message, bool, error) {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return nil, false, chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	if err := chat.ValidateID("Chat id", chatID); err != nil {
		return nil, false, err
	}
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	return s.sendValid(ctx, chatID, id, in)
}

// sendValid is SendMessage past its checks of the input.
func (s *MessageService) sendValid(ctx context.Context, chatID string, id chat.Identity, in chat.MessageCreate) (*chat.Message, bool, error) {
	random := rand.Text()[:8]
	keyRef, serverKey := s.db.clientIDRef(chatID, id.UID, in.ClientMessageID), false
	if in.ClientMessageID == "" {
		// A key of the request's own: a commit that failed but landed is
		// found by it when the batch is tried again, never stored twice.
		keyRef, serverKey = s.db.serverKeyRef(chatID, id.UID, random), true
	}
	var up *upload
	var err error
	if in.File != nil {
		// Before any byte is stored: the caller is a member, and a retry
		// of a send already stored gets its message without a second
		// upload.
		doc, err := s.db.chatOf(ctx, nil, chatID, id.UID)
		if err != nil {
			return nil, false, translate(err)
		}
		s.queue.learn(chatID, doc.MemberIDs)
		if !serverKey {
			if m, err := s.byKey(ctx, chatID, id.UID, keyRef); m != nil || err != nil {
				return m, false, err
			}
		}
		release, err := s.uploads.take(id.UID)
		if err != nil {
			return nil, false, err
		}
		defer release()
		if up, err = s.store(ctx, chatID, in.File); err != nil {
			return nil, false, err
		}
	}
	p := &pendingSend{ctx: ctx, id: id, random: random, in: in, keyRef: keyRef, serverKey: serverKey, up: up, done: make(chan sendResult, 1)}
	msg, created, err := s.send(ctx, chatID, p)
	if up != nil && !created {
		s.discard(ctx, up) // keeps the object if the message did commit
	}
	return msg, created, err
}

// checkMember refuses a sender who is not in the chat's member list as
// last read here (read again now, as they may have just been added) before
// the send counts against the chat's floor or takes a place in its queue.
func (s *MessageService) checkMember(ctx context.Context, chatID, uid string) error {
	if known, member := s.queue.membership(chatID, uid); !known || member {
		return nil
	}
	doc, err := s.db.chatOf(ctx, nil, chatID, uid)
	if err != nil {
		return translate(err)
	}
	s.queue.learn(chatID, doc.MemberIDs)
	return nil
}

// send queues p, its file already uploaded or none, for its chat's next
// batch (see sendqueue.go) and waits for the answer.
func (s *MessageService) send(ctx context.Context, chatID string, p *pendingSend) (*chat.Message, bool, error) {
	if p.change == nil || !p.change.system {
		if err := s.checkMember(ctx, chatID, p.id.UID); err != nil {
			return nil, false, err
		}
	}
	if err := s.queue.add(chatID, p); err != nil {
		return nil, false, err
	}
	select {
	case r := <-p.done:
		return r.msg, r.created, r.err
	case <-ctx.Done():
		// The batch may still store it: a retry with the same
		// clientMessageId then gets it, and an upload given up (by
		// SendMessage) can no longer commit.
		return nil, false, ctx.Err()
	}
}

// byID returns a message of the chat by id, nil if there is none.
func (s *MessageService) byID(ctx context.Context, chatID, mid string) (*chat.Message, error) {
	m, _, err := getDoc[messageDoc](ctx, nil, s.db.messages(chatID).Doc(mid))
	if err != nil || m == nil {
		return nil, err
	}
	return m.toMessage(mid), nil
}

// byKey returns the message an idempotency key points to, nil if the key
// does not exist. The caller must still be a member to get it.
func (s *MessageService) byKey(ctx context.Context, chatID, uid string, keyRef *firestore.DocumentRef) (*chat.Message, error) {
	snap, err := keyRef.Get(ctx)
	if isNotFound(err) {
		return nil, nil
	} else if err != nil {
		return nil, translate(err)
	}
	if _, err := s.db.chatOf(ctx, nil, chatID, uid); err != nil {
		return nil, translate(err)
	}
	mid, _ := snap.Data()["messageId"].(string)
	m, err := s.byID(ctx, chatID, mid)
	if err == nil && m == nil {
		err = fmt.Errorf("idempotency key %s names a missing message", keyRef.ID)
	}
	return m, translate(err)
}

// FindMessages implements chat.MessageService.
func (s *MessageService) FindMessages(ctx context.Context, chatID string, f chat.MessageFilter) ([]*chat.Message, string, error) {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return nil, "", err
	}
	limit, err := chat.PageLimit(f.Limit, chat.DefaultPageLimit, chat.MaxPageLimit)
	if err != nil {
		return nil, "", err
	}
	if f.Before != "" && f.After != "" || f.ChangedAfter != "" && (f.Before != "" || f.After != "") {
		return nil, "", chat.Errorf(chat.EINVALID, "Give one of before, after and changedAfter.")
	}
	if f.ChangedAfter != "" {
		return s.changedAfter(ctx, chatID, uid, f.ChangedAfter, limit)
	}
	var cursor int64
	for _, c := range []string{f.Before, f.After} {
		if c != "" {
			if cursor, err = seqOf(c); err != nil {
				return nil, "", err
			}
		}
	}
	doc, _, err := s.db.member(ctx, nil, chatID, uid)
	if err != nil {
		return nil, "", translate(err)
	}
	chatRef := s.db.chatRef(chatID)
	var q firestore.Query
	if f.After != "" {
		q = s.db.query(qMessagesAfter, chatRef, cursor)
	} else if f.Before != "" {
		q = s.db.query(qMessagesBefore, chatRef, cursor)
	} else {
		q = s.db.query(qMessagesLatest, chatRef)
	}
	msgs, more, err := page(ctx, q, limit)
	if err != nil {
		return nil, "", err
	}
	if f.After == "" {
		slices.Reverse(msgs) // pages are oldest first
	}
	chat.MaskDeleted(msgs, doc.DeletedUsers)
	next := ""
	if more && len(msgs) > 0 {
		if f.After != "" {
			next = msgs[len(msgs)-1].ID
		} else {
			next = msgs[0].ID
		}
	}
	return msgs, next, nil
}

// changedAfter pages the messages of a chat whose rev is greater than
// after, by rev.
func (s *MessageService) changedAfter(ctx context.Context, chatID, uid string, after chat.Rev, limit int) ([]*chat.Message, string, error) {
	rev, err := parseRev(after)
	if err != nil {
		return nil, "", err
	}
	doc, _, err := s.db.member(ctx, nil, chatID, uid)
	if err != nil {
		return nil, "", translate(err)
	}
	msgs, more, err := page(ctx, s.db.query(qMessagesChangedAfter, s.db.chatRef(chatID), rev), limit)
	if err != nil {
		return nil, "", err
	}
	chat.MaskDeleted(msgs, doc.DeletedUsers)
	next := ""
	if more && len(msgs) > 0 {
		next = string(msgs[len(msgs)-1].Rev)
	}
	return msgs, next, nil
}

// page runs q for up to limit messages, in its order, and tells whether
// more follow (one more is read to know).
func page(ctx context.Context, q firestore.Query, limit int) ([]*chat.Message, bool, error) {
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return nil, false, translate(err)
	}
	more := len(snaps) > limit
	if more {
		snaps = snaps[:limit]
	}
	msgs := make([]*chat.Message, len(snaps))
	for i, snap := range snaps {
		var m messageDoc
		if err := snap.DataTo(&m); err != nil {
			return nil, false, translate(err)
		}
		msgs[i] = m.toMessage(snap.Ref.ID)
	}
	return msgs, more, nil
}
