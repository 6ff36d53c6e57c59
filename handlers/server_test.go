package handlers_test

import (
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	c := chattest.MustContract(t)
	t.Run("Healthz", func(t *testing.T) {
		r := in.Do(t, "GET", "/healthz", "", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d", r.Status)
		}
	})
	t.Run("Readyz", func(t *testing.T) {
		r := in.Do(t, "GET", "/readyz", "", nil)
		if r.Status != http.StatusOK {
			t.Fatalf("status %d %s", r.Status, r.Body)
		}
		c.ValidateREST(t, "GET", "/readyz", r)
	})
}

func TestNotReady(t *testing.T) {
	t.Parallel()
	// Firestore unreachable: the instance runs, but is not ready.
	in := chattest.NewInstance(t, chattest.Options{FirestoreHost: "127.0.0.1:1"})
	r := in.Do(t, "GET", "/readyz", "", nil)
	chattest.MustContract(t).ValidateREST(t, "GET", "/readyz", r)
	if r.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d %s", r.Status, r.Body)
	}
	if r := in.Do(t, "GET", "/healthz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("healthz %d", r.Status)
	}
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	t.Run("ErrRateLimited", func(t *testing.T) {
		// Requests from one user on 8 connections until one is refused.
		// limit=0 is refused (400) after the rate check and before any
		// storage: cheap, so they go far above 50/s. The burst of 100 is
		// always let through first.
		var sent, refused atomic.Int64
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					r := a.in.Do(t, "GET", "/api/users?limit=0", u[0].Token, nil)
					sent.Add(1)
					switch r.Status {
					case http.StatusTooManyRequests:
						a.c.ValidateREST(t, "GET", "/api/users", r)
						if r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
							t.Errorf("429 without code or Retry-After: %s %v", r.Body, r.Header)
						}
						refused.Add(1)
					case http.StatusBadRequest:
					default:
						t.Errorf("status %d %s", r.Status, r.Body)
					}
				}
			}()
		}
		chattest.WaitWithin(t, "a request refused", 30*time.Second, func() bool { return refused.Load() > 0 })
		close(stop)
		wg.Wait()
		if ok := sent.Load() - refused.Load(); ok < 100 {
			t.Fatalf("only %d of %d requests let through before a refusal: the burst is 100", ok, sent.Load())
		}
	})
	t.Run("OtherUsersUnaffected", func(t *testing.T) {
		if r := a.in.Do(t, "GET", "/api/users?limit=1", u[1].Token, nil); r.Status != 200 {
			t.Fatalf("status %d", r.Status)
		}
	})
	t.Run("BurstOf30MessagesAccepted", func(t *testing.T) {
		ch := a.mustChat(t, u[1].Token, map[string]any{"userIds": []string{u[0].UID}})
		for i := 0; i < 30; i++ {
			a.mustSend(t, u[1].Token, ch.ID, "burst")
		}
	})
}

func TestMe(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	c := chattest.MustContract(t)
	u := chattest.NewUser(t, "Ana Smith")
	r := in.Do(t, "GET", "/api/me", u.Token, nil)
	c.ValidateREST(t, "GET", "/api/me", r)
	if r.Status != 200 {
		t.Fatalf("status %d %s", r.Status, r.Body)
	}
	s := chattest.MustDial(t, in.URL, u.Token)
	if s.ID == "" {
		t.Fatal("no sid")
	}
	if code := s.Emit(t, "joinChat", "nope"); code != "not_found" {
		t.Fatalf("joinChat unknown: %q", code)
	}
}
