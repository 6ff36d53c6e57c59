package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"golang.org/x/time/rate"

	"github.com/chatapp/chat"
)

var _ chat.EventSink = (*Hub)(nil)

// Hub is the Socket.IO side: it authenticates handshakes, runs the
// client→server events and delivers the feed's events to this instance's
// sockets. Chat rooms are kept here rather than in the library's rooms
// because chatUpdated and typing address the intersection of a room and a
// user (or its complement), which library rooms cannot express.
type Hub struct {
	io      *socket.Server
	handler http.Handler
	svc     Services
	feed    chat.Feed
	log     *slog.Logger
	bg      sync.WaitGroup // clean-ups that outlive a socket (typing ends)

	mu      sync.Mutex // guards sockets, rooms, evicted, evictions, closing and every conn's joined/typing
	sockets map[socket.SocketId]*conn
	rooms   map[string]map[socket.SocketId]*conn // chat id → sockets that joined it
	// evicted records, per user and chat, the eviction count when the
	// user was last taken out of the chat's room; a joinChat that checked
	// membership before that eviction must not enter the room after it.
	evicted   map[string]eviction
	evictions uint64
	perUser   map[string]int // sockets per user, handshakes in progress included
	// unread is each served user's unread count per chat as the last
	// chatSummary told it: a joinChat on a chat already open and read
	// needs no storage at all.
	unread  map[string]map[string]int
	closing bool // set by Close: refuse new sockets

	stop chan struct{} // closed by Close: ends the output watchdog
}

// The contract's socket limits: one client must not be able to hurt an
// instance or other users.
const (
	maxSocketsPerUser = 20  // per instance; a further handshake gets rate_limited
	maxRoomsPerSocket = 100 // a further joinChat gets too_large
	eventRate         = 20  // events per second per socket …
	eventBurst        = 40  // … in bursts of this many; over it, rate_limited
	// connectConfirm bounds the wait for the library to connect a socket
	// whose handshake passed: a transport closed meanwhile never connects,
	// and what the handshake set up is released then.
	connectConfirm = 10 * time.Second
	// engineConnectTimeout closes an engine session that has not
	// connected a socket in time; setupTimeout bounds the handshake's own
	// work (token, profile, the user's first snapshot) and is shorter, so
	// that a slow store answers connect_error "internal", which clients
	// retry, before the engine cuts the transport without a word (seen as
	// websocket close 1006 under a slow emulator).
	engineConnectTimeout = 10 * time.Second
	setupTimeout         = 8 * time.Second
)

// eviction is one removal of a user from a chat room.
type eviction struct {
	n  uint64
	at time.Time
}

// conn is one connected socket.
type conn struct {
	s       *socket.Socket
	uid     string
	ctx     context.Context
	cancel  context.CancelFunc
	release func() // of the user's feed reference; guarded by Hub.mu
	counted bool   // presence was told of the socket; guarded by Hub.mu
	expiry  atomic.Pointer[time.Timer]
	// transport the socket connected with (a polling socket may upgrade)
	transport string

	// limiter holds the socket to eventRate; only its event handlers,
	// which the library runs one at a time, use it.
	limiter *rate.Limiter
	// out measures the socket's pending output for the hub's watchdog.
	out *outbox

	// guarded by Hub.mu
	joined  map[string]func() // chat id → release of the chat's typing watch
	typing  map[string]bool
	dropped bool // its resources are released (disconnect or abandoned handshake)
}

