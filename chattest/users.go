package chattest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// User is a real Firebase user of the Auth emulator with a fresh ID token.
type User struct {
	UID   string
	Email string
	Token string
}

// NewUser signs up a user on the Auth emulator; name, if not empty,
// becomes the token's `name` claim.
func NewUser(tb testing.TB, name string) User {
	tb.Helper()
	env := MustEnv(tb)
	email := fmt.Sprintf("u%d-%d@example.com", time.Now().UnixNano(), next())
	var out struct {
		LocalID string `json:"localId"`
		IDToken string `json:"idToken"`
	}
	authPost(tb, env, "accounts:signUp", map[string]any{"email": email, "password": "secret-pass", "returnSecureToken": true}, &out)
	u := User{UID: out.LocalID, Email: email, Token: out.IDToken}
	if name != "" {
		authPost(tb, env, "accounts:update", map[string]any{"idToken": u.Token, "displayName": name}, nil)
		u.Token = u.SignIn(tb) // a token that carries the name claim

	}
	return u
}

// SignIn returns a fresh token for the user.
func (u User) SignIn(tb testing.TB) string {
	tb.Helper()
	var out struct {
		IDToken string `json:"idToken"`
	}
	authPost(tb, MustEnv(tb), "accounts:signInWithPassword", map[string]any{"email": u.Email, "password": "secret-pass", "returnSecureToken": true}, &out)
	return out.IDToken
}

// Disable disables the user (an admin call on the emulator).
func (u User) Disable(tb testing.TB) {
	tb.Helper()
	env := MustEnv(tb)
	authAdmin(tb, env, "accounts:update", map[string]any{"localId": u.UID, "disableUser": true})
}

// Revoke revokes the user's refresh tokens: ID tokens issued before now
// fail the revocation check.
func (u User) Revoke(tb testing.TB) {
	tb.Helper()
	env := MustEnv(tb)
	// validSince is in seconds; tokens issued in the same second would
	// still pass, so wait until the next second has begun.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second)))
	authAdmin(tb, env, "accounts:update", map[string]any{"localId": u.UID, "validSince": fmt.Sprint(time.Now().Unix())})
}

func authPost(tb testing.TB, env Env, method string, body any, out any) {
	tb.Helper()
	url := fmt.Sprintf("http://%s/identitytoolkit.googleapis.com/v1/%s?key=fake", env.AuthHost, method)
	authDo(tb, url, "", body, out)
}

func authAdmin(tb testing.TB, env Env, method string, body any) {
	tb.Helper()
	url := fmt.Sprintf("http://%s/identitytoolkit.googleapis.com/v1/projects/%s/%s", env.AuthHost, env.Project, method)
	authDo(tb, url, "owner", body, nil)
}

func authDo(tb testing.TB, url, bearer string, body any, out any) {
	tb.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("auth emulator %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		var e bytes.Buffer
		_, _ = e.ReadFrom(resp.Body)
		tb.Fatalf("auth emulator %s: %d %s", url, resp.StatusCode, e.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			tb.Fatalf("auth emulator %s: %v", url, err)
		}
	}
}

// CraftToken returns an unsigned ID token for uid with the given issue and
// expiry times. The Auth emulator's verification skips signatures (see
// STACK-NOTES), so such a token stands for a real one whose lifetime the
// test chooses; aud overrides the project (forged audience) when not empty.
func CraftToken(tb testing.TB, uid string, iat, exp time.Time, aud string) string {
	tb.Helper()
	if aud == "" {
		aud = MustEnv(tb).Project
	}
	return CraftTokenClaims(tb, uid, map[string]any{
		"iss": "https://securetoken.google.com/" + aud, "aud": aud, "auth_time": iat.Unix(),
		"iat": iat.Unix(), "exp": exp.Unix(),
	})
}

// CraftTokenClaims is CraftToken with claims overriding a valid hour-long
// token's (no name, no email).
func CraftTokenClaims(tb testing.TB, uid string, claims map[string]any) string {
	tb.Helper()
	env := MustEnv(tb)
	now := time.Now()
	all := map[string]any{
		"iss": "https://securetoken.google.com/" + env.Project, "aud": env.Project, "auth_time": now.Unix(),
		"user_id": uid, "sub": uid, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"firebase": map[string]any{"identities": map[string]any{}, "sign_in_provider": "password"},
	}
	for k, v := range claims {
		all[k] = v
	}
	enc := func(v any) string { return base64.RawURLEncoding.EncodeToString(MustJSON(v)) }
	return enc(map[string]any{"alg": "none", "typ": "JWT"}) + "." + enc(all) + "."
}

// Exists tells whether the Auth emulator still has the user's account
// (an admin lookup by uid).
func (u User) Exists(tb testing.TB) bool {
	tb.Helper()
	env := MustEnv(tb)
	var out struct {
		Users []struct {
			LocalID string `json:"localId"`
		} `json:"users"`
	}
	url := fmt.Sprintf("http://%s/identitytoolkit.googleapis.com/v1/projects/%s/accounts:lookup", env.AuthHost, env.Project)
	authDo(tb, url, "owner", map[string]any{"localId": []string{u.UID}}, &out)
	return len(out.Users) == 1 && out.Users[0].LocalID == u.UID
}
