// Package auth verifies Firebase ID tokens with the Firebase Admin SDK. The
// same code runs against the Auth emulator (FIREBASE_AUTH_EMULATOR_HOST) and
// production (Application Default Credentials).
package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	firebase "firebase.google.com/go/v4"
	fbauth "firebase.google.com/go/v4/auth"
	"github.com/hashicorp/golang-lru/v2/expirable"
	"golang.org/x/sync/singleflight"

	"github.com/chatapp/chat"
)

var (
	_ chat.TokenVerifier  = (*Verifier)(nil)
	_ chat.AccountRemover = (*Verifier)(nil)
)

const (
	// RememberFor is how long a user's revocation state (disabled, tokens
	// valid after) is reused: the contract refuses a revoked token within
	// 60 s, and checking it on every request and handshake would cost one
	// Auth API call each.
	RememberFor = time.Minute
	// rememberUsers bounds the users remembered (~100 bytes each): past
	// it the least recently seen are checked again.
	rememberUsers = 50_000
	// lookupTimeout bounds one user lookup.
	lookupTimeout = 10 * time.Second
)

// Verifier checks ID tokens, including revocation and disabled users. The
// signature check is local (Google's keys are cached by the SDK); the
// revocation state of each user is looked up at most once per rememberFor
// and shared by concurrent checks of the same user.
type Verifier struct {
	client   *fbauth.Client
	accounts accounts
	users    *expirable.LRU[string, userState]
	lookups  singleflight.Group
}

// accounts looks up a user's account: the Admin SDK's client, or a test's
// wrapper of it.
type accounts interface {
	GetUser(ctx context.Context, uid string) (*fbauth.UserRecord, error)
	DeleteUser(ctx context.Context, uid string) error
}

// userState is what revocation depends on.
type userState struct {
	disabled        bool
	validAfterMilli int64 // tokens issued before this are revoked
}

// NewVerifier builds a Verifier for the Firebase project that remembers a
// user's revocation state for rememberFor (RememberFor in production).
func NewVerifier(ctx context.Context, projectID string, rememberFor time.Duration) (*Verifier, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID})
	if err != nil {
		return nil, fmt.Errorf("firebase app: %w", err)
	}
	client, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebase auth client: %w", err)
	}
	return &Verifier{client: client, accounts: client, users: expirable.NewLRU[string, userState](rememberUsers, nil, rememberFor)}, nil
}

// Verify returns the identity a token proves. Every refusal is
// EUNAUTHORIZED with the same message: telling a caller why a token failed
// helps only an attacker. Infrastructure failures are not refusals and come
// back as plain errors (EINTERNAL at the edge).
func (v *Verifier) Verify(ctx context.Context, token string) (chat.Identity, error) {
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 8192 {
		return chat.Identity{}, unauthorized()
	}
	t, err := v.client.VerifyIDToken(ctx, token)
	if err == nil {
		var st userState
		if st, err = v.user(ctx, t.UID); err == nil && (st.disabled || t.IssuedAt*1000 < st.validAfterMilli) {
			return chat.Identity{}, unauthorized() // what VerifyIDTokenAndCheckRevoked decides
		}
	}
	if err != nil {
		if isRefusal(err) {
			return chat.Identity{}, unauthorized()
		}
		return chat.Identity{}, fmt.Errorf("verify id token: %w", err)
	}
	id := chat.Identity{UID: t.UID, Expires: time.Unix(t.Expires, 0)}
	id.Name, _ = t.Claims["name"].(string)
	id.Email, _ = t.Claims["email"].(string)
	return id, nil
}

// user returns uid's revocation state, remembered or looked up.
func (v *Verifier) user(ctx context.Context, uid string) (userState, error) {
	if st, ok := v.users.Get(uid); ok {
		return st, nil
	}
	st, err, _ := v.lookups.Do(uid, func() (any, error) {
		// A caller that missed the cache just before another's lookup
		// filled it finds it here, rather than looking up again.
		if st, ok := v.users.Get(uid); ok {
			return st, nil
		}
		// Shared by every caller waiting for uid: none of them owns it.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupTimeout)
		defer cancel()
		u, err := v.accounts.GetUser(ctx, uid)
		if err != nil {
			return userState{}, err
		}
		st := userState{disabled: u.Disabled, validAfterMilli: u.TokensValidAfterMillis}
		v.users.Add(uid, st)
		return st, nil
	})
	return st.(userState), err
}

// RemoveAccount implements chat.AccountRemover: the account is deleted
// (one already gone counts as deleted: a retried deletion finishes), and
// its tokens are refused here from now on, as if disabled, until the
// remembered state expires and the lookup finds no user, which refuses
// them as well.
func (v *Verifier) RemoveAccount(ctx context.Context, uid string) error {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	if err := v.accounts.DeleteUser(ctx, uid); err != nil && !fbauth.IsUserNotFound(err) {
		return fmt.Errorf("delete auth account: %w", err)
	}
	v.users.Add(uid, userState{disabled: true})
	return nil
}

func unauthorized() error {
	return chat.Errorf(chat.EUNAUTHORIZED, "A valid Firebase ID token is required.")
}

// isRefusal tells a bad token from a failure to check one: the SDK types
// every token fault; anything else (keys or the user lookup unreachable) is
// ours, and the caller should see EINTERNAL rather than be told to sign in.
func isRefusal(err error) bool {
	return fbauth.IsIDTokenInvalid(err) || fbauth.IsUserNotFound(err) || fbauth.IsTenantIDMismatch(err)
}
