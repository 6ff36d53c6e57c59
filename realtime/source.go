package realtime

import (
	"context"
	"time"

	"github.com/chatapp/chat"
)

// Kind names what a listener listens to; a shard runs one listener per
// kind it needs over its keys.
type Kind int

// The listener kinds. Members and Messages are keyed by user ids, Typing
// by chat ids.
const (
	Members  Kind = iota // memberships of the keys (users)
	Messages             // messages addressed to the keys (users), since a time
	Typing               // typing entries of the keys (chats)
	Flips                // presence flips whose audience has the keys (users), since a time
	Receipts             // read markers moved in the keys (chats) by reads others may see, since a time
)

func (k Kind) String() string {
	switch k {
	case Members:
		return "members"
	case Messages:
		return "messages"
	case Typing:
		return "typing"
	case Flips:
		return "presence"
	case Receipts:
		return "receipts"
	}
	return "unknown"
}

// Query is what one listener covers. Since bounds a Messages listener:
// only messages sent or changed after it are in its result set.
type Query struct {
	Kind  Kind
	Keys  []string
	Since time.Time
}

// Membership is a member document as a listener sees it.
type Membership struct {
	UserID      string
	ChatID      string
	ReadSeq     int64
	MetaVersion int64
	JoinedAt    time.Time
	// MutedUntil is the member's mute of the chat, nil if none.
	MutedUntil *time.Time
}

// Posted is a message as a listener sees it: with the members it was
// addressed to when it was sent.
type Posted struct {
	Message   *chat.Message
	MemberIDs []string
	// Changed tells that the message was edited, deleted or reacted to
	// since it was sent; Last, that it was its chat's newest message when
	// last edited or deleted.
	Changed bool
	Last    bool
}

// TypingEntry is someone typing in a chat until a time.
type TypingEntry struct {
	Typing chat.Typing
	Until  time.Time
	// Except are the members who must not see it (blocks).
	Except []string
}

// Receipt is a member's read marker moved by a read others may see: At
// is when (the storage's time), Except who must not see it (blocks).
type Receipt struct {
	Mark   chat.ReadMark
	At     time.Time
	Except []string
}

// Flip is a user's online status changing, as a presence listener sees
// it: with its place in the user's sequence of flips and the users who
// may see it.
type Flip struct {
	Presence chat.Presence
	Version  int64
	Audience []string
	// Notice, when set ("block" or "unblock"), makes this not a flip but
	// a block between the two users of Audience changing: Peers hold each
	// one's presence as the other may see it from now on (hidden after a
	// block), with its flip version; At orders notices. NoticeDeleted
	// tells that the one user of Audience deleted their account.
	Notice string
	Peers  map[string]Peer
	At     time.Time
}

// NoticeDeleted is the notice of an account deleted: its sockets are
// disconnected wherever they are.
const NoticeDeleted = "deleted"

// Peer is one user's presence in a block notice.
type Peer struct {
	Presence chat.Presence
	Version  int64
}

// Change is one document change; exactly one of Membership, Posted,
// Typing, Flip and Receipt is set, by the listener's kind.
type Change struct {
	Removed    bool
	Membership *Membership
	Posted     *Posted
	Typing     *TypingEntry
	Flip       *Flip
	Receipt    *Receipt
}

// Batch is one snapshot of a listener, decoded. A listener's first batch
// holds its whole result set, every document as an addition.
type Batch struct {
	ReadTime time.Time
	// Heartbeat is set when the instance's own heartbeat document was in
	// the snapshot: the listener is alive.
	Heartbeat bool
	Changes   []Change
}

// Source is the listener layer: the only part of the engine that knows the
// storage's listener API. The Firestore adapter implements it.
type Source interface {
	// Listen runs one listener for q and calls emit with each batch, in
	// order, from one goroutine. It returns when ctx ends (nil) or the
	// listener fails (the error).
	Listen(ctx context.Context, q Query, emit func(Batch)) error
	// Beat writes the heartbeat every listener of this source matches, so
	// a listener that stopped delivering is noticed.
	Beat(ctx context.Context) error
}

// ChatView is a chat read once for all the members a shard serves; For
// renders it for one of them.
type ChatView struct {
	// Chat is the chat with its last messages, rendered for no viewer.
	Chat        *chat.Chat
	LastSeq     int64
	MetaVersion int64
	// Muted is each member's mute of the chat as read with it.
	Muted map[string]*time.Time
}

// Reader reads what the delivery rules need beyond what listeners carry.
// Every call gets a context with a deadline.
type Reader interface {
	// LoadChat reads a chat with its members' profiles and last messages;
	// nil, nil when the chat no longer exists.
	LoadChat(ctx context.Context, chatID string) (*ChatView, error)
	// MessagesBetween returns the chat's messages with seq in (from, to)
	// that were addressed to uid, in seq order.
	MessagesBetween(ctx context.Context, chatID, uid string, from, to int64) ([]*chat.Message, error)
	// ReadSeq returns uid's read marker in the chat; found is false when
	// uid is not a member.
	ReadSeq(ctx context.Context, chatID, uid string) (seq int64, found bool, err error)
}
