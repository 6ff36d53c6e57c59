package firestore

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.MessageService = (*MessageService)(nil)

// MessageService implements chat.MessageService.
type MessageService struct {
	db    *DB
	files chat.FileStore
	lanes *lanes
}

var _ chat.FileService = (*MessageService)(nil)

// NewMessageService returns a MessageService on db keeping attachments in
// files.
func NewMessageService(db *DB, files chat.FileStore) *MessageService {
	return &MessageService{db: db, files: files, lanes: newLanes()}
}

// SendMessage implements chat.MessageService. It reads the chat (its
// lastSeq) and commits the message, the chat's lastSeq/lastMessage, the
// sender's read marker and the idempotency key in one atomic batch,
// conditional on the chat being unchanged since it was read. Seqs are
// therefore gapless, and the same clientMessageId sent to two instances at
// once yields one message (the key is created with a must-not-exist
// precondition).
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
	random := rand.Text()[:8]
	var keyRef *firestore.DocumentRef
	if in.ClientMessageID != "" {
		keyRef = s.db.clientIDRef(chatID, id.UID, in.ClientMessageID)
	}
	var up *upload
	var err error
	if in.File != nil {
		// Before any byte is stored: the caller is a member, and a retry
		// of a send already stored gets its message without a second
		// upload.
		if _, err = s.db.chatOf(ctx, nil, chatID, id.UID); err != nil {
			return nil, false, translate(err)
		}
		if keyRef != nil {
			if m, err := s.byKey(ctx, chatID, id.UID, keyRef); m != nil || err != nil {
				return m, false, err
			}
		}
		if up, err = s.store(ctx, chatID, in.File); err != nil {
			return nil, false, err
		}
	}
	msg, created, err := s.send(ctx, chatID, id, random, in, keyRef, up)
	if up != nil && !created {
		s.discard(ctx, up) // keeps the object if the message did commit
	}
	return msg, created, err
}

// send stores the message, its file already uploaded (up) or none.
func (s *MessageService) send(ctx context.Context, chatID string, id chat.Identity, random string, in chat.MessageCreate, keyRef *firestore.DocumentRef, up *upload) (*chat.Message, bool, error) {
	uid := id.UID
	// Sends to one chat contend for its document; queueing them here
	// leaves at most one send per chat per instance racing the others'
	// instances, instead of many that fail their preconditions and retry.
	release, err := s.lanes.acquire(ctx, chatID)
	if err != nil {
		return nil, false, err
	}
	defer release()
	pre, err := s.readForSend(ctx, chatID, uid, keyRef)
	if err != nil {
		return nil, false, translate(err)
	}
	if pre.keyExists {
		if m, err := s.byKey(ctx, chatID, uid, keyRef); m != nil || err != nil {
			return m, false, err
		}
	}
	username := id.Name
	if pre.username != "" {
		username = pre.username
	}
	// Optimistic concurrency instead of a transaction: read the chat, then
	// commit every write at once on the condition that the chat is still
	// the version read. Two RPCs, no locks held between them; a send that
	// lost the race to another instance reads again and takes the next seq.
	//
	// A failed commit may still have been applied: the client library
	// retries Commit on Unavailable (the retry then fails a precondition:
	// the chat's version, or the message's or key's must-not-exist) and a
	// server can cancel a call it has done. So after any storage failure
	// the attempt's message is looked up by its id: found, it is the
	// answer, and a retry never stores the message twice.
	for attempt := 0; attempt < txAttempts; attempt++ {
		msg, mid, err := s.commit(ctx, chatID, uid, username, random, in, keyRef, up, pre.chat)
		pre.chat = nil // a retry reads the chat again
		if err == nil {
			return msg, true, nil
		}
		if mid == "" || ctx.Err() != nil || chat.ErrorCode(err) != chat.EINTERNAL {
			return nil, false, translate(err) // not a commit failure: nothing was written
		}
		if m, err := s.byID(ctx, chatID, mid); err != nil || m != nil {
			return m, m != nil, translate(err)
		}
		switch {
		case status.Code(err) == codes.FailedPrecondition, retryable(err):
			continue // the chat moved on (another message took this seq), or a transient failure
		case keyRef != nil && isAlreadyExists(err):
			// The same clientMessageId committed first elsewhere: the key's
			// must-not-exist precondition turned this one away.
			m, err := s.byKey(ctx, chatID, uid, keyRef)
			if m == nil && err == nil {
				err = fmt.Errorf("idempotency key %s exists without its message", keyRef.ID)
			}
			return m, false, translate(err)
		default:
			return nil, false, translate(err)
		}
	}
	return nil, false, chat.Errorf(chat.ECONFLICT, "The chat is too busy to take the message now; retry.")
}

