package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zishang520/socket.io/parsers/engine/v3/packet"
	"github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
	"golang.org/x/time/rate"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/hub"
)

// Sockets is the Socket.IO glue: it authenticates handshakes, wires each
// socket into the hub (package hub: registry, writers, delivery) and runs
// the client→server events. It keeps no state of its own beyond the
// handshakes waiting for the library to connect them.
type Sockets struct {
	io      *socket.Server
	handler http.Handler
	svc     Services
	hub     *hub.Hub
	feed    chat.Feed
	log     *slog.Logger
	// pending has the conns whose handshake passed, by socket id, until
	// the library connects them (`connection`).
	pending sync.Map
}

// The contract's socket limits: one client must not be able to hurt an
// instance or other users (sockets per user and rooms per socket are the
// hub's: hub.Options).
const (
	eventRate  = 20 // events per second per socket …
	eventBurst = 40 // … in bursts of this many; over it, rate_limited
	// connectConfirm bounds the wait for the library to connect a socket
	// whose handshake passed: a transport closed meanwhile never connects,
	// and what the handshake set up is released then.
	connectConfirm = 10 * time.Second
	// engineConnectTimeout closes an engine session that has not
	// connected a socket in time; setupTimeout bounds the handshake's own
	// work (token, profile, the user's first snapshot) and is shorter, so
	// that a slow store answers connect_error "internal", which clients
	// retry, before the engine cuts the transport without a word.
	engineConnectTimeout = 10 * time.Second
	setupTimeout         = 8 * time.Second
)

// conn is one socket as the glue knows it.
type conn struct {
	s   *socket.Socket
	hc  *hub.Conn
	uid string
	ctx context.Context // the socket's identity, until it disconnects
	// cancel ends ctx. release ends the user's feed reference; it is set
	// once Track succeeded, when presence is told of the socket.
	cancel  context.CancelFunc
	release atomic.Pointer[func()]
	expiry  atomic.Pointer[time.Timer]
	// transport the socket connected with (a polling socket may upgrade)
	transport string
	ready     chan struct{} // closed on `connection`
	// limiter holds the socket to eventRate; only its event handlers,
	// which the library runs one at a time, use it.
	limiter *rate.Limiter
}

// wire is the hub's view of a Socket.IO socket.
type wire struct {
	s   *socket.Socket
	out *outbox
}

func (w wire) Write(f *hub.Frame) {
	w.s.Client().WriteToEngine(f.Packets, &socket.WriteOptions{PreEncoded: true, Options: packet.Options{WsPreEncodedFrame: f.WS}})
}

func (w wire) Overdue(now time.Time) string {
	ec := w.s.Conn()
	t := ec.Transport()
	return w.out.overdue(now, t != nil && t.Writable())
}

func (w wire) Cut()                      { w.s.Conn().Close(true) }
func (w wire) Disconnect(closeConn bool) { w.s.Disconnect(closeConn) }

// WireHook wraps the wire of each socket (tests: a wire whose writes
// block); nil in production.
type WireHook func(uid string, w hub.Wire) hub.Wire

// NewSockets builds the Socket.IO server on the services, the hub (this
// instance's sockets) and the feed that fills it.
func NewSockets(svc Services, opts Options, h *hub.Hub, feed chat.Feed) *Sockets {
	opts.defaults()
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
	g := &Sockets{svc: svc, hub: h, feed: feed, log: opts.Logger}
	g.io = socket.NewServer(nil, so)
	g.handler = g.io.ServeHandler(so)
	_ = g.io.On("connection", func(args ...any) {
		if s, ok := args[0].(*socket.Socket); ok {
			if v, ok := g.pending.LoadAndDelete(s.Id()); ok {
				c := v.(*conn)
				close(c.ready)
				g.connected(c)
				return
			}
			s.Disconnect(true) // released already: the handshake was given up on
		}
	})
	g.io.Use(func(s *socket.Socket, next func(*socket.ExtendedError)) { g.handshake(s, next, opts.Wire) })
	return g
}