// NewHub builds the Socket.IO server on the services. newFeed builds the
// realtime feed with the hub as its sink, so the hub is complete, and can
// take events, when NewHub returns.
func NewHub(svc Services, opts Options, newFeed func(sink chat.EventSink) chat.Feed) *Hub {
	opts.defaults()
	h := &Hub{svc: svc, log: opts.Logger, sockets: map[socket.SocketId]*conn{},
		rooms: map[string]map[socket.SocketId]*conn{}, evicted: map[string]eviction{}, perUser: map[string]int{},
		unread: map[string]map[string]int{}, stop: make(chan struct{})}
	so := socket.DefaultServerOptions()
	so.SetCors(&types.Cors{
		Origin:         func(origin string) bool { return originAllowed(opts.CORSOrigins, origin) },
		Credentials:    true,
		Methods:        []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Content-Type", "Authorization"},
	})
	so.SetPingInterval(opts.PingInterval)
	so.SetPingTimeout(opts.PingTimeout)
	so.SetMaxHttpBufferSize(1e6)
	// An engine session that has not authenticated within this is closed
	// (the handshake's own deadline, setupTimeout, ends first).
	so.SetConnectTimeout(engineConnectTimeout)
	h.io = socket.NewServer(nil, so)
	h.handler = h.io.ServeHandler(so)
	h.feed = newFeed(h)
	h.bg.Add(1)
	go h.watchOutput()
	connected := sync.Map{} // socket id → chan closed on `connection`
	_ = h.io.On("connection", func(args ...any) {
		if s, ok := args[0].(*socket.Socket); ok {
			if ch, ok := connected.LoadAndDelete(s.Id()); ok {
				close(ch.(chan struct{}))
			}
			h.connected(s)
		}
	})
	h.io.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) {
		// Everything a socket needs is set up here, before next: the
		// library sends CONNECT before `connection` handlers run, so a
		// handler registered later can miss a fast client's first event.
		c, err := h.accept(s)
		if err != nil {
			next(err)
			return
		}
		ready := make(chan struct{})
		connected.Store(s.Id(), ready)
		// A transport that closes now (a tab closed mid-handshake, an
		// aborted poll) makes the library drop the socket silently.
		closed := make(chan struct{})
		var closeOnce sync.Once
		_ = s.Conn().Once("close", func(...any) { closeOnce.Do(func() { close(closed) }) })
		if s.Conn().ReadyState() == "closed" {
			closeOnce.Do(func() { close(closed) })
		}
		next(nil)
		// The library writes CONNECT to the client before it records the
		// socket as connected; a client that emits the instant CONNECT
		// arrives can be read in between and is then cut for "invalid
		// state". This runs on the connection's read loop: holding it
		// until `connection` has fired (after the socket is recorded)
		// means the client's next packet is read only when it can be
		// served (README, "Socket.IO library", has the measurement).
		t := time.NewTimer(connectConfirm)
		defer t.Stop()
		select {
		case <-ready:
			return
		case <-closed:
		case <-t.C:
		}
		// The transport closed before the library connected the socket:
		// it will see neither connection nor disconnect.
		connected.Delete(s.Id())
		if h.drop(c) {
			h.log.Info("socket handshake abandoned", "user", c.uid, "socket", string(s.Id()))
		}
	})
	return h
}

// watchOutput cuts sockets whose output does not drain (a client that
// stopped reading): one goroutine for the hub, owned by it, ended by Close.
// Cutting closes the connection, which also ends a write blocked on it.
func (h *Hub) watchOutput() {
	defer h.bg.Done()
	t := time.NewTicker(outboxCheck)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case now := <-t.C:
			h.mu.Lock()
			conns := make([]*conn, 0, len(h.sockets))
			for _, c := range h.sockets {
				conns = append(conns, c)
			}
			h.mu.Unlock()
			for _, c := range conns {
				ec := c.s.Conn()
				if reason := c.out.overdue(now, ec.Transport().Writable()); reason != "" {
					h.log.Warn("socket cut", "user", c.uid, "socket", string(c.s.Id()), "reason", reason)
					ec.Close(true)
				}
			}
		}
	}
}

// Sockets counts the sockets the hub holds (handshakes under way
// included) and the users they belong to.
func (h *Hub) Sockets() (sockets, users int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.perUser {
		sockets += n
	}
	return sockets, len(h.perUser)
}

// Handler is the Socket.IO endpoint, mounted by NewServer.
func (h *Hub) Handler() http.Handler { return h.handler }

func userRoom(uid string) socket.Room { return socket.Room("user:" + uid) }

