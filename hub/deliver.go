package hub

import (
	"slices"
	"sync"

	"github.com/zishang520/socket.io/parsers/socket/v3/parser"
	"github.com/zishang520/socket.io/v3/pkg/types"

	"github.com/chatapp/chat"
)

// Frame is one event encoded once for every socket it goes to.
type Frame struct {
	// Packets are the Socket.IO packets, as the library's broadcast
	// hands them to each client (pre-encoded).
	Packets []types.BufferInterface
	// WS is the same event as one complete Engine.IO message ("4" and
	// the packet), which a websocket transport sends without encoding
	// again; nil for binary packets.
	WS types.BufferInterface
}

// encode builds the frame of one event: name and its JSON payload.
func encode(name string, payload any) *Frame {
	ps := parser.NewEncoder().Encode(&parser.Packet{Type: parser.EVENT, Nsp: "/", Data: []any{name, payload}})
	f := &Frame{Packets: ps}
	if len(ps) == 1 {
		if p, ok := ps[0].(*types.StringBuffer); ok {
			ws := types.NewStringBufferString("4")
			_, _ = ws.Write(p.Bytes())
			f.WS = ws
		}
	}
	return f
}

// frameCache remembers the frames of the last newMessage events: the
// engine emits one event per recipient user with the same *chat.Message,
// so a message to a group is encoded once per instance, not once per
// member or socket. (Other kinds get a value of their own per user.)
type frameCache struct {
	mu   sync.Mutex // guards the fields below
	m    map[frameKey]*Frame
	ring [frameCacheSize]frameKey // insertion order, to evict the oldest
	next int
}

// frameCacheSize covers the recipients of the events in flight at once
// on every shard: a repeated payload is always among the last few.
const frameCacheSize = 256

type frameKey struct {
	kind string
	p    any // the payload's pointer: the same value, the same bytes
}

func (fc *frameCache) init() { fc.m = make(map[frameKey]*Frame, frameCacheSize) }

// get returns the frame of (kind, p), building it with mk once.
func (fc *frameCache) get(kind string, p any, mk func() *Frame) *Frame {
	k := frameKey{kind, p}
	fc.mu.Lock()
	f := fc.m[k]
	fc.mu.Unlock()
	if f != nil {
		return f
	}
	f = mk() // outside the lock: encoding is the expensive part
	fc.mu.Lock()
	defer fc.mu.Unlock()
	if old := fc.m[k]; old != nil {
		return old
	}
	if prev := fc.ring[fc.next]; prev.p != nil {
		delete(fc.m, prev)
	}
	fc.ring[fc.next] = k
	fc.next = (fc.next + 1) % frameCacheSize
	fc.m[k] = f
	return f
}

// Deliver implements chat.EventSink. It never waits: frames go to the
// sockets' queues, and everything else is a map update under a shard's
// lock (or, for resync, background work).
func (h *Hub) Deliver(ev chat.Event) {
	switch ev.Kind {
	case chat.EventResync:
		h.resync(ev.UserID, "disconnecting a user's sockets: their events could not be kept")
		return
	case chat.EventAccountDeleted:
		h.resync(ev.UserID, "disconnecting a deleted account's sockets")
		return
	case chat.EventChatSummary:
		h.reg.withUser(ev.UserID, func(u *user) { u.unread[ev.ChatID] = ev.Summary.UnreadCount })
	case chat.EventChatDeleted:
		h.evict(ev.UserID, ev.ChatID)
	}
	var to []*Conn
	switch ev.Kind {
	case chat.EventChatUpdated:
		to = h.reg.roomConns(ev.ChatID, func(c *Conn) bool { return c.UID == ev.UserID })
	case chat.EventTyping, chat.EventStopTyping, chat.EventMessagesRead:
		// The room, less its author's own sockets and those kept from it.
		author := roomAuthor(ev)
		to = h.reg.roomConns(ev.ChatID, func(c *Conn) bool { return c.UID != author && !slices.Contains(ev.Except, c.UID) })
	default:
		to = h.reg.userConns(ev.UserID)
	}
	if len(to) == 0 {
		return
	}
	f := h.frame(ev)
	for _, c := range to {
		h.send(c, f)
	}
}

// roomAuthor is the user a room event is about: the typist, the reader.
func roomAuthor(ev chat.Event) string {
	if ev.Read != nil {
		return ev.Read.UserID
	}
	return ev.Typing.UserID
}

// frame encodes an event, once for a message that many recipients share.
func (h *Hub) frame(ev chat.Event) *Frame {
	mk := func() *Frame { return encode(ev.Kind, h.opts.Payload(ev)) }
	// Shared by every recipient unless it has reactions: their me is each
	// recipient's own.
	if (ev.Kind == chat.EventNewMessage || ev.Kind == chat.EventMessageUpdated) && ev.Message != nil && len(ev.Message.Reactions) == 0 {
		return h.frames.get(ev.Kind, ev.Message, mk)
	}
	return mk()
}

// resync disconnects a user's sockets here ("io server disconnect"), in
// the background, logging why: the engine could not keep their events
// (the client connects again and catches up from storage), or the
// account was deleted (connecting again is refused).
func (h *Hub) resync(uid, why string) {
	conns := h.reg.userConns(uid)
	if len(conns) == 0 {
		return
	}
	if h.goBg(func() {
		for _, c := range conns {
			c.wire.Disconnect(false)
		}
	}) {
		h.log.Warn(why, "user", uid, "sockets", len(conns))
	}
}
