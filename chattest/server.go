package chattest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/firestore"
	"github.com/chatapp/chat/handlers"
)

// Instance is one server instance in the test process, wired like
// cmd/server and serving on a loopback port. Several instances share only
// the Firestore emulator, as Cloud Run instances do.
type Instance struct {
	URL  string
	Feed *firestore.Feed
	DB   *firestore.DB
	srv  *httptest.Server
	hub  *handlers.Hub
}

// Options tune an instance.
type Options struct {
	Feed        firestore.FeedOptions
	CORSOrigins []string
}

// NewInstance starts an instance, stopped with the test.
func NewInstance(tb testing.TB, opts Options) *Instance {
	tb.Helper()
	env := MustEnv(tb)
	ctx := context.Background()
	log := handlers.NewLogger(logWriter(tb), env.Project, slog.LevelInfo)
	verifier, err := auth.NewVerifier(ctx, env.Project)
	if err != nil {
		tb.Fatal(err)
	}
	db := MustOpenDB(tb)
	users := firestore.NewUserService(db)
	chats := firestore.NewChatService(db, users)
	hub := handlers.NewHub(log)
	if opts.Feed.Logger == nil {
		opts.Feed.Logger = log
	}
	feed := firestore.NewFeed(db, chats, hub, opts.Feed)
	h := handlers.NewServer(handlers.Services{
		Verifier: verifier, Users: users, Chats: chats,
		Messages: firestore.NewMessageService(db, chats), Rooms: firestore.NewRoomService(db, chats),
		Feed: feed, Ready: db.Ping,
	}, hub, handlers.Options{CORSOrigins: opts.CORSOrigins, Logger: log})
	srv := httptest.NewServer(h)
	in := &Instance{URL: srv.URL, Feed: feed, DB: db, srv: srv, hub: hub}
	tb.Cleanup(func() {
		hub.Close()
		srv.CloseClientConnections()
		srv.Close()
		feed.Close()
	})
	return in
}

// logWriter sends server logs to the test log when CHATAPP_TEST_LOGS is
// set, else discards them: they would bury the failures.
func logWriter(tb testing.TB) io.Writer {
	if os.Getenv("CHATAPP_TEST_LOGS") != "" {
		return os.Stderr
	}
	return io.Discard
}

// Response is a REST answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r Response) JSON(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("response %d is not JSON: %v: %s", r.Status, err, r.Body)
	}
}

// ErrorCode returns the Error body's code ("" if the body is no Error).
func (r Response) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends a REST request with the token (none when empty). body may be a
// string (sent as is) or a value sent as JSON.
func (in *Instance) Do(tb testing.TB, method, path, token string, body any) Response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			tb.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, in.URL+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		tb.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}