// accept authenticates a handshake and wires the socket. It returns the
// conn, whose resources drop releases, or the handshake's refusal.
func (h *Hub) accept(s *socket.Socket) (*conn, *socket.ExtendedError) {
	svc := h.svc
	token, _ := s.Handshake().Auth["token"].(string)
	vctx, vcancel := context.WithTimeout(context.Background(), setupTimeout)
	defer vcancel()
	id, err := svc.Verifier.Verify(vctx, token)
	if err != nil {
		if chat.ErrorCode(err) != chat.EUNAUTHORIZED {
			h.log.Error("socket auth failed", "socket", string(s.Id()), "err", err.Error())
			return nil, socket.NewExtendedError("internal", map[string]any{"code": chat.EINTERNAL})
		}
		return nil, socket.NewExtendedError(chat.EUNAUTHORIZED, map[string]any{"code": chat.EUNAUTHORIZED})
	}
	// A slot is taken before any work, so a user in a reconnect loop
	// cannot have more than maxSocketsPerUser handshakes in flight either.
	h.mu.Lock()
	switch {
	case h.closing:
		h.mu.Unlock()
		return nil, socket.NewExtendedError("shutting_down", map[string]any{"code": "shutting_down"})
	case h.perUser[id.UID] >= maxSocketsPerUser:
		h.mu.Unlock()
		h.log.Warn("socket refused: too many sockets", "user", id.UID, "limit", maxSocketsPerUser)
		return nil, socket.NewExtendedError(chat.ERATELIMITED, map[string]any{"code": chat.ERATELIMITED})
	}
	h.perUser[id.UID]++
	if h.unread[id.UID] == nil {
		h.unread[id.UID] = map[string]int{}
	}
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(chat.NewContextWithIdentity(context.Background(), id))
	c := &conn{s: s, uid: id.UID, ctx: ctx, cancel: cancel, release: func() {}, transport: transportOf(s),
		limiter: rate.NewLimiter(eventRate, eventBurst), out: newOutbox(), joined: map[string]func(){}, typing: map[string]bool{}}
	_ = s.Conn().On("packetCreate", c.out.created)
	_ = s.Conn().On("flush", c.out.flushed)
	fail := func(err error) (*conn, *socket.ExtendedError) {
		h.drop(c)
		h.log.Error("socket setup failed", "user", id.UID, "socket", string(s.Id()), "err", err.Error())
		return nil, socket.NewExtendedError("internal", map[string]any{"code": chat.EINTERNAL})
	}
	// The handshake's own deadline bounds setup; the socket's context
	// (ctx) lives until it disconnects.
	sctx := chat.NewContextWithIdentity(vctx, id)
	// The profile is created on first contact, so co-members see the user.
	if _, err := svc.Users.Me(sctx); err != nil {
		return fail(err)
	}
	release, err := h.feed.Track(sctx, id.UID)
	if err != nil {
		return fail(err)
	}
	h.mu.Lock()
	c.release = release
	h.sockets[s.Id()] = c
	c.counted = true
	h.mu.Unlock()
	h.svc.Presence.SocketOpened(id.UID)
	s.Join(userRoom(id.UID))
	h.register(c)
	return c, nil
}

// connected runs once the library has connected a socket: only now can
// Disconnect cut it, so the token's expiry is armed here. A token that
// expired during the handshake (the Admin SDK allows 5 minutes of skew)
// cuts the socket at once: no socket outlives its token.
func (h *Hub) connected(s *socket.Socket) {
	h.mu.Lock()
	c := h.sockets[s.Id()]
	h.mu.Unlock()
	if c == nil { // released already: the handshake was given up on
		s.Disconnect(true)
		return
	}
	id := identityOf(c)
	t := time.AfterFunc(max(time.Until(id.Expires), 0), func() {
		h.log.Info("socket token expired", "user", c.uid, "socket", string(s.Id()))
		s.Disconnect(true)
	})
	c.expiry.Store(t)
	h.mu.Lock()
	dropped := c.dropped
	h.mu.Unlock()
	if dropped { // disconnected meanwhile: drop may have missed the timer
		t.Stop()
	}
	h.log.Info("socket connected", "user", c.uid, "socket", string(s.Id()), "transport", c.transport)
}

