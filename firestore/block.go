package firestore

import (
	"context"
	"slices"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.BlockService = (*UserService)(nil)

// A block lives in three places, written in one transaction: the
// blocker's profile (blocks: every chat view and search reads profiles
// anyway), their direct chat with the other (blockedBy: the send batch
// reads and commits conditional on the chat, so a send racing the block
// commits before it or is refused), and a notice in the presence
// collection group that both users' presence listeners match (the engine
// turns it into one presence of the other for each).

// noticeDoc is users/{uid}/presence/{id}: a block or unblock between the
// two users of its audience. Seen holds each one's presence as the other
// may see it from now on, with its flip version: older flips are dropped.
type noticeDoc struct {
	Notice   string                `firestore:"notice"` // "block" or "unblock"
	Audience []string              `firestore:"audience"`
	Seen     map[string]noticeSeen `firestore:"seen"`
	At       time.Time             `firestore:"at"`
	ExpireAt time.Time             `firestore:"expireAt"`
}

// noticeSeen is one user's presence in a notice.
type noticeSeen struct {
	Online   bool       `firestore:"online"`
	LastSeen *time.Time `firestore:"lastSeen"`
	Version  int64      `firestore:"version"`
}

// blockers returns who blocks uid: one query (≥ 1 read).
func (db *DB) blockers(ctx context.Context, uid string) ([]string, error) {
	snaps, err := db.query(qUsersBlocking, nil, uid).Select().Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(snaps))
	for i, s := range snaps {
		out[i] = s.Ref.ID
	}
	return out, nil
}

// keptFrom returns the members of a chat who must not see u's receipts
// or typing: those u blocks (on u's profile, nil when it is gone) and
// those who block u (one query).
func (db *DB) keptFrom(ctx context.Context, uid string, u *chat.User, members []string) ([]string, error) {
	by, err := db.blockers(ctx, uid)
	if err != nil {
		return nil, err
	}
	var blocks []string
	if u != nil {
		blocks = u.Privacy.Blocks
	}
	except := []string{}
	for _, m := range members {
		if m != uid && (slices.Contains(blocks, m) || slices.Contains(by, m)) {
			except = append(except, m)
		}
	}
	return except, nil
}

// FindBlocks implements chat.BlockService: the profiles of whom the
// caller blocks, without presence (a block hides it both ways).
func (s *UserService) FindBlocks(ctx context.Context) ([]*chat.User, error) {
	uid, err := chat.CallerUID(ctx)
	if err != nil {
		return nil, err
	}
	me, err := s.db.getUsers(ctx, []string{uid})
	if err != nil || me[uid] == nil {
		return []*chat.User{}, translate(err)
	}
	ids := me[uid].Privacy.Blocks
	users, err := s.db.getUsers(ctx, ids)
	if err != nil {
		return nil, translate(err)
	}
	out := make([]*chat.User, 0, len(ids))
	for _, id := range ids {
		if u := users[id]; u != nil {
			cp := *u
			cp.Online, cp.LastSeen, cp.Privacy = false, nil, nil
			out = append(out, &cp)
		}
	}
	return out, nil
}

// Block implements chat.BlockService.
func (s *UserService) Block(ctx context.Context, target string) error {
	return s.setBlock(ctx, target, true)
}

// Unblock implements chat.BlockService.
func (s *UserService) Unblock(ctx context.Context, target string) error {
	return s.setBlock(ctx, target, false)
}

