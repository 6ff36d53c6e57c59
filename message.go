package chat

import (
	"context"
	"io"
	"time"
	"unicode/utf8"
)

// Limits of the contract for messages.
const (
	MaxContentLen         = 4000
	MaxClientMessageIDLen = 128
	MaxFileSize           = 10 << 20
	// MaxMentions bounds the members one message names.
	MaxMentions = 50
	// MaxReactionKinds bounds the different emoji on one message.
	MaxReactionKinds = 20
	// ReactionIDsShown is how many reactors of an emoji a message shows.
	ReactionIDsShown = 20
	// QuoteLen is how much of a quoted message's content a reply carries,
	// in code points.
	QuoteLen = 200
)

// Message is one message of a chat. Messages of a chat are ordered by
// (CreatedAt, ID) everywhere: history pages and live events.
type Message struct {
	ID              string
	ChatID          string
	SenderID        string
	SenderUsername  string
	Content         string
	FileURL         string
	FileName        string
	CreatedAt       time.Time
	ClientMessageID string
	// EditedAt is the time of the last edit, nil if never edited.
	EditedAt *time.Time
	// DeletedAt is the time the message was deleted for everyone, nil if
	// it was not; a deleted message is a tombstone: nothing of what it
	// said, quoted, mentioned or got as reactions is kept.
	DeletedAt *time.Time
	// Rev is the message's last change in its chat's order of changes
	// (see the Rev type): a send, an edit, a delete or a reaction.
	Rev Rev
	// ReplyTo is the message this one quotes, as that message is now; nil
	// when it quotes none.
	ReplyTo *Quote
	// Mentions are the members the sender named, without duplicates.
	Mentions []string
	// Reactions are the emoji on the message, in the order each was first
	// used, each with everyone who reacted with it.
	Reactions []Reaction
	// Seq is the message's position in its chat (1, 2, …). It is internal:
	// unread counts and gap detection derive from it.
	Seq int64
}

// Rev orders the changes of a chat's messages: every change (a send, an
// edit, a delete) has its own, greater in byte order than that of every
// change committed before it. Storage makes it; clients treat it as
// opaque and hand it back in ?changedAfter=.
type Rev string

// Quote is a quoted message as a reply carries it: its content cut to
// QuoteLen code points, and nothing of what it said once it is deleted.
type Quote struct {
	ID       string
	SenderID string
	Username string
	Content  string
	FileName string
	Deleted  bool
}

// QuoteOf is the quote of m as it is now.
func QuoteOf(m *Message) *Quote {
	q := &Quote{ID: m.ID, SenderID: m.SenderID, Username: m.SenderUsername, FileName: m.FileName, Deleted: m.DeletedAt != nil}
	q.Content = firstRunes(m.Content, QuoteLen)
	if q.Deleted {
		q.Content, q.FileName = "", ""
	}
	return q
}

// firstRunes returns the first n code points of s.
func firstRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}

// Reaction is one emoji on a message and who reacted with it, in order.
type Reaction struct {
	Emoji   string
	UserIDs []string
}

// MessageEdit is a new content for a message, and new mentions unless
// Mentions is nil (an empty list clears them).
type MessageEdit struct {
	Content  string
	Mentions []string
}

// MessageCreate is a message to send. File, ReplyToID and Mentions are
// optional.
type MessageCreate struct {
	Content         string
	ClientMessageID string
	File            *File
	// ReplyToID names a message of the same chat to quote.
	ReplyToID string
	// Mentions names members of the chat.
	Mentions []string
}

// File is an attachment being uploaded.
type File struct {
	Name        string
	ContentType string
	Size        int64
	Body        io.Reader
}

// MessageFilter pages a chat's history: Before a message id (newest page
// when all are empty), After one (catch-up after a reconnect), or the
// messages ChangedAfter a rev, by rev (catch-up of edits and deletions).
type MessageFilter struct {
	Before       string
	After        string
	ChangedAfter Rev
	Limit        int
}

// MessageService sends and reads messages for the caller found in ctx.
type MessageService interface {
	// SendMessage stores a message; created is false when the same
	// ClientMessageID from the same sender in the chat was already stored,
	// in which case the first message is returned.
	SendMessage(ctx context.Context, chatID string, m MessageCreate) (msg *Message, created bool, err error)
	// FindMessages returns a page oldest first (by rev for ChangedAfter)
	// and the cursor of the next page in the same direction, "" when there
	// is none.
	FindMessages(ctx context.Context, chatID string, filter MessageFilter) (msgs []*Message, next string, err error)
	// EditMessage replaces the content of one of the caller's messages:
	// EFORBIDDEN for another's, ECONFLICT for a deleted one. An edit that
	// changes nothing returns the message as it is.
	EditMessage(ctx context.Context, chatID, messageID string, e MessageEdit) (*Message, error)
	// DeleteMessage turns a message into a tombstone and removes its
	// attachment: the sender's, or any in a group for its creator
	// (EFORBIDDEN otherwise). Deleting a deleted message succeeds.
	DeleteMessage(ctx context.Context, chatID, messageID string) error
	// GetMessage returns one message of a chat the caller is in.
	GetMessage(ctx context.Context, chatID, messageID string) (*Message, error)
	// React adds (on) or takes back the caller's reaction with emoji;
	// both are idempotent. A deleted message, or a 21st emoji, is
	// ECONFLICT; an emoji the contract does not accept is EINVALID.
	React(ctx context.Context, chatID, messageID, emoji string, on bool) error
}

// ValidateMentions checks a list of mentioned uids against the contract's
// limits and returns it without duplicates, in order. Whether each is a
// member is the service's to check.
func ValidateMentions(ids []string) ([]string, error) {
	if len(ids) > MaxMentions {
		return nil, Errorf(EINVALID, "A message mentions at most %d members.", MaxMentions)
	}
	out := make([]string, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if err := ValidateID("A mention", id); err != nil {
			return nil, err
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

// Validate checks an edit against the contract's limits; hasFile tells
// whether the message has an attachment, without which content is needed.
func (e MessageEdit) Validate(hasFile bool) error {
	if e.Content == "" && !hasFile {
		return Errorf(EINVALID, "A message without a file needs content.")
	}
	if _, err := ValidateMentions(e.Mentions); err != nil {
		return err
	}
	return validContent(e.Content)
}

func validContent(c string) error {
	if !utf8.ValidString(c) {
		return Errorf(EINVALID, "Content must be valid UTF-8.")
	}
	if utf8.RuneCountInString(c) > MaxContentLen {
		return Errorf(EINVALID, "Content must be at most %d characters.", MaxContentLen)
	}
	return nil
}

// Validate checks a message against the contract's limits.
func (m MessageCreate) Validate() error {
	if m.Content == "" && m.File == nil {
		return Errorf(EINVALID, "A message needs content or a file.")
	}
	if err := validContent(m.Content); err != nil {
		return err
	}
	if !utf8.ValidString(m.ClientMessageID) {
		return Errorf(EINVALID, "clientMessageId must be valid UTF-8.")
	}
	if m.ReplyToID != "" {
		if err := ValidateID("replyToId", m.ReplyToID); err != nil {
			return err
		}
	}
	if _, err := ValidateMentions(m.Mentions); err != nil {
		return err
	}
	if m.File != nil && !utf8.ValidString(m.File.Name) {
		return Errorf(EINVALID, "The file name must be valid UTF-8.")
	}
	if utf8.RuneCountInString(m.ClientMessageID) > MaxClientMessageIDLen {
		return Errorf(EINVALID, "clientMessageId must be at most %d characters.", MaxClientMessageIDLen)
	}
	return nil
}
