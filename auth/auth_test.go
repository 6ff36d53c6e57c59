package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chattest"
)

// countedAccounts counts the account lookups a Verifier makes for its
// revocation checks and can answer, from a moment on, that the user's
// tokens were revoked then (the account itself stays as it is: the SDK's
// own emulator-mode check must still pass).
type countedAccounts struct {
	auth.Accounts
	mu        sync.Mutex // guards n, revokedAt
	n         int
	revokedAt time.Time
}

func (c *countedAccounts) GetUser(ctx context.Context, uid string) (*auth.UserRecord, error) {
	u, err := c.Accounts.GetUser(ctx, uid)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	if err == nil && !c.revokedAt.IsZero() {
		cp := *u
		cp.TokensValidAfterMillis = c.revokedAt.UnixMilli()
		u = &cp
	}
	return u, err
}

func (c *countedAccounts) lookups() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *countedAccounts) revoke() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.revokedAt = time.Now().Add(time.Hour) // every token issued so far
}

func mustVerifier(t *testing.T, remember time.Duration) (*auth.Verifier, *countedAccounts) {
	t.Helper()
	v, err := auth.NewVerifier(context.Background(), chattest.MustEnv(t).Project, remember)
	if err != nil {
		t.Fatal(err)
	}
	var c *countedAccounts
	v.WrapAccounts(func(a auth.Accounts) auth.Accounts { c = &countedAccounts{Accounts: a}; return c })
	return v, c
}

// TestRevocationRemembered: a user's revocation state is looked up once per
// period, not per request, and a revoked token is refused once the period
// has passed (the contract's 60 s; a second here).
func TestRevocationRemembered(t *testing.T) {
	v, acc := mustVerifier(t, time.Second)
	u := chattest.NewUser(t, "rev")
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := v.Verify(ctx, u.Token); err != nil {
				t.Errorf("verify: %v", err)
			}
		})
	}
	wg.Wait()
	if n := acc.lookups(); n != 1 {
		t.Fatalf("%d account lookups for 10 checks of one user, want 1", n)
	}
	acc.revoke()
	if _, err := v.Verify(ctx, u.Token); err != nil {
		t.Fatalf("refused while remembered: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := v.Verify(ctx, u.Token)
		if chat.ErrorCode(err) == chat.EUNAUTHORIZED {
			break
		} else if err != nil {
			t.Fatalf("verify: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("a revoked token still accepted 10 s after the revocation")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := acc.lookups(); n != 2 {
		t.Fatalf("%d account lookups, want 2 (one per period)", n)
	}
}

// TestDisabledRefused: a disabled user not seen before is refused at once.
func TestDisabledRefused(t *testing.T) {
	v, _ := mustVerifier(t, auth.RememberFor)
	d := chattest.NewUser(t, "dis")
	d.Disable(t)
	if _, err := v.Verify(context.Background(), d.Token); chat.ErrorCode(err) != chat.EUNAUTHORIZED {
		t.Fatalf("a disabled user: %v", err)
	}
}