// commit makes one attempt at storing a message: the message, the chat's
// lastSeq/lastMessage (conditional on the version read), the sender's read
// marker and the idempotency key, in one atomic batch.
func (s *MessageService) commit(ctx context.Context, chatID, uid, username, random string, in chat.MessageCreate, keyRef *firestore.DocumentRef, up *upload, pre *chatRead) (*chat.Message, string, error) {
	if pre == nil {
		d, version, err := s.db.chatVersion(ctx, nil, chatID, uid)
		if err != nil {
			return nil, "", err
		}
		pre = &chatRead{doc: d, version: version}
	}
	d, version := pre.doc, pre.version
	now := s.db.now()
	if d.LastMessage != nil && now.Before(d.LastMessage.CreatedAt) {
		now = d.LastMessage.CreatedAt // never earlier than its predecessor
	}
	seq := d.LastSeq + 1
	mid := messageID(seq, random)
	m := messageDoc{
		ChatID: chatID, Seq: seq, SenderID: uid, SenderUsername: username, Content: in.Content,
		CreatedAt: now, ClientMessageID: in.ClientMessageID, MemberIDs: slices.Clone(d.MemberIDs),
	}
	if up != nil {
		m.FileURL, m.FileName = chat.FileURL(chatID, up.fileID), up.name
	}
	last := m
	last.ID, last.MemberIDs = mid, nil
	b := s.db.client.Batch()
	b.Create(s.db.messages(chatID).Doc(mid), m)
	b.Update(s.db.chatRef(chatID), []firestore.Update{
		{Path: "lastSeq", Value: seq}, {Path: "lastMessage", Value: last}, {Path: "activityAt", Value: now},
	}, firestore.LastUpdateTime(version))
	// Sending marks the chat read for the sender.
	b.Update(s.db.memberRef(chatID, uid), []firestore.Update{{Path: "readSeq", Value: seq}})
	if keyRef != nil {
		b.Create(keyRef, map[string]any{"messageId": mid})
	}
	if up != nil {
		// Only while nobody has given the upload up (see upload.go).
		b.Delete(up.todo, firestore.LastUpdateTime(up.written))
	}
	if _, err := b.Commit(ctx); err != nil {
		return nil, mid, err
	}
	return m.toMessage(mid), mid, nil
}

// chatRead is a chat as read, and its version.
type chatRead struct {
	doc     *chatDoc
	version time.Time
}

// sendRead is what a send's first attempt needs, read in one round trip.
type sendRead struct {
	chat      *chatRead
	username  string // the sender's, "" without a profile
	keyExists bool   // the clientMessageId was used: answer its message
}

// readForSend reads the chat (with the caller's membership and the version
// the commit is conditional on), the sender's profile (the name the
// message carries) and the idempotency key in one BatchGetDocuments
// instead of three calls: the send's latency is its round trips.
func (s *MessageService) readForSend(ctx context.Context, chatID, uid string, keyRef *firestore.DocumentRef) (*sendRead, error) {
	refs := []*firestore.DocumentRef{s.db.chatRef(chatID), s.db.userRef(uid)}
	if keyRef != nil {
		refs = append(refs, keyRef)
	}
	snaps, err := s.db.client.GetAll(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := &sendRead{keyExists: keyRef != nil && snaps[2].Exists()}
	if snaps[1].Exists() {
		out.username = toUser(snaps[1], uid).Username
	}
	if !snaps[0].Exists() {
		return nil, errChatNotFound()
	}
	var d chatDoc
	if err := snaps[0].DataTo(&d); err != nil {
		return nil, err
	}
	if !slices.Contains(d.MemberIDs, uid) {
		return nil, errChatNotFound()
	}
	out.chat = &chatRead{doc: &d, version: snaps[0].UpdateTime}
	return out, nil
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
	if f.Before != "" && f.After != "" {
		return nil, "", chat.Errorf(chat.EINVALID, "Give before or after, not both.")
	}
	var cursor int64
	for _, c := range []string{f.Before, f.After} {
		if c != "" {
			if cursor, err = seqOf(c); err != nil {
				return nil, "", err
			}
		}
	}
	if _, _, err := s.db.member(ctx, nil, chatID, uid); err != nil {
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
	snaps, err := q.Limit(limit + 1).Documents(ctx).GetAll()
	if err != nil {
		return nil, "", translate(err)
	}
	more := len(snaps) > limit
	if more {
		snaps = snaps[:limit]
	}
	msgs := make([]*chat.Message, len(snaps))
	for i, snap := range snaps {
		var m messageDoc
		if err := snap.DataTo(&m); err != nil {
			return nil, "", translate(err)
		}
		msgs[i] = m.toMessage(snap.Ref.ID)
	}
	if f.After == "" {
		slices.Reverse(msgs) // pages are oldest first
	}
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
