package firestore

import (
	"context"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.ChatService = (*ChatService)(nil)

// ChatService implements chat.ChatService.
type ChatService struct {
	db    *DB
	users *UserService
	files chat.FileStore
	// purges runs the purges of deleted chats after their 204: Close
	// cancels stop and waits for them (what a purge cut off leaves, the
	// sweeper finishes from its to-do).
	purges sync.WaitGroup
	stop   context.Context
	cancel context.CancelFunc
}

// NewChatService returns a ChatService on db; a deleted chat's
// attachments are removed from files.
func NewChatService(db *DB, users *UserService, files chat.FileStore) *ChatService {
	stop, cancel := context.WithCancel(context.Background())
	return &ChatService{db: db, users: users, files: files, stop: stop, cancel: cancel}
}

// callerIn returns the caller's uid after checking the chat id a client
// gave: the preamble of every chat operation.
func callerIn(ctx context.Context, chatID string) (string, error) {
	uid, err := chat.CallerUID(ctx)
	if err != nil {
		return "", err
	}
	return uid, chat.ValidateID("Chat id", chatID)
}

func errChatNotFound() error { return chat.Errorf(chat.ENOTFOUND, "Chat not found.") }

// normalizeUserIDs checks, dedupes and drops the caller from a list of ids.
// A list longer than a group can hold is refused before anything else,
// and the dedupe is linear: a body of 80,000 ids costs no more than its
// decoding.
func normalizeUserIDs(ids []string, caller string) ([]string, error) {
	if len(ids) > chat.MaxGroupMembers {
		return nil, chat.Errorf(chat.EINVALID, "userIds may name at most %d users.", chat.MaxGroupMembers)
	}
	out := make([]string, 0, len(ids))
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		if err := chat.ValidateID("User id", id); err != nil {
			return nil, err
		}
		if id != caller && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// requireProfiles refuses ids with no profile, and (EFORBIDDEN) the whole
// list when the caller and one of them block each other: neither may
// start a direct chat with the other or add the other to a group.
func (s *ChatService) requireProfiles(ctx context.Context, caller string, ids []string) error {
	found, err := s.db.getUsers(ctx, append([]string{caller}, ids...))
	if err != nil {
		return err
	}
	for _, id := range ids {
		if found[id] == nil {
			return chat.Errorf(chat.EINVALID, "User %q does not exist.", id)
		}
	}
	for _, id := range ids {
		if chat.Blocked(found[caller], found[id]) {
			return chat.ErrBlocked()
		}
	}
	return nil
}

// refuseBlockedPair re-checks, inside a direct chat's creating
// transaction, that neither of the pair blocks the other: the block's
// transaction reads the pair's key document this one creates, and this
// one reads the profiles the block writes, so one of the two goes first.
func (s *ChatService) refuseBlockedPair(ctx context.Context, tx *firestore.Transaction, a, b string) error {
	var docs [2]*userDoc
	for i, uid := range []string{a, b} {
		d, _, err := getDoc[userDoc](ctx, tx, s.db.userRef(uid))
		if err != nil {
			return err
		}
		if d == nil {
			return chat.Errorf(chat.EINVALID, "User %q does not exist.", uid)
		}
		docs[i] = d
	}
	if slices.Contains(docs[0].Blocks, b) || slices.Contains(docs[1].Blocks, a) {
		return chat.ErrBlocked()
	}
	return nil
}

// CreateChat implements chat.ChatService.
func (s *ChatService) CreateChat(ctx context.Context, in chat.ChatCreate) (*chat.Chat, bool, error) {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return nil, false, chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	others, err := normalizeUserIDs(in.UserIDs, id.UID)
	if err != nil {
		return nil, false, err
	}
	name, err := chat.ValidateChatName(in.Name)
	if err != nil {
		return nil, false, err
	}
	if err := chat.ValidateProfilePic(in.ProfilePic); err != nil {
		return nil, false, err
	}
	switch {
	case len(others) == 0:
		return nil, false, chat.Errorf(chat.EINVALID, "userIds must name at least one other user.")
	case !in.IsGroup && len(others) != 1:
		return nil, false, chat.Errorf(chat.EINVALID, "A direct chat is with exactly one other user.")
	case !in.IsGroup && (name != "" || in.ProfilePic != ""):
		return nil, false, chat.Errorf(chat.EINVALID, "A direct chat has no name or picture.")
	case len(others)+1 > chat.MaxGroupMembers:
		return nil, false, chat.Errorf(chat.EINVALID, "A group has at most %d members.", chat.MaxGroupMembers)
	}
	if _, err := s.users.ensure(ctx, id); err != nil {
		return nil, false, translate(err)
	}
	if err := s.requireProfiles(ctx, id.UID, others); err != nil {
		return nil, false, translate(err)
	}
	now := s.db.now()
	members := append([]string{id.UID}, others...)
	doc := chatDoc{
		IsGroup: in.IsGroup, Name: name, ProfilePic: in.ProfilePic, CreatedAt: now,
		MemberIDs: members, Joined: map[string]time.Time{}, ActivityAt: now, MetaVersion: 1,
	}
	for _, m := range members {
		doc.Joined[m] = now
	}
	if in.IsGroup {
		doc.CreatorID = id.UID
	}
	ref := s.db.client.Collection("chats").NewDoc()
	create := func(tx *firestore.Transaction) error {
		if err := tx.Create(ref, doc); err != nil {
			return err
		}
		for _, m := range members {
			md := memberDoc{UserID: m, ChatID: ref.ID, JoinedAt: now, MetaVersion: doc.MetaVersion}
			if err := tx.Create(s.db.memberRef(ref.ID, m), md); err != nil {
				return err
			}
		}
		return nil
	}
	if in.IsGroup {
		err := s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error { return create(tx) })
		if err != nil {
			return nil, false, translate(err)
		}
		c, err := s.build(ctx, ref.ID, &doc, id.UID, nil)
		return c, true, translate(err)
	}

	// A direct chat is unique per pair: the pair's key document is created
	// with the chat in one transaction, each write with a must-not-exist
	// precondition. Of racing creates exactly one commits; the others fail
	// with AlreadyExists and answer with its chat. The transaction reads
	// only the pair's profiles (a block racing the create).
	dref := s.db.directRef(id.UID, others[0])
	doc.DirectKey = dref.ID
	for attempt := 0; attempt < 5; attempt++ {
		if snap, err := dref.Get(ctx); err == nil {
			existing, _ := snap.Data()["chatId"].(string)
			c, err := s.FindChat(ctx, existing)
			return c, false, err
		} else if !isNotFound(err) {
			return nil, false, translate(err)
		}
		err = s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if err := s.refuseBlockedPair(ctx, tx, id.UID, others[0]); err != nil {
				return err
			}
			if err := tx.Create(dref, map[string]any{"chatId": ref.ID, "createdAt": now}); err != nil {
				return err
			}
			return create(tx)
		})
		if isAlreadyExists(err) {
			continue // lost the race: the next round reads the winner's chat
		}
		if err != nil {
			return nil, false, translate(err)
		}
		c, err := s.build(ctx, ref.ID, &doc, id.UID, nil)
		return c, true, translate(err)
	}
	return nil, false, chat.Errorf(chat.ECONFLICT, "The chat is being created by another request; retry.")
}

