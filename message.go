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
	// Seq is the message's position in its chat (1, 2, …). It is internal:
	// unread counts and gap detection derive from it.
	Seq int64
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
// when both are empty) or After one (catch-up after a reconnect).
type MessageFilter struct {
	Before string
	After  string
	Limit  int
}

// MessageService sends and reads messages for the caller found in ctx.
type MessageService interface {
	// SendMessage stores a message; created is false when the same
	// ClientMessageID from the same sender in the chat was already stored,
	// in which case the first message is returned.
	SendMessage(ctx context.Context, chatID string, m MessageCreate) (msg *Message, created bool, err error)
	// FindMessages returns a page oldest first and the cursor of the next
	// page in the same direction, "" when there is none.
	FindMessages(ctx context.Context, chatID string, filter MessageFilter) (msgs []*Message, next string, err error)
}

// Validate checks a message against the contract's limits.
func (m MessageCreate) Validate() error {
	if m.Content == "" && m.File == nil {
		return Errorf(EINVALID, "A message needs content or a file.")
	}
	if !utf8.ValidString(m.Content) {
		return Errorf(EINVALID, "Content must be valid UTF-8.")
	}
	if utf8.RuneCountInString(m.Content) > MaxContentLen {
		return Errorf(EINVALID, "Content must be at most %d characters.", MaxContentLen)
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
