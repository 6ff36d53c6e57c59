package handlers_test

import (
	"net/http"
	"testing"

	"github.com/chatapp/chat/chattest"
)

func TestHealth(t *testing.T) {
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

func TestMe(t *testing.T) {
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
