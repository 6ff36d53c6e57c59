package firestore

import (
	"context"
	"crypto/rand"
	"fmt"
	"slices"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.MessageService = (*MessageService)(nil)

// MessageService implements chat.MessageService.
type MessageService struct {
	db    *DB
	chats *ChatService
	lanes *lanes
}

// NewMessageService returns a MessageService on db.
func NewMessageService(db *DB, chats *ChatService) *MessageService {
	return &MessageService{db: db, chats: chats, lanes: newLanes()}
}

// SendMessage implements chat.MessageService. One transaction reads the
// chat (its lastSeq), the sender's profile and the idempotency key, then
// writes the message, the chat's lastSeq/lastMessage, the sender's read
// marker and the key. Firestore serialises transactions on the chat
// document, so seqs are gapless and the same clientMessageId sent to two
// instances at once yields one message.
func (s *MessageService) SendMessage(ctx context.Context, chatID string, in chat.MessageCreate) (*chat.Message, bool, error) {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return nil, false, chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	if err := chat.ValidateID("Chat id", chatID); err != nil {
		return nil, false, err
	}
	if in.File != nil {
		return nil, false, chat.Errorf(chat.EINVALID, "File attachments are not supported yet.")
	}
	if err := in.Validate(); err != nil {
		return nil, false, err
	}
	random := rand.Text()[:8]
	// The sender's name is read outside the transaction: it needs no lock,
	// and every read inside one lengthens the contended section.
	username := id.Name
	if u, err := s.chats.users.getUsers(ctx, []string{id.UID}); err != nil {
		return nil, false, translate(err)
	} else if u[id.UID] != nil {
		username = u[id.UID].Username
	}
	// Sends to one chat contend for its document; queueing them here
	// leaves Firestore at most one transaction per chat per instance to
	// arbitrate, instead of many that abort and retry each other.
	release, err := s.lanes.acquire(ctx, chatID)
	if err != nil {
		return nil, false, err
	}
	defer release()
	var keyRef *firestore.DocumentRef
	if in.ClientMessageID != "" {
		keyRef = s.db.clientIDRef(chatID, id.UID, in.ClientMessageID)
		if m, err := s.byKey(ctx, chatID, id.UID, keyRef); m != nil || err != nil {
			return m, false, err
		}
	}
	var out *chat.Message
	created := false
	err = s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		out, created = nil, false
		d, err := s.chats.chatOf(ctx, tx, chatID, id.UID)
		if err != nil {
			return err
		}
		now := s.db.now()
		if d.LastMessage != nil && now.Before(d.LastMessage.CreatedAt) {
			now = d.LastMessage.CreatedAt // never earlier than its predecessor
		}
		seq := d.LastSeq + 1
		mid := messageID(seq, random)
		m := messageDoc{
			ChatID: chatID, Seq: seq, SenderID: id.UID, SenderUsername: username, Content: in.Content,
			CreatedAt: now, ClientMessageID: in.ClientMessageID, MemberIDs: slices.Clone(d.MemberIDs),
		}
		if err := tx.Create(s.db.messages(chatID).Doc(mid), m); err != nil {
			return err
		}
		last := m
		last.ID, last.MemberIDs = mid, nil
		if err := tx.Update(s.db.chatRef(chatID), []firestore.Update{
			{Path: "lastSeq", Value: seq}, {Path: "lastMessage", Value: last}, {Path: "activityAt", Value: now},
		}); err != nil {
			return err
		}
		// Sending marks the chat read for the sender.
		if err := tx.Update(s.db.memberRef(chatID, id.UID), []firestore.Update{{Path: "readSeq", Value: seq}}); err != nil {
			return err
		}
		if keyRef != nil {
			if err := tx.Create(keyRef, map[string]any{"messageId": mid}); err != nil {
				return err
			}
		}
		out, created = m.toMessage(mid), true
		return nil
	}, firestore.MaxAttempts(txAttempts))
	if keyRef != nil && isAlreadyExists(err) {
		// The same clientMessageId committed first on another instance:
		// the key's must-not-exist precondition turned this one away.
		m, err := s.byKey(ctx, chatID, id.UID, keyRef)
		if m == nil && err == nil {
			err = fmt.Errorf("idempotency key %s exists without its message", keyRef.ID)
		}
		return m, false, translate(err)
	}
	if err != nil {
		return nil, false, translate(err)
	}
	return out, created, nil
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
	if _, err := s.chats.chatOf(ctx, nil, chatID, uid); err != nil {
		return nil, translate(err)
	}
	mid, _ := snap.Data()["messageId"].(string)
	msnap, err := s.db.messages(chatID).Doc(mid).Get(ctx)
	if err != nil {
		return nil, translate(err)
	}
	var m messageDoc
	if err := msnap.DataTo(&m); err != nil {
		return nil, translate(err)
	}
	return m.toMessage(mid), nil
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
	if _, _, err := s.chats.member(ctx, nil, chatID, uid); err != nil {
		return nil, "", translate(err)
	}
	col := s.db.messages(chatID)
	var q firestore.Query
	if f.After != "" {
		q = col.Where("seq", ">", cursor).OrderBy("seq", firestore.Asc)
	} else if f.Before != "" {
		q = col.Where("seq", "<", cursor).OrderBy("seq", firestore.Desc)
	} else {
		q = col.OrderBy("seq", firestore.Desc)
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
