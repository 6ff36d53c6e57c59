// Package app wires the adapters into a running server: the one wiring
// that cmd/server and the tests both use, so what is tested is what runs.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"google.golang.org/api/option"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/firestore"
	"github.com/chatapp/chat/gcs"
	"github.com/chatapp/chat/handlers"
	"github.com/chatapp/chat/hub"
	"github.com/chatapp/chat/metrics"
	"github.com/chatapp/chat/presence"
	"github.com/chatapp/chat/realtime"
)

// Settings is what the wiring needs. cmd/server fills it from the
// environment; tests fill it directly.
type Settings struct {
	ProjectID string
	// Database is the project's Firestore database ("" is the default
	// one). Tests give each test a database of its own on the emulator.
	Database string
	// Bucket is the Cloud Storage bucket of attachments.
	Bucket      string
	CORSOrigins []string
	Logger      *slog.Logger
	// InstanceID names this instance's heartbeat documents (default: random).
	InstanceID string
	Realtime   realtime.Options
	// Presence times presence (grace, lease); zero values are the
	// contract's.
	Presence presence.Options
	// PresenceGrace, PresenceLeaseTTL and ListenerRollover, when set,
	// override those fields of Presence and Realtime: the configuration
	// cmd/server reads from the environment.
	PresenceGrace, PresenceLeaseTTL, ListenerRollover time.Duration
	// PingInterval and PingTimeout override Engine.IO's heartbeat (tests).
	PingInterval, PingTimeout time.Duration
	// Push configures push notifications (see PushSettings).
	Push PushSettings
	// Accounts times the clean-up of deleted accounts.
	Accounts AccountSettings

	// Metrics receives the counters (a fresh registry when nil).
	Metrics *metrics.Metrics
}

// Hooks let a test put a fake in front of a real part at its interface (a
// listener that freezes, a reader that fails, a room service that races);
// nil leaves the part as it is. They are passed to BuildWith by tests,
// never part of the production settings.
type Hooks struct {
	Verifier func(chat.TokenVerifier) chat.TokenVerifier
	Source   func(realtime.Source) realtime.Source
	Reader   func(realtime.Reader) realtime.Reader
	Rooms    func(chat.RoomService) chat.RoomService
	// Wire wraps each socket's connection as the hub writes to it.
	Wire func(uid string, w hub.Wire) hub.Wire
	// Firestore adds to the Firestore client's options (a connection to
	// an emulator of the test's own, or to nowhere).
	Firestore []option.ClientOption
}

// NewLogger is the server's logger: JSON lines in Cloud Logging's shape.
func NewLogger(w io.Writer, projectID string, level slog.Level) *slog.Logger {
	return handlers.NewLogger(w, projectID, level)
}

// App is a wired server. Tests run several in one process.
type App struct {
	// Handler serves REST and Socket.IO.
	Handler http.Handler
	// Node is the realtime engine, for its counters.
	Node *realtime.Node
	// DB is the Firestore handle.
	DB *firestore.DB
	// Metrics is the instance's registry, served by ServeMetrics.
	Metrics  *metrics.Metrics
	files    *gcs.Store
	log      *slog.Logger
	sockets  *handlers.Sockets
	listener *firestore.Listener
	rooms    *firestore.RoomService
	chats    *firestore.ChatService
	messages *firestore.MessageService
	presence *presence.Presence
	pusher   *firestore.Pusher
	accounts *firestore.AccountService
	// stopSweep ends the sweepers; sweepDone, pushDone and accountsDone
	// are closed when they have.
	stopSweep    context.CancelFunc
	sweepDone    chan struct{}
	pushDone     chan struct{}
	accountsDone chan struct{}
}

// Build connects the adapters and hands them to the handlers.
func Build(ctx context.Context, s Settings) (*App, error) { return BuildWith(ctx, s, Hooks{}) }

