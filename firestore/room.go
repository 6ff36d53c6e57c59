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
	wg    sync.WaitGroup // deferred typing writes in flight

	mu      sync.Mutex         // guards typists, closed
	typists map[string]*typist // chat+user → what was written
	closed  bool
}

// typist is one user's typing in one chat as this instance writes it.
// Writes of a typist are at most one per typingRefresh, stopTyping
// included: a change inside the window is deferred to its end and written
// then if it is still the latest state, so alternating typing/stopTyping
// costs one write per window, and no change of state is dropped.
type typist struct {
	id        chat.Identity
	chatID    string
	want      bool        // the latest state asked for
	written   bool        // the state last written
	lastWrite time.Time   // zero: never, or the last write failed
	timer     *time.Timer // a deferred write, while set
}

// NewRoomService returns a RoomService on db.
func NewRoomService(db *DB, chats *ChatService) *RoomService {
	return &RoomService{db: db, chats: chats, typists: map[string]*typist{}}
}

// Close stops deferred typing writes and waits for those under way.
func (s *RoomService) Close() {
	s.mu.Lock()
	s.closed = true
	for _, t := range s.typists {
		if t.timer != nil && t.timer.Stop() {
			t.timer = nil
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
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
	now := s.db.Now()
	s.mu.Lock()
	t := s.typists[key]
	if t == nil {
		t = &typist{chatID: chatID}
		s.typists[key] = t
	}
	t.id, t.want = id, typing
	if t.timer != nil || !t.due(now) {
		s.mu.Unlock()
		return nil // nothing to write, or the deferred write will do it
	}
	if wait := t.lastWrite.Add(typingRefresh).Sub(now); wait > 0 {
		if !s.closed {
			t.timer = time.AfterFunc(wait, func() { s.flush(key) })
		}
		s.mu.Unlock()
		return nil
	}
	t.written, t.lastWrite = typing, now
	s.sweep(now)
	s.mu.Unlock()
	return s.write(ctx, key, t, id, chatID, typing, now)
}

// due tells whether the typist's latest state needs a write: it differs
// from what was written, or typing goes on and its expiry must move.
func (t *typist) due(now time.Time) bool {
	return t.want != t.written || (t.want && now.Sub(t.lastWrite) >= typingRefresh)
}

// flush makes a deferred write, on a context of its own: the socket that
// asked for it may be gone.
func (s *RoomService) flush(key string) {
	now := s.db.Now()
	s.mu.Lock()
	t := s.typists[key]
	if t == nil || s.closed {
		s.mu.Unlock()
		return
	}
	t.timer = nil
	if !t.due(now) {
		s.mu.Unlock()
		return
	}
	t.written, t.lastWrite = t.want, now
	id, chatID, typing := t.id, t.chatID, t.want
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.write(ctx, key, t, id, chatID, typing, now)
}

// write sets or deletes the typing document. A failed write is forgotten
// (lastWrite zero), so the next call writes at once.
func (s *RoomService) write(ctx context.Context, key string, t *typist, id chat.Identity, chatID string, typing bool, now time.Time) error {
	ref := s.db.chatRef(chatID).Collection("typing").Doc(id.UID)
	var err error
	if typing {
		// Only a member's typing is written; the check is made with every
		// write, deferred ones included (a member may have been removed).
		d, err := s.db.chatOf(ctx, nil, chatID, id.UID)
		if err != nil {
			s.forget(key, t, typing)
			return translate(err)
		}
		username := id.Name
		var me *chat.User
		if u, uerr := s.db.getUsers(ctx, []string{id.UID}); uerr == nil && u[id.UID] != nil {
			me = u[id.UID]
			username = me.Username
		}
		// Members in a block with the typist do not see it (rewritten with
		// every refresh, so a block or unblock shows within one).
		except, err := s.db.keptFrom(ctx, id.UID, me, d.MemberIDs)
		if err != nil {
			s.forget(key, t, typing)
			return translate(err)
		}
		_, err = ref.Set(ctx, typingDoc{ChatID: chatID, UserID: id.UID, Username: username, Until: now.Add(TypingTTL), Except: except})
	} else {
		// Ending typing needs no membership: a removed member's entry must
		// still go.
		_, err = ref.Delete(ctx)
	}
	if err != nil {
		s.forget(key, t, typing)
	}
	return translate(err)
}

// forget records that a write of typing did not happen.
func (s *RoomService) forget(key string, t *typist, typing bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.typists[key] == t {
		t.lastWrite, t.written = time.Time{}, !typing
	}
}

// sweep forgets typists idle for a minute (s.mu held).
func (s *RoomService) sweep(now time.Time) {
	if len(s.typists) < 1024 {
		return
	}
	for k, t := range s.typists {
		if t.timer == nil && !t.written && now.Sub(t.lastWrite) > time.Minute {
			delete(s.typists, k)
		}
	}
}
