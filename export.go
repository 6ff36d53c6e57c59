package chat

import (
	"context"
	"time"
)

// ExportEvery is how often a user may export their data.
const ExportEvery = time.Minute

// ExportChat is a chat the user is in, as an export lists it.
type ExportChat struct {
	ID       string
	IsGroup  bool
	Name     string
	JoinedAt time.Time
}

// ExportItem is one line of an export: exactly one field is set.
type ExportItem struct {
	Me      *User
	Chat    *ExportChat
	Message *Message
}

// ExportService gives users their data (the contract's "Account deletion
// and export").
type ExportService interface {
	// Export hands emit the caller's profile, then every chat they are in,
	// then every message they sent (oldest first per chat), one at a time:
	// an export of any size is held in memory a page at a time. At most
	// one export per user each ExportEvery (ERATELIMITED).
	Export(ctx context.Context, emit func(ExportItem) error) error
}
