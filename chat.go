package chat

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the contract for chats.
const (
	MaxChatNameLen   = 64
	MaxGroupMembers  = 256
	MaxIDLen         = 128 // any id taken from a client: chat, user, message
	DefaultPageLimit = 50
	MaxPageLimit     = 100
	ChatMessagesLen  = 50 // messages carried by a Chat in chatUpdated/newChat/GET
)

// Chat is a conversation as one member sees it: UnreadCount is that
// member's own count, so a Chat is always built for a receiving user.
type Chat struct {
	ID          string
	IsGroup     bool
	Name        string
	ProfilePic  string
	CreatedAt   time.Time
	CreatorID   string
	Users       []*ChatUser
	UnreadCount int
	Messages    []*Message // oldest first
	// MutedUntil is the receiving user's own mute, nil when not muted or
	// expired (MutedForever: until unmuted).
	MutedUntil *time.Time
}

// ChatUser is one membership. UnreadCount is real only for the receiving
// user's own entry: another member's read state is theirs alone.
type ChatUser struct {
	UserID      string
	ChatID      string
	UnreadCount int
	JoinedAt    time.Time
	User        *User
	// LastReadMessageID and LastReadAt are the member's read marker: the
	// chat's newest message when they last read it (or sent), "" and nil
	// if none or hidden from the receiver (see Chat.HideFor).
	LastReadMessageID string
	LastReadAt        *time.Time
}

// ChatCreate is the body of POST /api/chats.
type ChatCreate struct {
	UserIDs    []string
	IsGroup    bool
	Name       string
	ProfilePic string
}

// ChatUpdate is the body of PATCH /api/chats/:id; nil leaves a field alone.
type ChatUpdate struct {
	Name       *string
	ProfilePic *string
}

// ChatFilter pages the caller's chats, most recent activity first. Before is
// an opaque cursor from a previous page.
type ChatFilter struct {
	Limit  int
	Before string
}

// ChatSummary is the sidebar line of a chat for one member.
type ChatSummary struct {
	ChatID      string
	UnreadCount int
	Message     *Message
}

// ChatService manages chats and memberships for the caller found in ctx.
// A chat the caller is not a member of is ENOTFOUND, never EFORBIDDEN, so
// that its existence does not leak.
type ChatService interface {
	// CreateChat creates a chat; created is false when an existing direct
	// chat is returned instead.
	CreateChat(ctx context.Context, c ChatCreate) (chat *Chat, created bool, err error)
	// FindChats lists the caller's chats with their last message only.
	FindChats(ctx context.Context, filter ChatFilter) (chats []*Chat, nextBefore string, err error)
	// FindChat returns a chat with its last ChatMessagesLen messages.
	FindChat(ctx context.Context, id string) (*Chat, error)
	// UpdateChat renames a group or changes its picture.
	UpdateChat(ctx context.Context, id string, upd ChatUpdate) (*Chat, error)
	// DeleteChat deletes a chat with its memberships and messages.
	DeleteChat(ctx context.Context, id string) error
	// AddMembers adds users to a group.
	AddMembers(ctx context.Context, id string, userIDs []string) (*Chat, error)
	// RemoveMember removes a user from a group (or the caller leaves).
	RemoveMember(ctx context.Context, id, userID string) error
	// MarkRead sets the caller's unread count of the chat to zero and
	// moves their read marker to its newest message.
	MarkRead(ctx context.Context, id string) error
	// MuteChat mutes the chat for the caller until a time; a time not in
	// the future unmutes.
	MuteChat(ctx context.Context, id string, until time.Time) error
}

// ValidateChatName checks a group name against the contract.
func ValidateChatName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if utf8.RuneCountInString(name) > MaxChatNameLen {
		return "", Errorf(EINVALID, "Chat name must be at most %d characters.", MaxChatNameLen)
	}
	if !utf8.ValidString(name) || strings.IndexFunc(name, forbiddenInName) >= 0 {
		return "", Errorf(EINVALID, "Chat name must not contain control, bidirectional or invisible formatting characters.")
	}
	return name, nil
}

// ValidateID checks an id taken from a client (path, payload or body).
// Slashes and dot names are refused so an id can never address another
// document path in storage.
func ValidateID(kind, id string) error {
	switch {
	case id == "":
		return Errorf(EINVALID, "%s must not be empty.", kind)
	case len(id) > MaxIDLen:
		return Errorf(EINVALID, "%s must be at most %d characters.", kind, MaxIDLen)
	case !utf8.ValidString(id), strings.ContainsAny(id, "/\x00"), id == ".", id == "..",
		strings.HasPrefix(id, "__") && strings.HasSuffix(id, "__"):
		return Errorf(EINVALID, "%s is not a valid id.", kind)
	}
	return nil
}

// PageLimit applies the contract's default and bounds to a limit; zero
// means absent.
func PageLimit(limit, def, max int) (int, error) {
	if limit == 0 {
		return def, nil
	}
	if limit < 1 || limit > max {
		return 0, Errorf(EINVALID, "limit must be between 1 and %d.", max)
	}
	return limit, nil
}
