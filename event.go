package chat

import "context"

// Event kinds are the Socket.IO event names of the contract.
const (
	EventNewMessage = "newMessage"
	// EventMessageUpdated carries a message edited or deleted, in its
	// current state, after the message's own newMessage.
	EventMessageUpdated = "messageUpdated"
	EventChatSummary    = "chatSummary"
	EventChatUpdated    = "chatUpdated"
	EventNewChat        = "newChat"
	EventChatDeleted    = "chatDeleted"
	// EventChatInfo tells every device of a member that the chat's name,
	// picture, members or creator changed, without its messages: chat
	// lists and headers of chats not open stay true (chatUpdated goes
	// only to the sockets in the chat's room).
	EventChatInfo   = "chatInfo"
	EventTyping     = "typing"
	EventStopTyping = "stopTyping"
	EventPresence   = "presence"
	// EventMessagesRead tells the chat room that a member's read marker
	// moved; EventChatMuted tells a user's devices that their mute of a
	// chat changed.
	EventMessagesRead = "messagesRead"
	EventChatMuted    = "chatMuted"
	// EventResync is not sent to clients: it tells the sink that the
	// user's events on this instance could not be kept (a queue past its
	// cap, reads failing too long), so the user's sockets here must be
	// disconnected; their clients reconnect and catch up from storage.
	EventResync = "resync"
	// EventAccountDeleted is not sent to clients either: the user's
	// account was deleted, so their sockets here are disconnected (a
	// client that connects again is refused).
	EventAccountDeleted = "accountDeleted"
)

// Typing is the payload of typing and stopTyping.
type Typing struct {
	ChatID   string
	UserID   string
	Username string
}

// Event is one realtime event for this instance's sockets. Events with a
// UserID go to that user's sockets (for EventChatUpdated only those in the
// chat's room); typing and messagesRead (UserID "") go to the chat's room,
// except the author's own sockets and the users in Except.
type Event struct {
	Kind     string
	UserID   string
	ChatID   string
	Message  *Message
	Summary  *ChatSummary
	Chat     *Chat
	Typing   *Typing
	Presence *Presence
	Read     *ReadMark
	Mute     *Mute
	// Except are users who must not get a room event (typing,
	// messagesRead): those who block its author or are blocked by them.
	Except []string
}

// EventSink receives the events this instance must deliver. It must not
// block: it is called from the listeners' goroutines.
type EventSink interface {
	Deliver(ev Event)
}

// Feed turns data changes, made by any instance, into events for the users
// and chat rooms this instance serves.
type Feed interface {
	// Track delivers the events of uid to the sink until release is called.
	// It returns once events committed from now on are sure to be delivered.
	Track(ctx context.Context, uid string) (release func(), err error)
	// WatchChat delivers the chat's typing events until release is called.
	WatchChat(ctx context.Context, chatID string) (release func(), err error)
}

// RoomService is what a socket does in a chat view. The caller is in ctx.
type RoomService interface {
	// JoinChat checks membership and marks the chat read for the caller.
	JoinChat(ctx context.Context, chatID string) error
	// CheckMember returns ENOTFOUND unless the caller is a member.
	CheckMember(ctx context.Context, chatID string) error
	// SetTyping records that the caller is (or stopped) typing in the chat.
	SetTyping(ctx context.Context, chatID string, typing bool) error
}
