package hub

import (
	"context"
	"errors"
	"time"

	"github.com/chatapp/chat"
)

// ErrClosing refuses a socket to a hub that is shutting down.
var ErrClosing = errors.New("hub: closing")

// Open takes one of the user's socket slots for a handshake before any
// work is done for it, so a client in a reconnect loop cannot have more
// than MaxSocketsPerUser handshakes in flight either. The conn gets no
// event until Attach, and none is written before Start. ctx is the
// socket's context (its identity), kept for clean-ups.
func (h *Hub) Open(ctx context.Context, uid, socketID string, w Wire) (*Conn, error) {
	if h.isClosing() {
		return nil, ErrClosing
	}
	s := h.reg.userShard(uid)
	s.mu.Lock()
	u := s.m[uid]
	if u == nil {
		u = &user{conns: map[*Conn]struct{}{}, unread: map[string]int{}, evicted: map[string]eviction{}}
		s.m[uid] = u
	}
	full := u.slots >= h.opts.MaxSocketsPerUser
	if !full {
		u.slots++
	}
	s.mu.Unlock()
	if full {
		h.log.Warn("socket refused: too many sockets", "user", uid, "limit", h.opts.MaxSocketsPerUser)
		return nil, chat.Errorf(chat.ERATELIMITED, "Too many sockets for this user; close one first.")
	}
	return &Conn{ID: socketID, UID: uid, ctx: ctx, wire: w, q: make(chan *Frame, h.opts.MaxQueued),
		done: make(chan struct{}), joined: map[string]func(){}, typing: map[string]bool{}}, nil
}

// Attach makes the conn receive its user's events (their feed is ready):
// they queue until Start.
func (h *Hub) Attach(c *Conn) {
	cs := h.reg.connShard(c.ID)
	cs.mu.Lock()
	cs.m[c.ID] = c
	cs.mu.Unlock()
	h.reg.withUser(c.UID, func(u *user) { u.conns[c] = struct{}{} })
	c.mu.Lock()
	dropped := c.dropped
	c.mu.Unlock()
	if dropped { // dropped meanwhile: Drop may have run before the inserts
		h.detach(c)
	}
}

// Drop releases what a socket holds in the hub: its rooms (with their
// typing marks and watch releases), its writer and its user's slot. It
// runs once per conn; true the first time.
func (h *Hub) Drop(c *Conn) bool {
	c.mu.Lock()
	if c.dropped {
		c.mu.Unlock()
		return false
	}
	c.dropped = true
	joined, typing := c.joined, c.typing
	c.joined, c.typing = map[string]func(){}, map[string]bool{}
	close(c.done)
	c.mu.Unlock()
	h.detach(c)
	s := h.reg.userShard(c.UID)
	s.mu.Lock()
	if u := s.m[c.UID]; u != nil {
		if u.slots--; u.slots <= 0 {
			delete(s.m, c.UID)
		}
	}
	s.mu.Unlock()
	for chatID, release := range joined {
		h.reg.leaveRoom(chatID, c)
		h.stopTyping(c, chatID, typing[chatID])
		release()
	}
	return true
}

func (h *Hub) detach(c *Conn) {
	cs := h.reg.connShard(c.ID)
	cs.mu.Lock()
	if cs.m[c.ID] == c {
		delete(cs.m, c.ID)
	}
	cs.mu.Unlock()
	h.reg.withUser(c.UID, func(u *user) { delete(u.conns, c) })
}

// Join is a joinChat in flight: what the hub knew when it began.
type Join struct {
	c      *Conn
	chatID string
	start  uint64 // the user's eviction count before the membership check
	// Open: the socket has the chat open already. Skip: and every summary
	// since says it is read, so joining again would mark nothing.
	Open, Skip bool
}

// BeginJoin starts a joinChat: a socket has at most MaxRoomsPerSocket
// chats open (ETOOLARGE past it).
func (h *Hub) BeginJoin(c *Conn, chatID string) (Join, error) {
	j := Join{c: c, chatID: chatID}
	c.mu.Lock()
	_, j.Open = c.joined[chatID]
	full := len(c.joined) >= h.opts.MaxRoomsPerSocket
	c.mu.Unlock()
	if !j.Open && full {
		return j, chat.Errorf(chat.ETOOLARGE, "A socket can have at most %d chats open; leave one first.", h.opts.MaxRoomsPerSocket)
	}
	h.reg.withUser(c.UID, func(u *user) {
		j.start = u.evictions
		unread, known := u.unread[chatID]
		j.Skip = j.Open && known && unread == 0
	})
	return j, nil
}

// MarkedRead records that the service marked the chat read; a summary
// that came meanwhile is newer and stays.
func (h *Hub) MarkedRead(j Join) {
	h.reg.withUser(j.c.UID, func(u *user) {
		if _, ok := u.unread[j.chatID]; !ok {
			u.unread[j.chatID] = 0
		}
	})
}

// FinishJoin puts the socket in the chat's room, with release for the
// chat's typing watch, unless the user was removed from the chat since
// BeginJoin (ENOTFOUND), the socket has it open already or is gone; in
// those cases release is called.
func (h *Hub) FinishJoin(j Join, release func()) error {
	c, ok, removed := j.c, false, false
	// Under the user's lock: an eviction either happened before (seen
	// here) or comes after the room insert (and finds the socket there).
	h.reg.withUser(c.UID, func(u *user) {
		removed = u.evicted[j.chatID].n > j.start
		c.mu.Lock()
		_, dup := c.joined[j.chatID]
		ok = !dup && !removed && !c.dropped
		if ok {
			c.joined[j.chatID] = release
			h.reg.enterRoom(j.chatID, c)
		}
		c.mu.Unlock()
	})
	if !ok {
		release()
	}
	if removed {
		return chat.Errorf(chat.ENOTFOUND, "Chat not found.")
	}
	return nil
}

// Leave takes a socket out of a chat's room, ending its typing there;
// false if it did not have the chat open.
func (h *Hub) Leave(c *Conn, chatID string) bool {
	c.mu.Lock()
	release, ok := c.joined[chatID]
	wasTyping := c.typing[chatID]
	delete(c.joined, chatID)
	delete(c.typing, chatID)
	c.mu.Unlock()
	if !ok {
		return false
	}
	h.reg.leaveRoom(chatID, c)
	h.stopTyping(c, chatID, wasTyping)
	release()
	return true
}

// stopTyping clears a typing mark in the background on a short context
// of its own: leaving runs from deliveries and disconnects, which must
// not wait on storage, and the socket's context may be gone.
func (h *Hub) stopTyping(c *Conn, chatID string, wasTyping bool) {
	if !wasTyping {
		return
	}
	h.goCleanup(func() {
		id, _ := chat.IdentityFromContext(c.ctx)
		ctx, cancel := context.WithTimeout(chat.NewContextWithIdentity(context.Background(), id), 5*time.Second)
		defer cancel()
		if err := h.opts.StopTyping(ctx, chatID); err != nil {
			h.log.Warn("stop typing failed", "user", c.UID, "chat", chatID, "err", err.Error())
		}
	})
}

// evict takes a user who left or lost a chat out of its room here: a
// removed member must not keep receiving typing or chatUpdated.
func (h *Hub) evict(uid, chatID string) {
	now := time.Now()
	h.reg.withUser(uid, func(u *user) { u.evict(chatID, now) })
	for _, c := range h.reg.roomConns(chatID, func(c *Conn) bool { return c.UID == uid }) {
		h.Leave(c, chatID)
	}
}
