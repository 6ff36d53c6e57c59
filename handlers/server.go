// Package handlers translates HTTP (Echo) and Socket.IO to calls of the
// domain services and their results back to the contract's JSON. It holds
// no business rules and knows no storage.
package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/chatapp/chat"
)

// Services are the domain services the handlers call.
type Services struct {
	Verifier chat.TokenVerifier
	Users    chat.UserService
	Chats    chat.ChatService
	Messages chat.MessageService
	Files    chat.FileService
	Rooms    chat.RoomService
	Blocks   chat.BlockService
	Devices  chat.DeviceService
	Export   chat.ExportService
	Accounts chat.AccountService
	// Presence is told of every socket opened and closed.
	Presence chat.PresenceTracker
	// Ready answers the readiness probe: nil when storage answers.
	Ready func(ctx context.Context) error
}

// Options tune the server.
type Options struct {
	CORSOrigins []string
	Logger      *slog.Logger
	// MaxBodyBytes bounds JSON request bodies.
	MaxBodyBytes int64
	// PingInterval and PingTimeout are Engine.IO's heartbeat (25 s and
	// 20 s by default): a client that stops answering is gone after their
	// sum.
	PingInterval, PingTimeout time.Duration
	// Wire wraps each socket's wire (a test's hook); nil in production.
	Wire WireHook
}

func (o *Options) defaults() {
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 1 << 20
	}
	if o.PingInterval == 0 {
		o.PingInterval = 25 * time.Second
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = 20 * time.Second
	}
}

// Server serves REST and Socket.IO on one http.Handler.
type Server struct {
	echo    *echo.Echo
	svc     Services
	opts    Options
	log     *slog.Logger
	limiter *limiter

	readyMu sync.Mutex // guards readyAt, readyOK
	readyAt time.Time
	readyOK bool
}

// NewServer builds the HTTP side and mounts the Socket.IO endpoint.
func NewServer(svc Services, sockets *Sockets, opts Options) *Server {
	opts.defaults()
	s := &Server{echo: echo.New(), svc: svc, opts: opts, log: opts.Logger, limiter: newLimiter()}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.httpError
	e.Use(s.accessLog, middleware.Recover(), requireUTF8)
	e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
		// Socket.IO answers its own CORS (same origins): two sets of
		// headers on one response would make browsers refuse both.
		Skipper:          func(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/socket.io/") },
		AllowOrigins:     opts.CORSOrigins,
		AllowCredentials: true,
		AllowHeaders:     []string{"Authorization", "Content-Type", "X-Cloud-Trace-Context"},
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions},
		ExposeHeaders:    []string{"Retry-After"},
		MaxAge:           600,
	}))

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/readyz", s.readyz)

	sio := echo.WrapHandler(sockets.Handler())
	e.Any("/socket.io/", sio, s.checkOrigin)
	e.Any("/socket.io/*", sio, s.checkOrigin)

	api := e.Group("/api", s.authenticate)
	api.GET("/me", s.getMe, s.limit("other"))
	api.PATCH("/me", s.patchMe, s.limit("other"))
	api.DELETE("/me", s.deleteMe, s.limit("other"))
	api.GET("/me/export", s.export, s.limit("other"))
	api.GET("/me/blocks", s.findBlocks, s.limit("other"))
	api.PUT("/me/blocks/:uid", s.block(true), s.limit("other"))
	api.DELETE("/me/blocks/:uid", s.block(false), s.limit("other"))
	api.GET("/me/devices", s.findDevices, s.limit("other"))
	api.PUT("/me/devices/:deviceId", s.putDevice, s.limit("other"))
	api.DELETE("/me/devices/:deviceId", s.deleteDevice, s.limit("other"))
	api.GET("/users", s.findUsers, s.limit("other"))
	api.GET("/chats", s.findChats, s.limit("other"))
	api.POST("/chats", s.createChat, s.limit("other"))
	api.GET("/chats/:id", s.getChat, s.limit("other"))
	api.PATCH("/chats/:id", s.patchChat, s.limit("other"))
	api.DELETE("/chats/:id", s.deleteChat, s.limit("other"))
	api.POST("/chats/:id/members", s.addMembers, s.limit("other"))
	api.DELETE("/chats/:id/members/:uid", s.removeMember, s.limit("other"))
	api.GET("/chats/:id/messages", s.findMessages, s.limit("other"))
	api.POST("/chats/:id/messages", s.sendMessage, s.limit("message"))
	api.GET("/chats/:id/messages/:mid", s.getMessage, s.limit("other"))
	api.PATCH("/chats/:id/messages/:mid", s.editMessage, s.limit("message"))
	api.PUT("/chats/:id/messages/:mid/reactions/:emoji", s.react(true), s.limit("message"))
	api.DELETE("/chats/:id/messages/:mid/reactions/:emoji", s.react(false), s.limit("message"))
	api.DELETE("/chats/:id/messages/:mid", s.deleteMessage, s.limit("message"))
	api.POST("/chats/:id/read", s.markRead, s.limit("other"))
	api.PUT("/chats/:id/mute", s.mute(true), s.limit("other"))
	api.DELETE("/chats/:id/mute", s.mute(false), s.limit("other"))
	api.GET("/chats/:id/files/:fileId", s.getFile, s.limit("other"))
	api.Any("/*", func(c echo.Context) error { return chat.Errorf(chat.ENOTFOUND, "No such endpoint.") })
	return s
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// readyCacheFor is how long a readiness answer is reused: probes and
// anyone else hitting /readyz cost at most one Firestore read a second.
const readyCacheFor = time.Second

