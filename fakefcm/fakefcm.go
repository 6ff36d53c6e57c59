// Package fakefcm is a small stand-in for Firebase Cloud Messaging's HTTP
// v1 API (FCM has no emulator): it records every message sent to
// POST /projects/{project}/messages:send and answers as FCM does — 200
// with a message name, or for tokens marked so, 404 UNREGISTERED or 400
// INVALID_ARGUMENT with FCM's error details, which the Admin SDK's
// messaging client reads. Tests and `make dev` point the server at it
// with FCM_ENDPOINT; GET /messages lists what was sent, POST
// /tokens/{token}:unregister marks a token, DELETE /messages forgets.
package fakefcm

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Message is one message as the server sent it (FCM's v1 JSON).
type Message struct {
	Token        string            `json:"token"`
	Notification map[string]string `json:"notification"`
	Data         map[string]string `json:"data"`
	Webpush      struct {
		Notification map[string]any    `json:"notification"`
		FCMOptions   map[string]string `json:"fcm_options"`
	} `json:"webpush"`
	Android map[string]any `json:"android"`
	APNS    map[string]any `json:"apns"`
	// At is when it arrived.
	At time.Time `json:"at"`
}

// Server records messages; its zero value is not usable: use New.
type Server struct {
	mu       sync.Mutex // guards the fields below
	messages []Message
	gone     map[string]string // token → FCM error code to answer
	failing  map[string][]int  // token → HTTP statuses to answer first, in order
	seq      int
}

// New returns an empty fake.
func New() *Server { return &Server{gone: map[string]string{}, failing: map[string][]int{}} }

// FailFirst makes the next sends to token answer these statuses, in order
// (429 QUOTA_EXCEEDED, 503 UNAVAILABLE…), before it is served again.
func (s *Server) FailFirst(token string, statuses ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failing[token] = append(s.failing[token], statuses...)
}

// Messages returns the messages received so far, in arrival order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// Refuse makes sends to token fail with code: "UNREGISTERED" or
// "INVALID_ARGUMENT".
func (s *Server) Refuse(token, code string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gone[token] = code
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/projects/") && strings.HasSuffix(r.URL.Path, "/messages:send"):
		s.send(w, r)
	case r.Method == http.MethodGet && r.URL.Path == "/messages":
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"messages": s.Messages()})
	case r.Method == http.MethodDelete && r.URL.Path == "/messages":
		s.mu.Lock()
		s.messages = nil
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/tokens/") && strings.HasSuffix(r.URL.Path, ":unregister"):
		s.Refuse(strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/tokens/"), ":unregister"), "UNREGISTERED")
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Message Message `json:"message"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&req); err != nil || req.Message.Token == "" {
		fcmError(w, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
		return
	}
	req.Message.At = time.Now().UTC()
	s.mu.Lock()
	if f := s.failing[req.Message.Token]; len(f) > 0 {
		s.failing[req.Message.Token] = f[1:]
		s.mu.Unlock()
		code := map[int]string{429: "QUOTA_EXCEEDED", 503: "UNAVAILABLE"}[f[0]]
		fcmError(w, f[0], code, "Try again later.")
		return
	}
	code := s.gone[req.Message.Token]
	if code == "" {
		s.messages = append(s.messages, req.Message)
		s.seq++
	}
	n := s.seq
	s.mu.Unlock()
	switch code {
	case "":
		w.Header().Set("Content-Type", "application/json")
		_, _ = fmt.Fprintf(w, `{"name":"%s/messages/%d"}`, strings.TrimSuffix(r.URL.Path, "/messages:send"), n)
	case "UNREGISTERED":
		fcmError(w, http.StatusNotFound, code, "Requested entity was not found.")
	default:
		fcmError(w, http.StatusBadRequest, code, "The registration token is not a valid FCM registration token")
	}
}

// fcmError answers as FCM does: a Google API error with FcmError details.
func fcmError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	statusName := map[int]string{400: "INVALID_ARGUMENT", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE"}[status]
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"code": status, "message": msg, "status": statusName,
		"details": []map[string]any{{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}},
	}})
}