// drop releases what a socket holds: its rooms, its user's slot and feed
// reference, its expiry and context. It runs once per socket, from
// disconnect or from an abandoned handshake; true the first time.
func (h *Hub) drop(c *conn) bool {
	h.mu.Lock()
	if c.dropped {
		h.mu.Unlock()
		return false
	}
	c.dropped = true
	chats := make([]string, 0, len(c.joined))
	for id := range c.joined {
		chats = append(chats, id)
	}
	if h.sockets[c.s.Id()] == c {
		delete(h.sockets, c.s.Id())
	}
	if h.perUser[c.uid]--; h.perUser[c.uid] <= 0 {
		delete(h.perUser, c.uid)
		delete(h.unread, c.uid)
	}
	release, counted := c.release, c.counted
	h.mu.Unlock()
	if counted {
		h.svc.Presence.SocketClosed(c.uid)
	}
	for _, id := range chats {
		h.leave(c, id)
	}
	if t := c.expiry.Load(); t != nil {
		t.Stop()
	}
	release()
	c.cancel()
	h.forgetSession(c.s)
	return true
}

// forgetSession works around a leak in the engine's session map (a copy of
// Go's old sync.Map): closing a session nils its entry but leaves the key
// until the map's dirty part is promoted, which takes as many lookup misses
// as the dirty part has keys, and websocket-only clients never look their
// session up again. One lookup per closed socket adds the misses that make
// promotions happen, which bounds the map to a few times the live sessions
// (the churn figures: docs/performance.md, P4).
func (h *Hub) forgetSession(s *socket.Socket) {
	h.io.Engine().Clients().Load(s.Conn().Id())
}

func transportOf(s *socket.Socket) string {
	if t := s.Conn().Transport(); t != nil {
		return t.Name()
	}
	return ""
}

// register installs the socket's event handlers.
func (h *Hub) register(c *conn) {
	s, svc := c.s, h.svc
	on := func(ev string, fn func(chatID string) error) {
		_ = s.On(ev, func(args ...any) {
			chatID, ack, err := parseArgs(args)
			if !c.limiter.Allow() {
				// Over the limit: answered, no effect, the socket stays.
				err = chat.Errorf(chat.ERATELIMITED, "Too many events; slow down.")
			} else if err == nil {
				err = fn(chatID)
			}
			if ack == nil {
				if err != nil && chat.ErrorCode(err) == chat.EINTERNAL {
					h.log.Error("socket event failed", "event", ev, "user", c.uid, "socket", string(s.Id()), "chat", chatID, "err", err.Error())
				}
				return
			}
			if err != nil {
				_, body := errorPayload(c.ctx, h.log, err)
				ack([]any{body}, nil)
				return
			}
			ack([]any{map[string]any{"ok": true}}, nil)
		})
	}
	on("joinChat", func(chatID string) error { return h.join(c, chatID) })
	on("leaveChat", func(chatID string) error {
		if !h.inRoom(c, chatID) {
			return svc.Rooms.CheckMember(c.ctx, chatID)
		}
		h.leave(c, chatID)
		return nil
	})
	on("typing", func(chatID string) error {
		if !h.inRoom(c, chatID) {
			return chat.Errorf(chat.ENOTFOUND, "Join the chat before typing in it.")
		}
		if err := svc.Rooms.SetTyping(c.ctx, chatID, true); err != nil {
			return err
		}
		h.mu.Lock()
		c.typing[chatID] = true
		h.mu.Unlock()
		return nil
	})
	on("stopTyping", func(chatID string) error {
		if !h.inRoom(c, chatID) {
			return chat.Errorf(chat.ENOTFOUND, "Join the chat before typing in it.")
		}
		h.mu.Lock()
		was := c.typing[chatID]
		delete(c.typing, chatID)
		h.mu.Unlock()
		if !was {
			return nil
		}
		return svc.Rooms.SetTyping(c.ctx, chatID, false)
	})
	_ = s.On("disconnect", func(args ...any) {
		reason := ""
		if len(args) > 0 {
			reason, _ = args[0].(string)
		}
		if h.drop(c) {
			h.log.Info("socket disconnected", "user", c.uid, "socket", string(s.Id()), "transport", c.transport, "reason", reason)
		}
	})
}

