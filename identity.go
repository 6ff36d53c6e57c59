package chat

import (
	"context"
	"time"
)

// Identity is the verified caller: who the Firebase ID token names. It
// travels in the context so services never trust an identity from a payload.
type Identity struct {
	UID     string
	Name    string // the token's `name` claim, may be empty
	Email   string // may be empty
	Expires time.Time
}

// TokenVerifier checks a Firebase ID token. It returns EUNAUTHORIZED for a
// missing, malformed, forged, expired or revoked token or a disabled user.
type TokenVerifier interface {
	Verify(ctx context.Context, token string) (Identity, error)
}

type identityKey struct{}

// NewContextWithIdentity returns ctx carrying id.
func NewContextWithIdentity(ctx context.Context, id Identity) context.Context {
	return context.WithValue(ctx, identityKey{}, id)
}

// IdentityFromContext returns the caller, ok false when the context carries none.
func IdentityFromContext(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok && id.UID != ""
}

// CallerUID returns the caller's uid or an EUNAUTHORIZED error, so that a
// service reached without authentication fails closed.
func CallerUID(ctx context.Context) (string, error) {
	id, ok := IdentityFromContext(ctx)
	if !ok {
		return "", Errorf(EUNAUTHORIZED, "Authentication is required.")
	}
	return id.UID, nil
}
