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

	"github.com/chatapp/chat"
)

var _ chat.TokenVerifier = (*Verifier)(nil)

// Verifier checks ID tokens, including revocation and disabled users. The
// revocation check costs an RPC, so callers verify once per request or per
// socket connection, not per event.
type Verifier struct {
	client *fbauth.Client
}

// NewVerifier builds a Verifier for the Firebase project.
func NewVerifier(ctx context.Context, projectID string) (*Verifier, error) {
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID})
	if err != nil {
		return nil, fmt.Errorf("firebase app: %w", err)
	}
	client, err := app.Auth(ctx)
	if err != nil {
		return nil, fmt.Errorf("firebase auth client: %w", err)
	}
	return &Verifier{client: client}, nil
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
	t, err := v.client.VerifyIDTokenAndCheckRevoked(ctx, token)
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

func unauthorized() error {
	return chat.Errorf(chat.EUNAUTHORIZED, "A valid Firebase ID token is required.")
}

// isRefusal tells a bad token from a failure to check one: the SDK types
// every token fault; anything else (keys or the user lookup unreachable) is
// ours, and the caller should see EINTERNAL rather than be told to sign in.
func isRefusal(err error) bool {
	return fbauth.IsIDTokenInvalid(err) || fbauth.IsUserNotFound(err) || fbauth.IsTenantIDMismatch(err)
}
