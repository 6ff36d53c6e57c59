package firestore

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.ExportService = (*ExportService)(nil)

// exportPage is how many documents an export holds at once.
const exportPage = 500

// ExportService implements chat.ExportService.
type ExportService struct {
	db    *DB
	users *UserService
}

// NewExportService returns an ExportService on db.
func NewExportService(db *DB, users *UserService) *ExportService {
	return &ExportService{db: db, users: users}
}

// Export implements chat.ExportService. The once-a-minute limit lives on
// the profile (exportAt), checked and set in one transaction: it holds
// across instances for one read and one write.
func (s *ExportService) Export(ctx context.Context, emit func(chat.ExportItem) error) error {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	me, err := s.users.ensure(ctx, id)
	if err != nil {
		return translate(err)
	}
	if err := s.spend(ctx, id.UID); err != nil {
		return err
	}
	if err := emit(chat.ExportItem{Me: me}); err != nil {
		return err
	}
	chats, err := s.chats(ctx, id.UID, emit)
	if err != nil {
		return err
	}
	for _, chatID := range chats {
		if err := s.messages(ctx, chatID, id.UID, emit); err != nil {
			return err
		}
	}
	return nil
}

// spend takes the user's export for this minute, or refuses it.
func (s *ExportService) spend(ctx context.Context, uid string) error {
	ref := s.db.userRef(uid)
	return translate(s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		now := s.db.now()
		if at, ok := snap.Data()["exportAt"].(time.Time); ok && now.Sub(at) < chat.ExportEvery {
			return chat.Errorf(chat.ERATELIMITED, "You can export your data once a minute; try again shortly.")
		}
		return tx.Update(ref, []firestore.Update{{Path: "exportAt", Value: now}})
	}))
}

// chats emits every chat of the user, a page at a time, and returns their
// ids (one short string per chat: the messages follow chat by chat).
func (s *ExportService) chats(ctx context.Context, uid string, emit func(chat.ExportItem) error) ([]string, error) {
	var ids []string
	// activityAt is the query's order: a page starts after the last one's.
	base := s.db.query(qChatsOfUser, nil, uid).Select("isGroup", "name", "joined", "activityAt").Limit(exportPage)
	q := base
	for {
		snaps, err := q.Documents(ctx).GetAll()
		if err != nil {
			return nil, translate(err)
		}
		for _, snap := range snaps {
			var d chatDoc
			if err := snap.DataTo(&d); err != nil {
				return nil, translate(err)
			}
			ids = append(ids, snap.Ref.ID)
			c := &chat.ExportChat{ID: snap.Ref.ID, IsGroup: d.IsGroup, Name: d.Name, JoinedAt: d.Joined[uid].UTC()}
			if err := emit(chat.ExportItem{Chat: c}); err != nil {
				return nil, err
			}
		}
		if len(snaps) < exportPage {
			return ids, nil
		}
		last := snaps[len(snaps)-1]
		q = base.StartAfter(last)
	}
}

// messages emits the messages uid sent in a chat, oldest first.
func (s *ExportService) messages(ctx context.Context, chatID, uid string, emit func(chat.ExportItem) error) error {
	var after int64
	for {
		snaps, err := s.db.query(qMessagesBySender, s.db.chatRef(chatID), uid, after).Limit(exportPage).Documents(ctx).GetAll()
		if err != nil {
			return translate(err)
		}
		for _, snap := range snaps {
			var m messageDoc
			if err := snap.DataTo(&m); err != nil {
				return translate(err)
			}
			after = m.Seq
			if err := emit(chat.ExportItem{Message: m.toMessage(snap.Ref.ID)}); err != nil {
				return err
			}
		}
		if len(snaps) < exportPage {
			return nil
		}
	}
}