// BuildWith is Build with a test's hooks in front of real parts.
func BuildWith(ctx context.Context, s Settings, h Hooks) (*App, error) {
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	if s.InstanceID == "" {
		s.InstanceID = "i" + rand.Text()[:16]
	}
	authVerifier, err := auth.NewVerifier(ctx, s.ProjectID, auth.RememberFor)
	if err != nil {
		return nil, err
	}
	var verifier chat.TokenVerifier = authVerifier
	if h.Verifier != nil {
		verifier = h.Verifier(verifier)
	}
	if s.Metrics == nil {
		s.Metrics = metrics.New()
	}
	db, err := firestore.Open(ctx, s.ProjectID, s.Database, s.Metrics, h.Firestore...)
	if err != nil {
		return nil, err
	}
	db.Log = log
	files, err := gcs.Open(ctx, s.Bucket)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	users := firestore.NewUserService(db)
	chats := firestore.NewChatService(db, users, files)
	messages := firestore.NewMessageService(db, files)
	roomSvc := firestore.NewRoomService(db, chats)
	var rooms chat.RoomService = roomSvc
	if h.Rooms != nil {
		rooms = h.Rooms(rooms)
	}
	listener := firestore.NewListener(db, s.InstanceID)
	var src realtime.Source = listener
	if h.Source != nil {
		src = h.Source(src)
	}
	var rd realtime.Reader = firestore.NewReader(db)
	if h.Reader != nil {
		rd = h.Reader(rd)
	}
	s.overrides(log)
	presence := presence.New(firestore.NewSessions(db, s.InstanceID), s.Presence)
	pusher, err := s.pusher(ctx, db, messages)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	accounts := firestore.NewAccountService(db, chats, messages, authVerifier, firestore.AccountOptions{Lease: s.Accounts.Lease})
	svc := handlers.Services{Presence: countedSockets{presence, s.Metrics}, Accounts: accounts,
		Verifier: verifier, Users: users, Chats: chats, Devices: firestore.NewDeviceService(db), Export: firestore.NewExportService(db, users),
		Messages: messages, Files: messages, Rooms: rooms, Blocks: users,
		Ready: func(ctx context.Context) error { return errors.Join(db.Ping(ctx), files.Ping(ctx)) },
	}
	opts := handlers.Options{CORSOrigins: s.CORSOrigins, Logger: log, PingInterval: s.PingInterval, PingTimeout: s.PingTimeout, Wire: h.Wire}
	// The sink first, then the engine that fills it, then the glue that
	// serves clients from both: no part needs one built after it.
	stopTyping := func(ctx context.Context, chatID string) error { return rooms.SetTyping(ctx, chatID, false) }
	sink := hub.New(hub.Options{Logger: log, Payload: handlers.Payload, StopTyping: stopTyping})
	node := realtime.NewNode(src, rd, countedEvents{sink, s.Metrics}, s.Realtime)
	sockets := handlers.NewSockets(svc, opts, sink, node)
	a := &App{Handler: handlers.NewServer(svc, sockets, opts), Node: node, DB: db, Metrics: s.Metrics, files: files, log: log, sockets: sockets, listener: listener,
		rooms: roomSvc, chats: chats, messages: messages, presence: presence, pusher: pusher, accounts: accounts,
		sweepDone: make(chan struct{}), pushDone: make(chan struct{}), accountsDone: make(chan struct{})}
	gauges(s.Metrics, sockets, node)
	var sctx context.Context
	sctx, a.stopSweep = context.WithCancel(context.Background())
	go a.sweep(sctx, chats, messages)
	go a.sweepPushes(sctx, s.Push.SweepEvery)
	go a.sweepAccounts(sctx, s.Accounts.SweepEvery)
	return a, nil
}

// overrides applies the environment's timings (PresenceGrace,
// PresenceLeaseTTL, ListenerRollover) to the parts' options, and gives
// them the logger.
func (s *Settings) overrides(log *slog.Logger) {
	for _, o := range []struct {
		dst *time.Duration
		v   time.Duration
	}{
		{&s.Presence.Grace, s.PresenceGrace}, {&s.Presence.LeaseTTL, s.PresenceLeaseTTL}, {&s.Realtime.Rollover, s.ListenerRollover},
	} {
		if o.v != 0 {
			*o.dst = o.v
		}
	}
	if s.Realtime.Logger == nil {
		s.Realtime.Logger = log
	}
	if s.Presence.Logger == nil {
		s.Presence.Logger = log
	}
}

