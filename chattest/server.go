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

	"google.golang.org/api/option"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/firestore"
	"github.com/chatapp/chat/handlers"
	"github.com/chatapp/chat/hub"
	"github.com/chatapp/chat/presence"
	"github.com/chatapp/chat/realtime"
)

// Instance is one server instance in the test process, wired by package
// app exactly as cmd/server is and serving on a loopback port. Several
// instances share only the Firestore emulator, as Cloud Run instances do.
type Instance struct {
	URL  string
	App  *app.App
	Node *realtime.Node
	DB   *firestore.DB
	srv  *httptest.Server
}

// Options tune an instance: engine timings and fakes put in front of real
// parts at their interfaces.
type Options struct {
	// Bucket holds attachments; empty is the bucket `make test` made.
	Bucket string
	// Database is the Firestore database; empty is the test's own
	// (Database).
	Database string
	// FirestoreHost is a Firestore emulator of the test's own (or an
	// address nothing answers); empty is the shared one.
	FirestoreHost string
	Realtime      realtime.Options
	Presence      presence.Options
	CORSOrigins   []string
	WrapVerifier  func(chat.TokenVerifier) chat.TokenVerifier
	WrapSource    func(realtime.Source) realtime.Source
	WrapReader    func(realtime.Reader) realtime.Reader
	WrapRooms     func(chat.RoomService) chat.RoomService
	// WrapWire wraps each socket's connection as the hub writes to it.
	WrapWire func(uid string, w hub.Wire) hub.Wire
	// PingInterval and PingTimeout shorten Engine.IO's heartbeat.
	PingInterval, PingTimeout time.Duration
	// Push configures push notifications; without an FCMEndpoint the
	// instance gets a fake FCM of its own that nobody looks at.
	Push app.PushSettings
}

// NewInstance starts an instance, stopped with the test.
func NewInstance(tb testing.TB, opts Options) *Instance {
	tb.Helper()
	env := MustEnv(tb)
	log := handlers.NewLogger(logWriter(tb), env.Project, slog.LevelInfo)
	if opts.Bucket == "" {
		opts.Bucket = env.Bucket
	}
	if opts.Database == "" {
		opts.Database = Database(tb)
	}
	hooks := app.Hooks{Verifier: opts.WrapVerifier, Source: opts.WrapSource, Reader: opts.WrapReader, Rooms: opts.WrapRooms, Wire: opts.WrapWire}
	if opts.FirestoreHost != "" {
		hooks.Firestore = []option.ClientOption{option.WithGRPCConn(DialFirestore(tb, opts.FirestoreHost))}
	}
	if opts.Push.FCMEndpoint == "" {
		opts.Push.FCMEndpoint = NewFakeFCM(tb).URL
	}
	a, err := app.BuildWith(context.Background(), app.Settings{
		ProjectID: env.Project, Database: opts.Database, Bucket: opts.Bucket, CORSOrigins: opts.CORSOrigins, Logger: log, Realtime: opts.Realtime, Presence: opts.Presence,
		PingInterval: opts.PingInterval, PingTimeout: opts.PingTimeout, Push: opts.Push,
	}, hooks)
	if err != nil {
		tb.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler)
	in := &Instance{URL: srv.URL, App: a, Node: a.Node, DB: a.DB, srv: srv}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		a.CloseSockets(ctx)
		srv.CloseClientConnections()
		srv.Close()
		a.Close()
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
