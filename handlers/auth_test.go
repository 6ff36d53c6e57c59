package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// badTokens are the refusals every authenticated entry point must answer
// with unauthorized.
func badTokens(t *testing.T) map[string]string {
	t.Helper()
	u := chattest.NewUser(t, "")
	revoked := chattest.NewUser(t, "")
	oldToken := revoked.Token
	revoked.Revoke(t)
	disabled := chattest.NewUser(t, "")
	disabled.Disable(t)
	now := time.Now()
	return map[string]string{
		"Missing":        "",
		"Malformed":      "not-a-jwt",
		"ForgedUser":     chattest.CraftToken(t, "no-such-user-"+u.UID, now, now.Add(time.Hour), ""),
		"ForgedAudience": chattest.CraftToken(t, u.UID, now, now.Add(time.Hour), "other-project"),
		"Expired":        chattest.CraftToken(t, u.UID, now.Add(-3*time.Hour), now.Add(-2*time.Hour), ""),
		"Revoked":        oldToken,
		"Disabled":       disabled.Token,
	}
}

func TestRESTAuth(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	c := chattest.MustContract(t)
	for name, token := range badTokens(t) {
		t.Run("Err"+name, func(t *testing.T) {
			r := in.Do(t, "GET", "/api/me", token, nil)
			c.ValidateREST(t, "GET", "/api/me", r)
			if r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthorized" {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
		})
	}
	t.Run("ErrEveryEndpointNeedsToken", func(t *testing.T) {
		for _, op := range []struct{ method, template, path string }{
			{"PATCH", "/api/me", "/api/me"},
			{"GET", "/api/users", "/api/users?q=a"},
			{"GET", "/api/chats", "/api/chats"},
			{"POST", "/api/chats", "/api/chats"},
			{"GET", "/api/chats/{id}", "/api/chats/x"},
			{"PATCH", "/api/chats/{id}", "/api/chats/x"},
			{"DELETE", "/api/chats/{id}", "/api/chats/x"},
			{"POST", "/api/chats/{id}/members", "/api/chats/x/members"},
			{"DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/x/members/y"},
			{"GET", "/api/chats/{id}/messages", "/api/chats/x/messages"},
			{"POST", "/api/chats/{id}/messages", "/api/chats/x/messages"},
			{"POST", "/api/chats/{id}/read", "/api/chats/x/read"},
			{"GET", "/api/chats/{id}/files/{fileId}", "/api/chats/x/files/y"},
		} {
			r := in.Do(t, op.method, op.path, "", `{}`)
			c.ValidateREST(t, op.method, op.template, r)
			if r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthorized" {
				t.Fatalf("%s %s: %d %s", op.method, op.path, r.Status, r.Body)
			}
		}
	})
	t.Run("ErrWrongScheme", func(t *testing.T) {
		u := chattest.NewUser(t, "")
		req, _ := http.NewRequest("GET", in.URL+"/api/me", nil)
		req.Header.Set("Authorization", "Basic "+u.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("got %d", resp.StatusCode)
		}
	})
	t.Run("Fresh", func(t *testing.T) {
		u := chattest.NewUser(t, "")
		if r := in.Do(t, "GET", "/api/me", u.Token, nil); r.Status != http.StatusOK {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
}

func TestSocketAuth(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	c := chattest.MustContract(t)
	for name, token := range badTokens(t) {
		t.Run("Err"+name, func(t *testing.T) {
			_, err := chattest.Dial(t, in.URL, token)
			var ce *chattest.ConnectError
			if !errors.As(err, &ce) || ce.Message != "unauthorized" {
				t.Fatalf("want connect_error unauthorized, got %v", err)
			}
			if err := c.ValidateEvent("connect_error", ce.Data); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("ErrNoAuthObject", func(t *testing.T) {
		_, err := chattest.DialHeader(t, in.URL, nil, nil)
		var ce *chattest.ConnectError
		if !errors.As(err, &ce) || ce.Message != "unauthorized" {
			t.Fatalf("want connect_error unauthorized, got %v", err)
		}
	})
	t.Run("ErrTokenNotString", func(t *testing.T) {
		_, err := chattest.DialHeader(t, in.URL, map[string]any{"token": 42}, nil)
		var ce *chattest.ConnectError
		if !errors.As(err, &ce) || ce.Message != "unauthorized" {
			t.Fatalf("want connect_error unauthorized, got %v", err)
		}
	})
	t.Run("DisconnectedAtExpiry", func(t *testing.T) {
		u := chattest.NewUser(t, "")
		now := time.Now()
		exp := now.Add(3 * time.Second).Truncate(time.Second) // JWT times are whole seconds
		// The token expires in about 3 s: the socket must not outlive it.
		s := chattest.MustDial(t, in.URL, chattest.CraftToken(t, u.UID, now, exp, ""))
		s.WaitClosed(t)
		if time.Now().Before(exp) {
			t.Fatal("closed before the token expired")
		}
	})
	t.Run("ExpiredWithinSkewCutAtOnce", func(t *testing.T) {
		// The Admin SDK accepts a token up to 5 minutes past its expiry
		// (clock skew): such a socket connects, then is cut at once.
		u := chattest.NewUser(t, "")
		now := time.Now()
		s, err := chattest.Dial(t, in.URL, chattest.CraftToken(t, u.UID, now.Add(-time.Hour), now.Add(-time.Minute), ""))
		if err != nil {
			var ce *chattest.ConnectError
			if !errors.As(err, &ce) || ce.Message != "unauthorized" {
				t.Fatalf("want a cut socket or connect_error unauthorized, got %v", err)
			}
			t.Log("refused at the handshake")
			return
		}
		s.WaitClosed(t)
		t.Log("connected, then cut at once")
	})
}

func TestSocketOrigin(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{CORSOrigins: []string{"https://app.example.com"}})
	u := chattest.NewUser(t, "")
	t.Run("Allowed", func(t *testing.T) {
		h := http.Header{"Origin": {"https://app.example.com"}}
		if _, err := chattest.DialHeader(t, in.URL, map[string]any{"token": u.Token}, h); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("ErrOtherOrigin", func(t *testing.T) {
		h := http.Header{"Origin": {"https://evil.example.com"}}
		_, err := chattest.DialHeader(t, in.URL, map[string]any{"token": u.Token}, h)
		if err == nil || !strings.Contains(err.Error(), "403") {
			t.Fatalf("want 403, got %v", err)
		}
	})
	t.Run("NoOrigin", func(t *testing.T) { // non-browser clients send none
		if _, err := chattest.DialHeader(t, in.URL, map[string]any{"token": u.Token}, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestCORS(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{CORSOrigins: []string{"https://app.example.com"}})
	preflight := func(origin, path string) http.Header {
		req, _ := http.NewRequest("OPTIONS", in.URL+path, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	for _, path := range []string{"/api/chats", "/socket.io/?EIO=4&transport=polling"} {
		t.Run("Allowed"+path, func(t *testing.T) {
			h := preflight("https://app.example.com", path)
			if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Allow-Credentials") != "true" {
				t.Fatalf("no grant: %v", h)
			}
		})
		t.Run("ErrOther"+path, func(t *testing.T) {
			if h := preflight("https://evil.example.com", path); h.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("granted: %v", h)
			}
		})
	}
	t.Run("EveryMethodTheAPIUses", func(t *testing.T) {
		// A browser asks before each method; one missing here fails every
		// call of it from the web client (PUT: reactions).
		allowed := preflight("https://app.example.com", "/api/chats").Get("Access-Control-Allow-Methods")
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if !strings.Contains(allowed, m) {
				t.Fatalf("Access-Control-Allow-Methods %q lacks %s", allowed, m)
			}
		}
	})
}

// expiringVerifier is the real verifier, but the token it accepts
// expired a second ago: what the Admin SDK's 5 minutes of clock skew let
// through, or a token that expired while the handshake ran.
type expiringVerifier struct{ chat.TokenVerifier }

func (v expiringVerifier) Verify(ctx context.Context, token string) (chat.Identity, error) {
	id, err := v.TokenVerifier.Verify(ctx, token)
	id.Expires = time.Now().Add(-time.Second)
	return id, err
}

// TestTokenExpiredDuringHandshake: a socket whose token is expired by the
// time it connects is cut at once, not left open.
func TestTokenExpiredDuringHandshake(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{WrapVerifier: func(v chat.TokenVerifier) chat.TokenVerifier { return expiringVerifier{v} }})
	u := chattest.NewUser(t, "")
	s := chattest.MustDial(t, in.URL, u.Token)
	s.WaitClosed(t)
	waitFor(t, "the socket released", func() bool { n, _ := in.App.Sockets(); return n == 0 })
}
