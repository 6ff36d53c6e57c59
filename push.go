package chat

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Limits of the contract for push devices.
const (
	// MaxDevices is how many devices a user registers; another drops the
	// one with the oldest UpdatedAt.
	MaxDevices = 20
	// MaxPushTokenLen bounds a device's token, in characters.
	MaxPushTokenLen = 4096
	// PushBodyLen is how much of a message a notification shows, in code
	// points.
	PushBodyLen = 100
	// PushEvery is the least time between two pushes of one chat to one
	// device (their tag makes the later replace the earlier).
	PushEvery = 10 * time.Second
)

// Device is a user's registered push target as the contract shows it:
// never its token.
type Device struct {
	ID        string
	Platform  string
	UpdatedAt time.Time
}

// DeviceService manages the caller's push devices.
type DeviceService interface {
	// FindDevices lists the caller's devices.
	FindDevices(ctx context.Context) ([]*Device, error)
	// PutDevice registers or refreshes a device; the token is taken from
	// any other device that held it, whoever's.
	PutDevice(ctx context.Context, id, token, platform string) error
	// DeleteDevice forgets a device; an unknown one is no error.
	DeleteDevice(ctx context.Context, id string) error
}

var deviceID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidateDevice checks a device registration against the contract.
func ValidateDevice(id, token, platform string) error {
	if !deviceID.MatchString(id) {
		return Errorf(EINVALID, "A device id is 1 to 128 letters, digits, _ or -.")
	}
	if n := utf8.RuneCountInString(token); n == 0 || n > MaxPushTokenLen || !utf8.ValidString(token) || strings.TrimSpace(token) != token {
		return Errorf(EINVALID, "token must be 1 to %d characters without surrounding spaces.", MaxPushTokenLen)
	}
	switch platform {
	case "web", "android", "ios":
		return nil
	}
	return Errorf(EINVALID, "platform must be web, android or ios.")
}

// Notification is one push to one device, as the contract shapes it.
type Notification struct {
	Token     string
	Title     string
	Body      string
	ChatID    string
	MessageID string
	// Link opens the chat in the web app (empty without WEB_APP_URL).
	Link string
}

// PushOutcome is what became of one notification.
type PushOutcome int

// The outcomes of a push.
const (
	PushSent   PushOutcome = iota
	PushGone               // the token is no longer valid: forget the device
	PushRetry              // try again later (quota, unavailable)
	PushFailed             // not sent, and trying again will not help
)

// PushSender delivers notifications (Firebase Cloud Messaging). Outcomes
// are in the order of the notifications.
type PushSender interface {
	Push(ctx context.Context, ns []Notification) []PushOutcome
}

// PushText is a notification's title and body for message m of a chat:
// the sender's name in a direct chat, the group's name in a group (the
// body then says who); the content cut to PushBodyLen code points, or the
// attachment's name when there is no content.
func PushText(c *Chat, m *Message) (title, body string) {
	body = firstRunes(m.Content, PushBodyLen)
	if body == "" && m.FileName != "" {
		body = "📎 " + m.FileName
	}
	if !c.IsGroup {
		return m.SenderUsername, body
	}
	return c.Name, m.SenderUsername + ": " + body
}