// UpdateChat implements chat.ChatService.
func (s *ChatService) UpdateChat(ctx context.Context, chatID string, upd chat.ChatUpdate) (*chat.Chat, error) {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return nil, err
	}
	if upd.Name != nil {
		name, err := chat.ValidateChatName(*upd.Name)
		if err != nil {
			return nil, err
		}
		upd.Name = &name
	}
	if upd.ProfilePic != nil {
		if err := chat.ValidateProfilePic(*upd.ProfilePic); err != nil {
			return nil, err
		}
	}
	return s.changeGroup(ctx, chatID, uid, "Only a group can be renamed or given a picture.", func(tx *firestore.Transaction, d *chatDoc) error {
		var ups []firestore.Update
		if upd.Name != nil && *upd.Name != d.Name {
			d.Name = *upd.Name
			ups = append(ups, firestore.Update{Path: "name", Value: d.Name})
		}
		if upd.ProfilePic != nil && *upd.ProfilePic != d.ProfilePic {
			d.ProfilePic = *upd.ProfilePic
			ups = append(ups, firestore.Update{Path: "profilePic", Value: d.ProfilePic})
		}
		if len(ups) == 0 {
			return nil
		}
		if err := d.spendMeta(s.db.now(), false); err != nil {
			return err
		}
		return s.bumpMeta(tx, chatID, d, ups)
	})
}

