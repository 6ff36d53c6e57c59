package firestore

import (
	"context"
	"slices"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat/realtime"
)

// noticeDeleted is the notice (block.go) that tells the instances holding
// a deleted account's sockets to disconnect them.
const noticeDeleted = realtime.NoticeDeleted

// deleteProfile deletes the account's profile, username, sessions and
// devices in one transaction, and writes, beside the tombstone, the
// notice that disconnects its sockets everywhere and, if it was online,
// the flip that tells its audience it went offline (the flips of a
// session ending later find no profile and write nothing). by are the
// users who block it (they hear of nothing, as with any flip).
func (s *AccountService) deleteProfile(ctx context.Context, uid string, by []string) error {
	audience, err := s.db.coMembers(ctx, uid)
	if err != nil {
		return err
	}
	userRef, devRef := s.db.userRef(uid), s.db.devicesRef(uid)
	return s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		u, _, err := getDoc[userDoc](ctx, tx, userRef)
		if err != nil {
			return err
		}
		devs, _, err := getDoc[devicesDoc](ctx, tx, devRef)
		if err != nil {
			return err
		}
		now := s.db.now()
		notices := s.db.deletedUserRef(uid).Collection("presence")
		if err := tx.Set(notices.Doc("gone"), noticeDoc{Notice: noticeDeleted, Audience: []string{uid}, At: now, ExpireAt: now.Add(presenceTTL)}); err != nil {
			return err
		}
		var dels []*firestore.DocumentRef
		if devs != nil {
			for _, d := range devs.Devices {
				dels = append(dels, s.db.tokenRef(d.Token))
			}
		}
		if u != nil {
			dels = append(dels, userRef, s.chats.users.usernameRef(u.Username))
			for inst := range u.Sessions {
				dels = append(dels, s.db.client.Collection("sessions").Doc(inst+":"+uid))
			}
			audience = u.heardBy(audience, by)
			if u.Online && len(audience) > 0 {
				if err := tx.Set(notices.Doc("offline"), presenceDoc{UserID: uid, Online: false, LastSeen: now,
					Version: u.PresenceVersion + 1, Audience: audience, At: now, ExpireAt: now.Add(presenceTTL)}); err != nil {
					return err
				}
			}
		}
		for _, ref := range append(dels, devRef) {
			if err := tx.Delete(ref); err != nil {
				return err
			}
		}
		return nil
	})
}

// leaveChat takes a deleted account out of a chat, listing it among the
// chat's deletedUsers (reads mask its messages, sends refuse it): it
// leaves a group as a member leaving would; in a direct chat it stays a
// member for the other to see (as the deleted user), its membership,
// typing and block go, and the other hears of it (chatUpdated). A chat
// whose every member is deleted is deleted.
func (s *AccountService) leaveChat(ctx context.Context, chatID, uid string) error {
	deleted := false
	err := s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		deleted = false
		d, _, err := getDoc[chatDoc](ctx, tx, s.db.chatRef(chatID))
		if err != nil || d == nil || !slices.Contains(d.MemberIDs, uid) || slices.Contains(d.DeletedUsers, uid) {
			return err // gone, or left already
		}
		if err := tx.Delete(s.db.chatRef(chatID).Collection("typing").Doc(uid)); err != nil {
			return err
		}
		d.DeletedUsers = append(d.DeletedUsers, uid)
		list := firestore.Update{Path: "deletedUsers", Value: d.DeletedUsers}
		if d.IsGroup {
			deleted, err = s.chats.removeInTx(tx, chatID, d, uid, true, list)
			return err
		}
		if !slices.ContainsFunc(d.MemberIDs, func(m string) bool { return !slices.Contains(d.DeletedUsers, m) }) {
			deleted = true
			return s.chats.deleteInTx(tx, chatID, d)
		}
		if err := tx.Delete(s.db.memberRef(chatID, uid)); err != nil {
			return err
		}
		if err := d.spendMeta(s.db.now(), true); err != nil { // counted, never refused
			return err
		}
		d.BlockedBy = slices.DeleteFunc(d.BlockedBy, func(m string) bool { return m == uid })
		return s.chats.bumpMeta(tx, chatID, d, []firestore.Update{list, {Path: "blockedBy", Value: d.BlockedBy}}, uid)
	})
	if err == nil && deleted {
		s.chats.purgeLater(chatID)
	}
	return err
}
