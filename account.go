package chat

import (
	"context"
	"slices"
)

// DeletedUsername is the name a deleted account shows under wherever it
// is still named: the sender of the messages it left, the other member
// of its direct chats.
const DeletedUsername = "Deleted user"

// AccountDeletion is the body of DELETE /api/me.
type AccountDeletion struct {
	// DeleteMessages turns every message the user sent into a tombstone,
	// in the background after the answer.
	DeleteMessages bool
}

// AccountService ends accounts (the contract's "Account deletion and
// export").
type AccountService interface {
	// DeleteAccount deletes the caller's account: their Firebase Auth
	// account, profile, username, devices, blocks, mutes and presence;
	// they leave every group, their direct chats stay for the other
	// member. Their messages stay under DeletedUsername from the answer
	// on; what rewrites them (and tombstones them, with DeleteMessages)
	// goes on in the background, resumed by another instance if this one
	// dies. Calling it again finishes what a failed call left.
	DeleteAccount(ctx context.Context, del AccountDeletion) error
}

// AccountRemover deletes sign-in accounts: Firebase Auth through the Admin
// SDK. Removing one also refuses its tokens on this instance at once
// (other instances within the time they remember a token's check).
type AccountRemover interface {
	RemoveAccount(ctx context.Context, uid string) error
}

// DeletedUser is how a deleted account appears to those who still see it
// (the other member of a direct chat): its id, nothing else of it.
func DeletedUser(uid string) *User {
	return &User{ID: uid, Username: DeletedUsername}
}

// MaskDeleted names the senders in deleted (and the senders of the
// messages quoted) DeletedUsername in msgs, in place. Storage renames
// their messages in the background; until it has, a chat lists the
// accounts deleted among its members and every read masks them.
func MaskDeleted(msgs []*Message, deleted []string) {
	if len(deleted) == 0 {
		return
	}
	for _, m := range msgs {
		if m == nil {
			continue
		}
		if slices.Contains(deleted, m.SenderID) {
			m.SenderUsername = DeletedUsername
		}
		if q := m.ReplyTo; q != nil && slices.Contains(deleted, q.SenderID) {
			q.Username = DeletedUsername
		}
	}
}
