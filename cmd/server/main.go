// Command server runs the ChatApp backend: REST and Socket.IO on one port,
// state in Firestore, identities from Firebase Auth.
package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/firestore"
	"github.com/chatapp/chat/handlers"
)

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		os.Exit(1)
	}
}

// shutdownBudget leaves Cloud Run's SIGKILL (10 s after SIGTERM) two
// seconds of slack.
const shutdownBudget = 8 * time.Second

// run starts the server and blocks until SIGTERM/SIGINT or a fatal error.
func run(ctx context.Context, getenv func(string) string, stdout *os.File) error {
	cfg, err := LoadConfig(getenv)
	level := slog.LevelInfo
	if cfg.LogLevel == "debug" {
		level = slog.LevelDebug
	}
	log := handlers.NewLogger(stdout, cfg.ProjectID, level)
	if err != nil {
		log.Error("invalid configuration: " + err.Error())
		return err
	}
	if cfg.FirebaseAuthEmulatorHost != "" {
		log.Warn("auth emulator mode: token signatures are not checked", "host", cfg.FirebaseAuthEmulatorHost)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	app, err := Build(ctx, cfg, log)
	if err != nil {
		log.Error("start failed: " + err.Error())
		return err
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		log.Error("listen failed: " + err.Error())
		app.Close()
		return err
	}
	return app.Serve(ctx, ln)
}

// App is a wired server: tests run several in one process.
type App struct {
	Handler http.Handler
	Feed    *firestore.Feed
	log     *slog.Logger
	hub     *handlers.Hub
	db      *firestore.DB
}

// Build connects the adapters and hands them to the handlers.
func Build(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	verifier, err := auth.NewVerifier(ctx, cfg.ProjectID)
	if err != nil {
		return nil, err
	}
	db, err := firestore.Open(ctx, cfg.ProjectID)
	if err != nil {
		return nil, err
	}
	users := firestore.NewUserService(db)
	chats := firestore.NewChatService(db, users)
	hub := handlers.NewHub(log)
	feed := firestore.NewFeed(db, chats, hub, firestore.FeedOptions{Logger: log})
	srv := handlers.NewServer(handlers.Services{
		Verifier: verifier, Users: users, Chats: chats,
		Messages: firestore.NewMessageService(db, chats), Rooms: firestore.NewRoomService(db, chats),
		Feed: feed, Ready: db.Ping,
	}, hub, handlers.Options{CORSOrigins: cfg.CORSOrigins, Logger: log})
	return &App{Handler: srv, Feed: feed, log: log, hub: hub, db: db}, nil
}

// Serve serves on ln until ctx ends, then shuts down within shutdownBudget:
// stop accepting, disconnect sockets (clients reconnect elsewhere), drain
// requests, stop listeners.
func (a *App) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: a.Handler, ReadHeaderTimeout: 10 * time.Second}
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
	sctx, cancel := context.WithTimeout(context.Background(), shutdownBudget-time.Second)
	defer cancel()
	a.hub.Close()
	err := hs.Shutdown(sctx)
	if err != nil {
		// Hijacked websockets are not tracked by Shutdown; anything still
		// open now is cut.
		_ = hs.Close()
	}
	a.Close()
	a.log.Info("stopped")
	return nil
}

// Close releases the adapters.
func (a *App) Close() {
	a.Feed.Close()
	if err := a.db.Close(); err != nil {
		a.log.Warn("firestore close: " + err.Error())
	}
}
