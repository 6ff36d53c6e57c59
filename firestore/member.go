package firestore

import (
	"context"
	"slices"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// AddMembers implements chat.ChatService.
func (s *ChatService) AddMembers(ctx context.Context, chatID string, userIDs []string) (*chat.Chat, error) {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return nil, err
	}
	ids, err := normalizeUserIDs(userIDs, uid)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, chat.Errorf(chat.EINVALID, "userIds must name at least one other user.")
	}
	if len(ids) > chat.MaxGroupMembers {
		return nil, chat.Errorf(chat.EINVALID, "A group has at most %d members.", chat.MaxGroupMembers)
	}
	// Existence of the caller's membership is checked before profiles so a
	// non-member learns nothing about users either.
	if _, _, err := s.db.member(ctx, nil, chatID, uid); err != nil {
		return nil, translate(err)
	}
	if err := s.requireProfiles(ctx, uid, ids); err != nil {
		return nil, translate(err)
	}
	return s.changeGroup(ctx, chatID, uid, "Members can be added to a group only.", func(tx *firestore.Transaction, d *chatDoc) error {
		var added []string
		for _, id := range ids {
			if !slices.Contains(d.MemberIDs, id) {
				added = append(added, id)
			}
		}
		if len(added) == 0 {
			return nil
		}
		if len(d.MemberIDs)+len(added) > chat.MaxGroupMembers {
			return chat.Errorf(chat.EINVALID, "A group has at most %d members.", chat.MaxGroupMembers)
		}
		now := s.db.now()
		if err := d.spendMeta(now, false); err != nil {
			return err
		}
		d.MemberIDs = append(d.MemberIDs, added...)
		for _, id := range added {
			d.Joined[id] = now
		}
		// New members start with nothing unread: they did not miss what
		// was said before they joined.
		for _, id := range added {
			md := memberDoc{UserID: id, ChatID: chatID, JoinedAt: now, ReadSeq: d.LastSeq, MetaVersion: d.MetaVersion + 1}
			if err := tx.Set(s.db.memberRef(chatID, id), md); err != nil {
				return err
			}
		}
		return s.bumpMeta(tx, chatID, d, []firestore.Update{
			{Path: "memberIds", Value: d.MemberIDs}, {Path: "joined", Value: d.Joined},
		}, added...)
	})
}

// RemoveMember implements chat.ChatService.
func (s *ChatService) RemoveMember(ctx context.Context, chatID, target string) error {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return err
	}
	if err := chat.ValidateID("User id", target); err != nil {
		return err
	}
	deleted := false
	err = s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		deleted = false
		d, _, err := s.db.member(ctx, tx, chatID, uid)
		if err != nil {
			return err
		}
		switch {
		case !d.IsGroup:
			return chat.Errorf(chat.EINVALID, "Members can be removed from a group only; delete the direct chat instead.")
		case target != uid && d.CreatorID != uid:
			return chat.Errorf(chat.EFORBIDDEN, "Only the group's creator can remove other members.")
		case !slices.Contains(d.MemberIDs, target):
			return chat.Errorf(chat.ENOTFOUND, "That user is not a member of this chat.")
		}
		deleted, err = s.removeInTx(tx, chatID, d, target, target == uid)
		return err
	})
	if err != nil {
		return translate(err)
	}
	if deleted {
		s.purgeLater(chatID)
	}
	return nil
}

// removeInTx takes target out of group d in tx, with ups more updates of
// the chat (a deleted account's listing): creator rights pass to the
// earliest-joined member (ties by id), and a group left empty is deleted
// (deleted: the caller purges it). must is spendMeta's: a member leaving
// is never refused.
func (s *ChatService) removeInTx(tx *firestore.Transaction, chatID string, d *chatDoc, target string, must bool, ups ...firestore.Update) (deleted bool, err error) {
	d.MemberIDs = slices.DeleteFunc(d.MemberIDs, func(id string) bool { return id == target })
	delete(d.Joined, target)
	if len(d.MemberIDs) == 0 {
		d.MemberIDs = []string{target} // so its membership is deleted too
		return true, s.deleteInTx(tx, chatID, d)
	}
	if err := d.spendMeta(s.db.now(), must); err != nil {
		return false, err
	}
	ups = append(ups, firestore.Update{Path: "memberIds", Value: d.MemberIDs}, firestore.Update{Path: "joined", Value: d.Joined})
	if d.CreatorID == target {
		d.CreatorID = sortedUsers(d)[0]
		ups = append(ups, firestore.Update{Path: "creatorId", Value: d.CreatorID})
	}
	if err := tx.Delete(s.db.memberRef(chatID, target)); err != nil {
		return false, err
	}
	return false, s.bumpMeta(tx, chatID, d, ups)
}
