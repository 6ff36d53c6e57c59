package chat

import (
	"context"
	"slices"
	"time"
)

// MaxBlocks bounds the users one user may block.
const MaxBlocks = 1000

// MutedForever is the mute that lasts until the user unmutes: the
// contract's 9999-12-31T23:59:59.999Z.
var MutedForever = time.Date(9999, 12, 31, 23, 59, 59, 999e6, time.UTC)

// ErrBlocked is the refusal of what a block forbids between two users.
func ErrBlocked() *Error {
	return Errorf(EFORBIDDEN, "One of you has blocked the other: you cannot message, or add, each other.")
}

// Privacy is what a user chose to keep from others. It is applied to what
// others see (HideFor), never shown to anyone but its owner.
type Privacy struct {
	// HideReceipts hides the user's read markers from everyone else.
	HideReceipts bool
	// Blocks are the users this user blocked, in the order blocked.
	Blocks []string
}

// Blocked tells whether a and b block each other in either direction;
// a profile whose privacy was not read blocks no one.
func Blocked(a, b *User) bool {
	return a != nil && b != nil && (a.blocks(b.ID) || b.blocks(a.ID))
}

func (u *User) blocks(uid string) bool {
	return u.Privacy != nil && slices.Contains(u.Privacy.Blocks, uid)
}

// HidePresenceFrom returns u as viewer may see it: without online and
// lastSeen when either blocks the other. u itself is never changed: it
// may be shared by several renderings.
func (u *User) HidePresenceFrom(viewer *User) *User {
	if !Blocked(u, viewer) {
		return u
	}
	cp := *u
	cp.Online, cp.LastSeen = false, nil
	return &cp
}

// HideFor takes out of c, rendered for viewer, what the members keep from
// the viewer: presence and read markers between users who block each
// other, and the markers of members who hide receipts. The viewer's own
// entry stays whole.
func (c *Chat) HideFor(viewer string) {
	var me *User
	for _, cu := range c.Users {
		if cu.UserID == viewer {
			me = cu.User
		}
	}
	for _, cu := range c.Users {
		if cu.UserID == viewer || cu.User == nil {
			continue
		}
		if Blocked(cu.User, me) {
			cu.User = cu.User.HidePresenceFrom(me)
			cu.LastReadMessageID, cu.LastReadAt = "", nil
		} else if cu.User.Privacy != nil && cu.User.Privacy.HideReceipts {
			cu.LastReadMessageID, cu.LastReadAt = "", nil
		}
	}
}

// ReadMark is a member's read marker as messagesRead carries it.
type ReadMark struct {
	ChatID            string
	UserID            string
	LastReadMessageID string
	LastReadAt        *time.Time
}

// Mute is a user's mute of a chat as chatMuted carries it: Until nil when
// not muted.
type Mute struct {
	ChatID string
	Until  *time.Time
}

// MuteValue is what a mute until t reads as at now: nil once expired.
func MuteValue(t *time.Time, now time.Time) *time.Time {
	if t == nil || !t.After(now) {
		return nil
	}
	u := t.UTC()
	return &u
}

// BlockService manages whom the caller blocks (the contract's "Blocking").
type BlockService interface {
	// FindBlocks lists the users the caller blocked.
	FindBlocks(ctx context.Context) ([]*User, error)
	// Block blocks uid: EINVALID for the caller or an unknown user,
	// ECONFLICT past MaxBlocks; blocking again succeeds.
	Block(ctx context.Context, uid string) error
	// Unblock ends the caller's block of uid; succeeds when there is none.
	Unblock(ctx context.Context, uid string) error
}
