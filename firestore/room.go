package firestore

import (
	"context"
	"sync"
	"time"

	"github.com/chatapp/chat"
)

var _ chat.RoomService = (*RoomService)(nil)

// TypingTTL is how long typing lasts after the user's last `typing`.
const TypingTTL = 8 * time.Second

// typingRefresh is how often a user who keeps typing rewrites the typing
// document to push its expiry on: clients repeat `typing` every keystroke
// burst, and the document should see about one write per 2 s, not one per
// keystroke.
const typingRefresh = 2 * time.Second

// RoomService implements chat.RoomService.
type RoomService struct {
	db    *DB
	chats *ChatService

	mu      sync.Mutex           // guards written
	written map[string]time.Time // chat+user → last typing write
}

// NewRoomService returns a RoomService on db.
func NewRoomService(db *DB, chats *ChatService) *RoomService {
	return &RoomService{db: db, chats: chats, written: map[string]time.Time{}}
}

// JoinChat implements chat.RoomService: a member opening the chat has read it.
func (s *RoomService) JoinChat(ctx context.Context, chatID string) error {
	return s.chats.MarkRead(ctx, chatID)
}

// CheckMember implements chat.RoomService.
func (s *RoomService) CheckMember(ctx context.Context, chatID string) error {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return err
	}
	_, err = s.db.chatOf(ctx, nil, chatID, uid)
	return translate(err)
}

// SetTyping implements chat.RoomService. Every instance with the chat's
// room open listens to the typing documents and expires them by `until`
// itself, so an instance that dies mid-typing leaves no stuck indicator.
// Only a member may type: the check is made here, whatever the transport
// checked before.
func (s *RoomService) SetTyping(ctx context.Context, chatID string, typing bool) error {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	if err := chat.ValidateID("Chat id", chatID); err != nil {
		return err
	}
	key := chatID + "\x00" + id.UID
	ref := s.db.chatRef(chatID).Collection("typing").Doc(id.UID)
	now := s.db.Now()
	s.mu.Lock()
	last, seen := s.written[key]
	if typing && seen && now.Sub(last) < typingRefresh {
		s.mu.Unlock()
		return nil // written moments ago by a member: still valid
	}
	if !typing {
		delete(s.written, key)
	}
	for k, t := range s.written { // forget long-stale entries
		if now.Sub(t) > time.Minute {
			delete(s.written, k)
		}
	}
	s.mu.Unlock()
	if !typing {
		// Ending typing needs no membership: a removed member's entry must
		// still go.
		_, err := ref.Delete(ctx)
		return translate(err)
	}
	if _, err := s.db.chatOf(ctx, nil, chatID, id.UID); err != nil {
		return translate(err)
	}
	username := id.Name
	if u, err := s.db.getUsers(ctx, []string{id.UID}); err == nil && u[id.UID] != nil {
		username = u[id.UID].Username
	}
	if _, err := ref.Set(ctx, typingDoc{ChatID: chatID, UserID: id.UID, Username: username, Until: now.Add(TypingTTL)}); err != nil {
		return translate(err)
	}
	s.mu.Lock()
	s.written[key] = now
	s.mu.Unlock()
	return nil
}
