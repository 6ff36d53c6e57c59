package handlers

import (
	"time"

	"github.com/chatapp/chat"
)

// The JSON shapes of the contract. They live here, not in the domain,
// because they are the wire format: field names and null-ness are the
// contract's, checked by tests against docs/openapi.yaml and
// docs/asyncapi.yaml.

// timeLayout renders RFC 3339 UTC with exactly three fractional digits.
const timeLayout = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

type userJSON struct {
	ID         string  `json:"id"`
	Username   string  `json:"username"`
	ProfilePic string  `json:"profilePic"`
	LastSeen   *string `json:"lastSeen"`
	Online     bool    `json:"online"`
}

type senderJSON struct {
	ID       string `json:"id"`
	Username string `json:"username"`
}

type messageJSON struct {
	ID              string     `json:"id"`
	ChatID          string     `json:"chatId"`
	SenderID        string     `json:"senderId"`
	Content         string     `json:"content"`
	FileURL         string     `json:"fileUrl"`
	FileName        string     `json:"fileName"`
	CreatedAt       string     `json:"createdAt"`
	Sender          senderJSON `json:"sender"`
	ClientMessageID string     `json:"clientMessageId"`
	EditedAt        *string    `json:"editedAt"`
	DeletedAt       *string    `json:"deletedAt"`
	Rev             string     `json:"rev"`
}

type chatUserJSON struct {
	UserID      string   `json:"userId"`
	ChatID      string   `json:"chatId"`
	UnreadCount int      `json:"unreadCount"`
	JoinedAt    string   `json:"joinedAt"`
	User        userJSON `json:"user"`
}

type chatJSON struct {
	ID          string         `json:"id"`
	IsGroup     bool           `json:"isGroup"`
	Name        string         `json:"name"`
	ProfilePic  string         `json:"profilePic"`
	CreatedAt   string         `json:"createdAt"`
	Users       []chatUserJSON `json:"users"`
	CreatorID   string         `json:"creatorId"`
	UnreadCount int            `json:"unreadCount"`
	Messages    []messageJSON  `json:"messages"`
}

type chatSummaryJSON struct {
	ChatID      string      `json:"chatId"`
	UnreadCount int         `json:"unreadCount"`
	Message     messageJSON `json:"message"`
}

type typingJSON struct {
	ChatID   string `json:"chatId"`
	UserID   string `json:"userId"`
	Username string `json:"username"`
}

func toUserJSON(u *chat.User) userJSON {
	out := userJSON{ID: u.ID, Username: u.Username, ProfilePic: u.ProfilePic, Online: u.Online}
	if u.LastSeen != nil {
		s := fmtTime(*u.LastSeen)
		out.LastSeen = &s
	}
	return out
}

func toMessageJSON(m *chat.Message) messageJSON {
	return messageJSON{
		ID: m.ID, ChatID: m.ChatID, SenderID: m.SenderID, Content: m.Content,
		FileURL: m.FileURL, FileName: m.FileName, CreatedAt: fmtTime(m.CreatedAt),
		Sender:          senderJSON{ID: m.SenderID, Username: m.SenderUsername},
		ClientMessageID: m.ClientMessageID, EditedAt: fmtTimePtr(m.EditedAt), DeletedAt: fmtTimePtr(m.DeletedAt),
		Rev: string(m.Rev),
	}
}

// fmtTimePtr renders a time that may be absent: null when it is.
func fmtTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := fmtTime(*t)
	return &s
}

func toMessagesJSON(ms []*chat.Message) []messageJSON {
	out := make([]messageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, toMessageJSON(m))
	}
	return out
}

func toChatJSON(c *chat.Chat) chatJSON {
	out := chatJSON{
		ID: c.ID, IsGroup: c.IsGroup, Name: c.Name, ProfilePic: c.ProfilePic,
		CreatedAt: fmtTime(c.CreatedAt), CreatorID: c.CreatorID, UnreadCount: c.UnreadCount,
		Users: make([]chatUserJSON, 0, len(c.Users)), Messages: toMessagesJSON(c.Messages),
	}
	for _, cu := range c.Users {
		out.Users = append(out.Users, chatUserJSON{
			UserID: cu.UserID, ChatID: cu.ChatID, UnreadCount: cu.UnreadCount,
			JoinedAt: fmtTime(cu.JoinedAt), User: toUserJSON(cu.User),
		})
	}
	return out
}

func toSummaryJSON(s *chat.ChatSummary) chatSummaryJSON {
	return chatSummaryJSON{ChatID: s.ChatID, UnreadCount: s.UnreadCount, Message: toMessageJSON(s.Message)}
}

func toTypingJSON(t *chat.Typing) typingJSON {
	return typingJSON{ChatID: t.ChatID, UserID: t.UserID, Username: t.Username}
}

// presenceJSON is the contract's Presence.
type presenceJSON struct {
	UserID   string  `json:"userId"`
	Online   bool    `json:"online"`
	LastSeen *string `json:"lastSeen"`
}

func toPresenceJSON(p *chat.Presence) presenceJSON {
	out := presenceJSON{UserID: p.UserID, Online: p.Online}
	if p.LastSeen != nil {
		s := fmtTime(*p.LastSeen)
		out.LastSeen = &s
	}
	return out
}