// Payload is an event's JSON payload as the contract shapes it: the hub
// encodes it once for every socket it goes to.
func Payload(ev chat.Event) any {
	switch ev.Kind {
	case chat.EventNewMessage, chat.EventMessageUpdated:
		return toMessageJSON(ev.Message, ev.UserID)
	case chat.EventChatSummary:
		return toSummaryJSON(ev.Summary, ev.UserID)
	case chat.EventNewChat, chat.EventChatUpdated, chat.EventChatInfo:
		return toChatJSON(ev.Chat, ev.UserID)
	case chat.EventChatDeleted:
		return ev.ChatID
	case chat.EventPresence:
		return toPresenceJSON(ev.Presence)
	case chat.EventTyping, chat.EventStopTyping:
		return toTypingJSON(ev.Typing)
	case chat.EventMessagesRead:
		return toReadMarkJSON(ev.Read)
	case chat.EventChatMuted:
		return muteJSON{ChatID: ev.Mute.ChatID, MutedUntil: fmtTimePtr(ev.Mute.Until)}
	}
	return nil
}

// Handler is the Socket.IO endpoint, mounted by NewServer.
func (g *Sockets) Handler() http.Handler { return g.handler }

// Sockets counts the sockets held (handshakes under way included) and
// the users they belong to.
func (g *Sockets) Sockets() (sockets, users int) { return g.hub.Sockets() }

// Close refuses new sockets, disconnects the connected ones and waits for
// their clean-ups until ctx ends.
func (g *Sockets) Close(ctx context.Context) { g.hub.Close(ctx) }

// handshake sets up everything a socket needs before next: the library
// sends CONNECT before `connection` handlers run, so a handler registered
// later can miss a fast client's first event.
func (g *Sockets) handshake(s *socket.Socket, next func(*socket.ExtendedError), hook WireHook) {
	c, err := g.accept(s, hook)
	if err != nil {
		next(err)
		return
	}
	// A transport that closes now (a tab closed mid-handshake, an aborted
	// poll) makes the library drop the socket silently.
	closed := make(chan struct{})
	var closeOnce sync.Once
	_ = s.Conn().Once("close", func(...any) { closeOnce.Do(func() { close(closed) }) })
	if s.Conn().ReadyState() == "closed" {
		closeOnce.Do(func() { close(closed) })
	}
	g.pending.Store(s.Id(), c)
	next(nil)
	// The library writes CONNECT to the client before it records the
	// socket as connected; a client that emits the instant CONNECT
	// arrives can be read in between and is then cut for "invalid state".
	// This runs on the connection's read loop: holding it until
	// `connection` has fired means the client's next packet is read only
	// when it can be served (README, "Socket.IO library").
	t := time.NewTimer(connectConfirm)
	defer t.Stop()
	select {
	case <-c.ready:
		return
	case <-closed:
	case <-t.C:
	}
	// The transport closed before the library connected the socket: it
	// will see neither connection nor disconnect.
	if _, mine := g.pending.LoadAndDelete(s.Id()); mine && g.drop(c) {
		g.log.Info("socket handshake abandoned", "user", c.uid, "socket", string(s.Id()))
	}
}