// setBlock writes a block (on) or its end in one transaction: the
// caller's profile, their direct chat's blockedBy and the notice.
func (s *UserService) setBlock(ctx context.Context, target string, on bool) error {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	if err := chat.ValidateID("User id", target); err != nil {
		return err
	}
	if target == id.UID {
		return chat.Errorf(chat.EINVALID, "You cannot block yourself.")
	}
	me, err := s.ensure(ctx, id)
	if err != nil {
		return translate(err)
	}
	if slices.Contains(me.Privacy.Blocks, target) == on {
		return nil // as asked already (the transaction checks again)
	}
	// Whether the two share a chat decides whether an unblock shows each
	// the other's presence; read before, outside the transaction (a query
	// of up to 100 chats, for a rare request).
	var share bool
	if !on {
		co, err := s.db.coMembers(ctx, id.UID)
		if err != nil {
			return translate(err)
		}
		share = slices.Contains(co, target)
	}
	dref := s.db.directRef(id.UID, target)
	err = s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		me, _, err := getDoc[userDoc](ctx, tx, s.db.userRef(id.UID))
		if err != nil {
			return err
		}
		other, _, err := getDoc[userDoc](ctx, tx, s.db.userRef(target))
		if err != nil {
			return err
		}
		if me == nil || other == nil {
			return chat.Errorf(chat.EINVALID, "User %q does not exist.", target)
		}
		if slices.Contains(me.Blocks, target) == on {
			return nil // as asked already: no write, no event
		}
		direct, err := s.directChat(ctx, tx, dref)
		if err != nil {
			return err
		}
		blocks := slices.DeleteFunc(slices.Clone(me.Blocks), func(b string) bool { return b == target })
		if on {
			if len(me.Blocks) >= chat.MaxBlocks {
				return chat.Errorf(chat.ECONFLICT, "You can block at most %d users.", chat.MaxBlocks)
			}
			blocks = append(blocks, target)
		}
		return s.writeBlock(tx, id.UID, target, blocks, direct, me, other, on, share)
	})
	return translate(err)
}

// directChat reads the pair's direct chat in tx, "" when they have none.
func (s *UserService) directChat(ctx context.Context, tx *firestore.Transaction, dref *firestore.DocumentRef) (string, error) {
	snap, err := tx.Get(dref)
	if isNotFound(err) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	chatID, _ := snap.Data()["chatId"].(string)
	if d, _, err := getDoc[chatDoc](ctx, tx, s.db.chatRef(chatID)); err != nil || d == nil {
		return "", err
	}
	return chatID, nil
}

// writeBlock adds the block's writes to tx. A notice goes out only when
// what each sees of the other changes: not while the other still blocks.
func (s *UserService) writeBlock(tx *firestore.Transaction, uid, target string, blocks []string, direct string,
	me, other *userDoc, on, share bool) error {
	if err := tx.Update(s.db.userRef(uid), []firestore.Update{{Path: "blocks", Value: blocks}}); err != nil {
		return err
	}
	if direct != "" {
		var op any = firestore.ArrayRemove(uid)
		if on {
			op = firestore.ArrayUnion(uid)
		}
		if err := tx.Update(s.db.chatRef(direct), []firestore.Update{{Path: "blockedBy", Value: op}}); err != nil {
			return err
		}
	}
	if slices.Contains(other.Blocks, uid) {
		return nil
	}
	seen := func(d *userDoc) noticeSeen {
		n := noticeSeen{Version: d.PresenceVersion}
		if !on && share {
			n.Online, n.LastSeen = d.Online, utc(d.LastSeen)
		}
		return n
	}
	kind := "block"
	if !on {
		kind = "unblock"
	}
	now := s.db.now()
	return tx.Create(s.db.userRef(uid).Collection("presence").NewDoc(), noticeDoc{
		Notice: kind, Audience: []string{uid, target}, At: now, ExpireAt: now.Add(presenceTTL),
		Seen: map[string]noticeSeen{uid: seen(me), target: seen(other)},
	})
}

// MuteChat implements chat.ChatService. The mute is the member's own, on
// their membership document: it goes when they leave, and the memberships
// listener of their instances tells their devices (chatMuted).
func (s *ChatService) MuteChat(ctx context.Context, chatID string, until time.Time) error {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return err
	}
	var v *time.Time
	if until.After(s.db.now()) {
		u := until.UTC()
		v = &u
	}
	_, m, err := s.db.member(ctx, nil, chatID, uid)
	if err != nil {
		return translate(err)
	}
	if (m.MutedUntil == nil && v == nil) || (m.MutedUntil != nil && v != nil && m.MutedUntil.Equal(*v)) {
		return nil
	}
	var value any = firestore.Delete
	if v != nil {
		value = *v
	}
	// Update fails on a membership gone meanwhile: a user who left has
	// nothing to mute.
	_, err = s.db.memberRef(chatID, uid).Update(ctx, []firestore.Update{{Path: "mutedUntil", Value: value}})
	if isNotFound(err) {
		return errChatNotFound()
	}
	return translate(err)
}
