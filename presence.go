package chat

import "time"

// Presence is the payload of the presence event: a user's online status
// as the contract's UserPublic has it.
type Presence struct {
	UserID   string
	Online   bool
	LastSeen *time.Time
}

// PresenceTracker is told of every socket this instance opens and closes.
// It must not block: the hub calls it from socket callbacks. A user is
// online while any of their sockets is open on any instance.
type PresenceTracker interface {
	SocketOpened(uid string)
	SocketClosed(uid string)
}