// gauges reports what the instance holds now.
func gauges(m *metrics.Metrics, sockets *handlers.Sockets, node *realtime.Node) {
	m.GaugeFunc("chatapp_sockets", "Sockets connected now.", func() float64 { n, _ := sockets.Sockets(); return float64(n) })
	m.GaugeFunc("chatapp_listeners", "Firestore listeners running now.", func() float64 { return float64(node.Listeners()) })
	m.GaugeFunc("chatapp_served_users", "Users whose events this instance delivers (lingering ones included).",
		func() float64 { u, _ := node.Served(); return float64(u) })
}

// ServeMetrics serves the metrics on ln (an address of its own, never the
// public port) until ctx ends.
func (a *App) ServeMetrics(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", a.Metrics.Handler())
	// pprof on the private address only: profiles for the load tool and
	// operators (heap?gc=1 also runs a GC first, for before/after heaps).
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		_ = hs.Close()
	}()
	a.log.Info("metrics listening", "addr", ln.Addr().String())
	if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		a.log.Warn("metrics server failed: " + err.Error())
	}
}

// ShutdownBudget leaves Cloud Run's SIGKILL (10 s after SIGTERM) two
// seconds of slack.
const ShutdownBudget = 8 * time.Second

// Serve serves on ln until ctx ends, then shuts down within ShutdownBudget:
// stop accepting, disconnect sockets (clients reconnect elsewhere), drain
// requests, stop listeners.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	// No ReadTimeout or WriteTimeout: a websocket is one long request and
	// a deadline set here would cut it. Idle keep-alive connections and
	// slow headers are bounded.
	hs := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	a.log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		a.Close()
		if !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("serve failed: " + err.Error())
			return err
		}
		return nil
	case <-ctx.Done():
	}
	a.log.Info("shutting down")
	// One deadline for every step: storage that hangs cannot stretch the
	// shutdown past Cloud Run's SIGKILL. Not every step takes a context
	// (the engine and presence wait for their goroutines, the client
	// library closes its connections), so the whole teardown runs aside
	// and the process exits at the budget's last second without it.
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownBudget-1500*time.Millisecond)
	defer cancel()
	closed := make(chan struct{})
	go func() {
		defer close(closed)
		a.CloseSockets(sctx)
		// The sockets are closed: their users' sessions end after the
		// grace, ended by a live instance (or the next to start) if this
		// one is gone.
		a.presence.Close(sctx, time.Now())
		if err := hs.Shutdown(sctx); err != nil {
			// Hijacked websockets are not tracked by Shutdown; anything
			// still open now is cut.
			_ = hs.Close()
		}
		a.CloseContext(sctx)
	}()
	select {
	case <-closed:
		a.log.Info("stopped")
	case <-time.After(ShutdownBudget - time.Second):
		a.log.Warn("stopped before the clean-up ended: storage did not answer in time")
	}
	return nil
}

// Sockets counts the sockets the instance holds and their users.
func (a *App) Sockets() (sockets, users int) { return a.sockets.Sockets() }

// CloseSockets refuses new sockets and disconnects the open ones, waiting
// for their clean-up until ctx ends.
func (a *App) CloseSockets(ctx context.Context) { a.sockets.Close(ctx) }

// Close stops the realtime engine and releases the adapters, giving
// storage clean-up two seconds.
func (a *App) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	a.CloseContext(ctx)
}

// CloseContext is Close bounded by ctx: what storage has not done by then
// (deferred typing writes, heartbeat removal) is given up.
func (a *App) CloseContext(ctx context.Context) {
	a.presence.Close(ctx, time.Now())
	a.stopSweep()
	a.chats.Close()
	a.messages.Close()
	a.pusher.Close()
	a.accounts.Close()
	for _, done := range []chan struct{}{a.sweepDone, a.pushDone, a.accountsDone} {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	done := make(chan struct{})
	go func() { a.rooms.Close(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		a.log.Warn("typing writes still under way at shutdown")
	}
	a.Node.Close()
	a.listener.Close(ctx)
	if err := a.DB.Close(); err != nil {
		a.log.Warn("firestore close: " + err.Error())
	}
	if err := a.files.Close(); err != nil {
		a.log.Warn("storage close: " + err.Error())
	}
}