func (s *Server) readyz(c echo.Context) error {
	s.readyMu.Lock()
	fresh, ok := time.Since(s.readyAt) < readyCacheFor, s.readyOK
	s.readyMu.Unlock()
	if !fresh {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
		err := s.svc.Ready(ctx)
		cancel()
		if err != nil {
			s.log.WarnContext(c.Request().Context(), "not ready", "err", err.Error())
		}
		ok = err == nil
		s.readyMu.Lock()
		s.readyAt, s.readyOK = time.Now(), ok
		s.readyMu.Unlock()
	}
	if !ok {
		return c.JSON(http.StatusServiceUnavailable, errorBody{errorDetail{chat.EINTERNAL, "Storage does not answer."}})
	}
	return c.String(http.StatusOK, "ready")
}

// httpError writes every error as the contract's Error body.
func (s *Server) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code := chat.EINTERNAL
		msg := "An internal error occurred."
		switch he.Code {
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			code, msg = chat.ENOTFOUND, "No such endpoint."
			he.Code = http.StatusNotFound
		case http.StatusRequestEntityTooLarge:
			code, msg = chat.ETOOLARGE, "The request body is too large."
		case http.StatusBadRequest:
			code, msg = chat.EINVALID, "The request is malformed."
		case http.StatusUnauthorized:
			code, msg = chat.EUNAUTHORIZED, "A valid Firebase ID token is required."
		default:
			s.log.ErrorContext(c.Request().Context(), "http error", "err", err.Error())
			he.Code = http.StatusInternalServerError
		}
		_ = c.JSON(he.Code, errorBody{errorDetail{code, msg}})
		return
	}
	status, body := errorPayload(c.Request().Context(), s.log, err)
	if status == 499 {
		c.Response().WriteHeader(status)
		return
	}
	if status == http.StatusTooManyRequests && c.Response().Header().Get("Retry-After") == "" {
		// A limit of the service (a chat too busy), not the per-user one
		// that knows its wait: a second is a busy chat's next batches.
		c.Response().Header().Set("Retry-After", "1")
	}
	_ = c.JSON(status, body)
}

// accessLog writes one line per request, with the trace, never a token.
func (s *Server) accessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		req := c.Request()
		ctx := withTrace(req.Context(), req.Header.Get("X-Cloud-Trace-Context"))
		c.SetRequest(req.WithContext(ctx))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		attrs := []any{
			"method", req.Method, "path", req.URL.Path, "status", c.Response().Status,
			"latencyMs", time.Since(start).Milliseconds(), "bytes", c.Response().Size,
		}
		if id, ok := chat.IdentityFromContext(c.Request().Context()); ok {
			attrs = append(attrs, "user", id.UID)
		}
		if strings.HasPrefix(req.URL.Path, "/socket.io/") {
			attrs = append(attrs, "transport", req.URL.Query().Get("transport"))
		}
		s.log.InfoContext(ctx, "request", attrs...)
		return nil
	}
}

// checkOrigin holds browsers to CORS_ORIGINS on the Socket.IO endpoint: the
// library's websocket upgrade accepts any Origin, and a page on another
// site must not open a socket with a token it got hold of.
func (s *Server) checkOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if origin := c.Request().Header.Get("Origin"); origin != "" && !originAllowed(s.opts.CORSOrigins, origin) {
			return chat.Errorf(chat.EFORBIDDEN, "This origin may not connect.")
		}
		return next(c)
	}
}

// originAllowed tells whether a browser page of origin may use the API.
func originAllowed(allowed []string, origin string) bool {
	return slices.Contains(allowed, origin)
}

// authenticate verifies the bearer token and puts the identity in the
// request's context.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return chat.Errorf(chat.EUNAUTHORIZED, "A valid Firebase ID token is required.")
		}
		id, err := s.svc.Verifier.Verify(c.Request().Context(), token)
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(chat.NewContextWithIdentity(c.Request().Context(), id)))
		return next(c)
	}
}

// limit applies the per-user rate limit of kind.
func (s *Server) limit(kind string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			id, _ := chat.IdentityFromContext(c.Request().Context())
			if ok, wait := s.limiter.allow(id.UID, kind); !ok {
				c.Response().Header().Set("Retry-After", itoa64(int64(wait/time.Second)))
				return chat.Errorf(chat.ERATELIMITED, "Too many requests; retry later.")
			}
			return next(c)
		}
	}
}