// join puts a socket in a chat's room once the service has checked the
// membership (and marked the chat read). A removal processed between that
// check and the insertion would otherwise leave the removed user in the
// room: the eviction count taken before the check tells.
func (h *Hub) join(c *conn, chatID string) error {
	h.mu.Lock()
	start := h.evictions
	_, in := c.joined[chatID]
	full := len(c.joined) >= maxRoomsPerSocket
	unread, known := h.unread[c.uid][chatID]
	h.mu.Unlock()
	if !in && full {
		return chat.Errorf(chat.ETOOLARGE, "A socket can have at most %d chats open; leave one first.", maxRoomsPerSocket)
	}
	if in && known && unread == 0 {
		// Open here already, and every summary since says read: joining
		// again marks nothing, so it reads nothing and writes nothing.
		return nil
	}
	if err := h.svc.Rooms.JoinChat(c.ctx, chatID); err != nil {
		return err
	}
	h.mu.Lock()
	if _, ok := h.unread[c.uid][chatID]; !ok && h.unread[c.uid] != nil {
		// Read now; a summary that came meanwhile is newer and stays.
		h.unread[c.uid][chatID] = 0
	}
	h.mu.Unlock()
	if in {
		return nil
	}
	release, err := h.feed.WatchChat(c.ctx, chatID)
	if err != nil {
		return err
	}
	h.mu.Lock()
	_, dup := c.joined[chatID]
	removed := h.evicted[evictKey(c.uid, chatID)].n > start
	ok := !dup && !removed && c.ctx.Err() == nil
	if ok {
		c.joined[chatID] = release
		if h.rooms[chatID] == nil {
			h.rooms[chatID] = map[socket.SocketId]*conn{}
		}
		h.rooms[chatID][c.s.Id()] = c
	}
	h.mu.Unlock()
	if !ok {
		release()
	}
	if removed {
		return chat.Errorf(chat.ENOTFOUND, "Chat not found.")
	}
	return nil
}

func evictKey(uid, chatID string) string { return uid + "\x00" + chatID }

func (h *Hub) inRoom(c *conn, chatID string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := c.joined[chatID]
	return ok
}

// leave takes a socket out of a chat room, ending its typing there. The
// typing entry is deleted in the background on a short context of its own:
// leave runs from event delivery and disconnects, which must not wait on
// storage, and the socket's context may be gone.
func (h *Hub) leave(c *conn, chatID string) {
	h.mu.Lock()
	release, ok := c.joined[chatID]
	wasTyping := c.typing[chatID]
	delete(c.joined, chatID)
	delete(c.typing, chatID)
	if room := h.rooms[chatID]; room != nil {
		delete(room, c.s.Id())
		if len(room) == 0 {
			delete(h.rooms, chatID)
		}
	}
	h.mu.Unlock()
	if wasTyping {
		h.bg.Add(1)
		go func() {
			defer h.bg.Done()
			ctx, cancel := context.WithTimeout(chat.NewContextWithIdentity(context.Background(), identityOf(c)), 5*time.Second)
			defer cancel()
			if err := h.svc.Rooms.SetTyping(ctx, chatID, false); err != nil {
				h.log.Warn("stop typing failed", "user", c.uid, "chat", chatID, "err", err.Error())
			}
		}()
	}
	if ok {
		release()
	}
}

func identityOf(c *conn) chat.Identity {
	id, _ := chat.IdentityFromContext(c.ctx)
	return id
}

// parseArgs reads a client event's chatId and optional ack. A missing or
// non-string payload is EINVALID, never a panic.
func parseArgs(args []any) (string, socket.Ack, error) {
	var ack socket.Ack
	if n := len(args); n > 0 {
		if a, ok := args[n-1].(socket.Ack); ok {
			ack = a
			args = args[:n-1]
		}
	}
	if len(args) == 0 {
		return "", ack, chat.Errorf(chat.EINVALID, "chatId is required.")
	}
	id, ok := args[0].(string)
	if !ok {
		return "", ack, chat.Errorf(chat.EINVALID, "chatId must be a string.")
	}
	if err := chat.ValidateID("chatId", id); err != nil {
		return "", ack, err
	}
	return id, ack, nil
}

