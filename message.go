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
	// it was not; a deleted message is a tombstone (see Tombstone).
	DeletedAt *time.Time
	// Rev is the message's last change in its chat's order of changes
	// (see the Rev type): a send, an edit or a delete.
	Rev Rev
	// Seq is the message's position in its chat (1, 2, …). It is internal:
	// unread counts and gap detection derive from it.
	Seq int64
}

// Rev orders the changes of a chat's messages: every change (a send, an
// edit, a delete) has its own, greater in byte order than that of every
// change committed before it. Storage makes it; clients treat it as
// opaque and hand it back in ?changedAfter=.
type Rev string

// Tombstone returns m as deleted at t: what the contract keeps of a
// deleted message (ids, sender, createdAt, clientMessageId, rev) and
// nothing of what it said.
func (m Message) Tombstone(t time.Time) *Message {
	m.Content, m.FileURL, m.FileName = "", "", ""
	m.DeletedAt = &t
	return &m
}

// MessageEdit is a new content for a message.
type MessageEdit struct {
	Content string
}

// MessageCreate is a message to send. File is optional.
type MessageCreate struct {
	Content         string
	ClientMessageID string
	File            *File
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
}

// Validate checks an edit against the contract's limits; hasFile tells
// whether the message has an attachment, without which content is needed.
func (e MessageEdit) Validate(hasFile bool) error {
	if e.Content == "" && !hasFile {
		return Errorf(EINVALID, "A message without a file needs content.")
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
	if m.File != nil && !utf8.ValidString(m.File.Name) {
		return Errorf(EINVALID, "The file name must be valid UTF-8.")
	}
	if utf8.RuneCountInString(m.ClientMessageID) > MaxClientMessageIDLen {
		return Errorf(EINVALID, "clientMessageId must be at most %d characters.", MaxClientMessageIDLen)
	}
	return nil
}
