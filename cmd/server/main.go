// Command server runs the ChatApp backend: REST and Socket.IO on one port,
// state in Firestore, identities from Firebase Auth.
package main

import (
	"context"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/chatapp/chat/app"
)

// version is stamped at build time (-ldflags "-X main.version=…"; the
// Dockerfile passes the commit) and logged at start, so a log line tells
// which build served it.
var version = "dev"

func main() {
	if err := run(context.Background(), os.Getenv, os.Stdout); err != nil {
		os.Exit(1)
	}
}

// run starts the server and blocks until SIGTERM/SIGINT or a fatal error.
func run(ctx context.Context, getenv func(string) string, stdout *os.File) error {
	cfg, err := LoadConfig(getenv)
	level := slog.LevelInfo
	if cfg.LogLevel == "debug" {
		level = slog.LevelDebug
	}
	log := app.NewLogger(stdout, cfg.ProjectID, level)
	if err != nil {
		log.Error("invalid configuration: " + err.Error())
		return err
	}
	log.Info("starting", "version", version)
	if cfg.FirebaseAuthEmulatorHost != "" {
		log.Warn("auth emulator mode: token signatures are not checked", "host", cfg.FirebaseAuthEmulatorHost)
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	a, err := app.Build(ctx, app.Settings{ProjectID: cfg.ProjectID, Database: cfg.Database, Bucket: cfg.StorageBucket,
		PresenceGrace: cfg.PresenceGrace, PresenceLeaseTTL: cfg.PresenceLeaseTTL, ListenerRollover: cfg.ListenerRollover,
		CORSOrigins: cfg.CORSOrigins, Logger: log,
		Push:     app.PushSettings{Delay: cfg.PushDelay, WebAppURL: cfg.WebAppURL, FCMEndpoint: cfg.FCMEndpoint, SweepEvery: cfg.PushSweep},
		Accounts: app.AccountSettings{Lease: cfg.AccountLease, SweepEvery: cfg.AccountSweep}})
	if err != nil {
		log.Error("start failed: " + err.Error())
		return err
	}
	ln, err := net.Listen("tcp", ":"+strconv.Itoa(cfg.Port))
	if err != nil {
		log.Error("listen failed: " + err.Error())
		a.Close()
		return err
	}
	if cfg.MetricsAddr != "" {
		// Listened on after the public port: the same port cannot be both.
		mln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			log.Error("metrics listen failed: " + err.Error())
			a.Close()
			return err
		}
		go a.ServeMetrics(ctx, mln)
	}
	return a.Serve(ctx, ln)
}
