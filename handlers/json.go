package handlers

import (
	"slices"
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
	ID              string         `json:"id"`
	ChatID          string         `json:"chatId"`
	SenderID        string         `json:"senderId"`
	Content         string         `json:"content"`
	FileURL         string         `json:"fileUrl"`
	FileName        string         `json:"fileName"`
	CreatedAt       string         `json:"createdAt"`
	Sender          senderJSON     `json:"sender"`
	ClientMessageID string         `json:"clientMessageId"`
	EditedAt        *string        `json:"editedAt"`
	DeletedAt       *string        `json:"deletedAt"`
	Rev             string         `json:"rev"`
	ReplyTo         *quoteJSON     `json:"replyTo"`
	Mentions        []string       `json:"mentions"`
	Reactions       []reactionJSON `json:"reactions"`
}

type quoteJSON struct {
	ID       string `json:"id"`
	SenderID string `json:"senderId"`
	Username string `json:"username"`
	Content  string `json:"content"`
	FileName string `json:"fileName"`
	Deleted  bool   `json:"deleted"`
}

type reactionJSON struct {
	Emoji   string   `json:"emoji"`
	Count   int      `json:"count"`
	UserIDs []string `json:"userIds"`
	Me      bool     `json:"me"`
}

type chatUserJSON struct {
	UserID            string   `json:"userId"`
	ChatID            string   `json:"chatId"`
	UnreadCount       int      `json:"unreadCount"`
	JoinedAt          string   `json:"joinedAt"`
	User              userJSON `json:"user"`
	LastReadMessageID string   `json:"lastReadMessageId"`
	LastReadAt        *string  `json:"lastReadAt"`
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
	MutedUntil  *string        `json:"mutedUntil"`
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

func toUsersJSON(us []*chat.User) []userJSON {
	out := make([]userJSON, 0, len(us))
	for _, u := range us {
		out = append(out, toUserJSON(u))
	}
	return out
}

// toMessageJSON renders m for viewer: a reaction's me is the viewer's.
func toMessageJSON(m *chat.Message, viewer string) messageJSON {
	out := messageJSON{
		ID: m.ID, ChatID: m.ChatID, SenderID: m.SenderID, Content: m.Content,
		FileURL: m.FileURL, FileName: m.FileName, CreatedAt: fmtTime(m.CreatedAt),
		Sender:          senderJSON{ID: m.SenderID, Username: m.SenderUsername},
		ClientMessageID: m.ClientMessageID, EditedAt: fmtTimePtr(m.EditedAt), DeletedAt: fmtTimePtr(m.DeletedAt),
		Rev: string(m.Rev), Mentions: m.Mentions, Reactions: make([]reactionJSON, 0, len(m.Reactions)),
	}
	if out.Mentions == nil {
		out.Mentions = []string{}
	}
	if q := m.ReplyTo; q != nil {
		out.ReplyTo = &quoteJSON{ID: q.ID, SenderID: q.SenderID, Username: q.Username, Content: q.Content, FileName: q.FileName, Deleted: q.Deleted}
	}
	for _, r := range m.Reactions {
		out.Reactions = append(out.Reactions, reactionJSON{Emoji: r.Emoji, Count: len(r.UserIDs),
			UserIDs: r.UserIDs[:min(len(r.UserIDs), chat.ReactionIDsShown)], Me: slices.Contains(r.UserIDs, viewer)})
	}
	return out
}

// fmtTimePtr renders a time that may be absent: null when it is.
func fmtTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := fmtTime(*t)
	return &s
}

func toMessagesJSON(ms []*chat.Message, viewer string) []messageJSON {
	out := make([]messageJSON, 0, len(ms))
	for _, m := range ms {
		out = append(out, toMessageJSON(m, viewer))
	}
	return out
}

func toChatJSON(c *chat.Chat, viewer string) chatJSON {
	out := chatJSON{
		ID: c.ID, IsGroup: c.IsGroup, Name: c.Name, ProfilePic: c.ProfilePic,
		CreatedAt: fmtTime(c.CreatedAt), CreatorID: c.CreatorID, UnreadCount: c.UnreadCount,
		Users: make([]chatUserJSON, 0, len(c.Users)), Messages: toMessagesJSON(c.Messages, viewer),
		MutedUntil: fmtTimePtr(c.MutedUntil),
	}
	for _, cu := range c.Users {
		out.Users = append(out.Users, chatUserJSON{
			UserID: cu.UserID, ChatID: cu.ChatID, UnreadCount: cu.UnreadCount,
			JoinedAt: fmtTime(cu.JoinedAt), User: toUserJSON(cu.User),
			LastReadMessageID: cu.LastReadMessageID, LastReadAt: fmtTimePtr(cu.LastReadAt),
		})
	}
	return out
}

func toSummaryJSON(s *chat.ChatSummary, viewer string) chatSummaryJSON {
	return chatSummaryJSON{ChatID: s.ChatID, UnreadCount: s.UnreadCount, Message: toMessageJSON(s.Message, viewer)}
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

// meJSON is the contract's Me: the caller's UserPublic and their own
// privacy choices.
type meJSON struct {
	userJSON
	ReadReceipts bool `json:"readReceipts"`
}

func toMeJSON(u *chat.User) meJSON {
	return meJSON{userJSON: toUserJSON(u), ReadReceipts: u.Privacy == nil || !u.Privacy.HideReceipts}
}

// readMarkJSON is the contract's ReadMark (messagesRead).
type readMarkJSON struct {
	ChatID            string  `json:"chatId"`
	UserID            string  `json:"userId"`
	LastReadMessageID string  `json:"lastReadMessageId"`
	LastReadAt        *string `json:"lastReadAt"`
}

func toReadMarkJSON(m *chat.ReadMark) readMarkJSON {
	return readMarkJSON{ChatID: m.ChatID, UserID: m.UserID, LastReadMessageID: m.LastReadMessageID, LastReadAt: fmtTimePtr(m.LastReadAt)}
}

// muteJSON is the payload of chatMuted.
type muteJSON struct {
	ChatID     string  `json:"chatId"`
	MutedUntil *string `json:"mutedUntil"`
}