// Deliver implements chat.EventSink.
func (h *Hub) Deliver(ev chat.Event) {
	switch ev.Kind {
	case chat.EventNewMessage:
		_ = h.io.To(userRoom(ev.UserID)).Emit(ev.Kind, toMessageJSON(ev.Message))
	case chat.EventChatSummary:
		h.mu.Lock()
		if m := h.unread[ev.UserID]; m != nil {
			m[ev.ChatID] = ev.Summary.UnreadCount
		}
		h.mu.Unlock()
		_ = h.io.To(userRoom(ev.UserID)).Emit(ev.Kind, toSummaryJSON(ev.Summary))
	case chat.EventNewChat:
		_ = h.io.To(userRoom(ev.UserID)).Emit(ev.Kind, toChatJSON(ev.Chat))
	case chat.EventChatDeleted:
		h.evict(ev.UserID, ev.ChatID)
		_ = h.io.To(userRoom(ev.UserID)).Emit(ev.Kind, ev.ChatID)
	case chat.EventChatUpdated:
		payload := toChatJSON(ev.Chat)
		for _, c := range h.roomSockets(ev.ChatID, func(c *conn) bool { return c.uid == ev.UserID }) {
			_ = c.s.Emit(ev.Kind, payload)
		}
	case chat.EventPresence:
		_ = h.io.To(userRoom(ev.UserID)).Emit(ev.Kind, toPresenceJSON(ev.Presence))
	case chat.EventTyping, chat.EventStopTyping:
		payload := toTypingJSON(ev.Typing)
		for _, c := range h.roomSockets(ev.ChatID, func(c *conn) bool { return c.uid != ev.Typing.UserID }) {
			_ = c.s.Emit(ev.Kind, payload)
		}
	case chat.EventResync:
		h.resync(ev.UserID)
	}
}

// resync disconnects a user's sockets on this instance whose events the
// engine could not keep ("io server disconnect": the client connects again
// and catches up from storage), in the background: Deliver runs on an
// engine goroutine and must not wait for transports.
func (h *Hub) resync(uid string) {
	h.mu.Lock()
	var conns []*conn
	for _, c := range h.sockets {
		if c.uid == uid {
			conns = append(conns, c)
		}
	}
	if h.closing || len(conns) == 0 { // Close disconnects every socket itself
		h.mu.Unlock()
		return
	}
	h.bg.Add(1) // under mu: before Close, which sets closing under mu, waits
	h.mu.Unlock()
	h.log.Warn("disconnecting a user's sockets: their events could not be kept", "user", uid, "sockets", len(conns))
	go func() {
		defer h.bg.Done()
		for _, c := range conns {
			c.s.Disconnect(false)
		}
	}()
}

func (h *Hub) roomSockets(chatID string, keep func(*conn) bool) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*conn
	for _, c := range h.rooms[chatID] {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// evict takes a user who left or lost a chat out of its room on this
// instance: a removed member must not keep receiving typing or chatUpdated.
func (h *Hub) evict(uid, chatID string) {
	now := time.Now()
	h.mu.Lock()
	delete(h.unread[uid], chatID)
	h.evictions++
	h.evicted[evictKey(uid, chatID)] = eviction{n: h.evictions, at: now}
	if len(h.evicted) > 4096 { // joins take seconds: older marks are moot
		for k, e := range h.evicted {
			if now.Sub(e.at) > time.Minute {
				delete(h.evicted, k)
			}
		}
	}
	h.mu.Unlock()
	for _, c := range h.roomSockets(chatID, func(c *conn) bool { return c.uid == uid }) {
		h.leave(c, chatID)
	}
}

// Close refuses new sockets, disconnects the connected ones, so clients
// reconnect to another instance at once instead of waiting for a timeout,
// and waits for their clean-ups until ctx ends.
func (h *Hub) Close(ctx context.Context) {
	h.mu.Lock()
	if !h.closing {
		close(h.stop)
	}
	h.closing = true
	conns := make([]*conn, 0, len(h.sockets))
	for _, c := range h.sockets {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		c.s.Disconnect(true)
	}
	done := make(chan struct{})
	go func() { h.bg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