// changeGroup runs change on a group the caller is a member of, in a
// transaction, and renders the group as changed for the caller. A direct
// chat is EINVALID with notGroup.
func (s *ChatService) changeGroup(ctx context.Context, chatID, uid, notGroup string, change func(*firestore.Transaction, *chatDoc) error) (*chat.Chat, error) {
	var doc *chatDoc
	err := s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		d, _, err := s.db.member(ctx, tx, chatID, uid)
		if err != nil {
			return err
		}
		doc = d
		if !d.IsGroup {
			return chat.Errorf(chat.EINVALID, "%s", notGroup)
		}
		return change(tx, d)
	})
	if err != nil {
		return nil, translate(err)
	}
	c, err := s.build(ctx, chatID, doc, uid, nil)
	return c, translate(err)
}

// bumpMeta writes a change of the chat's name, picture, members or creator
// (its bucket already spent: spendMeta) and copies the new MetaVersion to
// every member, whose listeners then emit chatUpdated. Changes are rare and
// limited, so up to 257 writes is the right price for not listening to the
// chat document, which changes with every message.
func (s *ChatService) bumpMeta(tx *firestore.Transaction, chatID string, d *chatDoc, ups []firestore.Update, skip ...string) error {
	d.MetaVersion++
	ups = append(ups, firestore.Update{Path: "metaVersion", Value: d.MetaVersion},
		firestore.Update{Path: "metaTokens", Value: d.MetaTokens}, firestore.Update{Path: "metaAt", Value: d.MetaAt})
	if err := tx.Update(s.db.chatRef(chatID), ups); err != nil {
		return err
	}
	for _, m := range d.MemberIDs {
		if slices.Contains(skip, m) { // written whole by the caller
			continue
		}
		if err := tx.Update(s.db.memberRef(chatID, m), []firestore.Update{{Path: "metaVersion", Value: d.MetaVersion}}); err != nil {
			return err
		}
	}
	return nil
}

// DeleteChat implements chat.ChatService.
func (s *ChatService) DeleteChat(ctx context.Context, chatID string) error {
	if err := s.deleteChat(ctx, chatID); err != nil {
		return err
	}
	s.purgeLater(chatID)
	return nil
}

// deleteChat is DeleteChat without the purge that follows it.
func (s *ChatService) deleteChat(ctx context.Context, chatID string) error {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return err
	}
	err = s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		d, _, err := s.db.member(ctx, tx, chatID, uid)
		if err != nil {
			return err
		}
		if d.IsGroup && d.CreatorID != uid {
			return chat.Errorf(chat.EFORBIDDEN, "Only the group's creator can delete it.")
		}
		return s.deleteInTx(tx, chatID, d)
	})
	return translate(err)
}

// deleteInTx removes the chat and its memberships atomically: from then on
// no listing shows it and every member's listener reports chatDeleted.
func (s *ChatService) deleteInTx(tx *firestore.Transaction, chatID string, d *chatDoc) error {
	if err := tx.Delete(s.db.chatRef(chatID)); err != nil {
		return err
	}
	// The purge's to-do, written with the delete: a purge cut off by a
	// crash is found and finished by SweepPurges.
	if err := tx.Set(s.db.purgeRef(chatID), purgeDoc{ChatID: chatID, At: s.db.now()}); err != nil {
		return err
	}
	if d.DirectKey != "" {
		if err := tx.Delete(s.db.client.Collection("directChats").Doc(d.DirectKey)); err != nil {
			return err
		}
	}
	for _, m := range d.MemberIDs {
		if err := tx.Delete(s.db.memberRef(chatID, m)); err != nil {
			return err
		}
	}
	return nil
}