// accept authenticates a handshake and wires the socket. It returns the
// conn, whose resources drop releases, or the handshake's refusal.
func (g *Sockets) accept(s *socket.Socket, hook WireHook) (*conn, *socket.ExtendedError) {
	token, _ := s.Handshake().Auth["token"].(string)
	vctx, vcancel := context.WithTimeout(context.Background(), setupTimeout)
	defer vcancel()
	id, err := g.svc.Verifier.Verify(vctx, token)
	if err != nil {
		if chat.ErrorCode(err) != chat.EUNAUTHORIZED {
			g.log.Error("socket auth failed", "socket", string(s.Id()), "err", err.Error())
			return nil, refusal(chat.EINTERNAL)
		}
		return nil, refusal(chat.EUNAUTHORIZED)
	}
	ctx, cancel := context.WithCancel(chat.NewContextWithIdentity(context.Background(), id))
	out := newOutbox()
	var w hub.Wire = wire{s: s, out: out}
	if hook != nil {
		w = hook(id.UID, w)
	}
	hc, err := g.hub.Open(ctx, id.UID, string(s.Id()), w)
	if err != nil {
		cancel()
		if errors.Is(err, hub.ErrClosing) {
			return nil, socket.NewExtendedError("shutting_down", map[string]any{"code": "shutting_down"})
		}
		return nil, refusal(chat.ErrorCode(err))
	}
	c := &conn{s: s, hc: hc, uid: id.UID, ctx: ctx, cancel: cancel, transport: transportOf(s),
		ready: make(chan struct{}), limiter: rate.NewLimiter(eventRate, eventBurst)}
	_ = s.Conn().On("packetCreate", out.created)
	_ = s.Conn().On("flush", out.flushed)
	fail := func(err error) (*conn, *socket.ExtendedError) {
		g.drop(c)
		g.log.Error("socket setup failed", "user", id.UID, "socket", string(s.Id()), "err", err.Error())
		return nil, refusal(chat.EINTERNAL)
	}
	// The handshake's own deadline bounds setup; the socket's context
	// (ctx) lives until it disconnects.
	sctx := chat.NewContextWithIdentity(vctx, id)
	// The profile is created on first contact, so co-members see the user.
	if _, err := g.svc.Users.Me(sctx); err != nil {
		return fail(err)
	}
	release, err := g.feed.Track(sctx, id.UID)
	if err != nil {
		return fail(err)
	}
	c.release.Store(&release)
	g.svc.Presence.SocketOpened(id.UID)
	g.hub.Attach(hc)
	g.register(c)
	return c, nil
}

func refusal(code string) *socket.ExtendedError {
	return socket.NewExtendedError(code, map[string]any{"code": code})
}

// connected runs once the library has connected a socket: only now may
// events be written to it and can Disconnect cut it, so its writer starts
// and the token's expiry is armed here. A token that expired during the
// handshake (the Admin SDK allows 5 minutes of skew) cuts the socket at
// once: no socket outlives its token.
func (g *Sockets) connected(c *conn) {
	g.hub.Start(c.hc)
	id := identityOf(c)
	t := time.AfterFunc(max(time.Until(id.Expires), 0), func() {
		g.log.Info("socket token expired", "user", c.uid, "socket", string(c.s.Id()))
		c.s.Disconnect(true)
	})
	c.expiry.Store(t)
	if c.ctx.Err() != nil { // disconnected meanwhile: drop may have missed the timer
		t.Stop()
	}
	g.log.Info("socket connected", "user", c.uid, "socket", string(c.s.Id()), "transport", c.transport)
}

// drop releases what a socket holds: its place in the hub (rooms, slot,
// writer), its feed reference, presence, expiry and context. It runs once
// per socket, from disconnect or from an abandoned handshake; true the
// first time.
func (g *Sockets) drop(c *conn) bool {
	if !g.hub.Drop(c.hc) {
		return false
	}
	c.cancel()
	if t := c.expiry.Load(); t != nil {
		t.Stop()
	}
	if r := c.release.Load(); r != nil {
		g.svc.Presence.SocketClosed(c.uid)
		(*r)()
	}
	g.forgetSession(c.s)
	return true
}

// forgetSession works around a leak in the engine's session map (a copy of
// Go's old sync.Map): closing a session nils its entry but leaves the key
// until the map's dirty part is promoted, which takes as many lookup misses
// as the dirty part has keys, and websocket-only clients never look their
// session up again. One lookup per closed socket adds the misses that make
// promotions happen (docs/performance.md, P4).
func (g *Sockets) forgetSession(s *socket.Socket) {
	g.io.Engine().Clients().Load(s.Conn().Id())
}

func transportOf(s *socket.Socket) string {
	if t := s.Conn().Transport(); t != nil {
		return t.Name()
	}
	return ""
}

func identityOf(c *conn) chat.Identity {
	id, _ := chat.IdentityFromContext(c.ctx)
	return id
}
