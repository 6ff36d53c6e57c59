package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"golang.org/x/sync/errgroup"
)

// user is a signed-up Auth emulator user with an ID token.
type user struct {
	UID, Token, Name string
}

// client is the tool's HTTP client: many connections per host, bounded.
var client = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 512}}

// call does one JSON REST call and decodes the answer into out (if not
// nil); a status other than want (any 2xx when want is 0) is an error
// carrying the body.
func call(ctx context.Context, method, url, token string, body, out any, want int) (int, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if ok := resp.StatusCode == want || want == 0 && resp.StatusCode/100 == 2; !ok {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("%s %s: %w", method, url, err)
		}
	}
	return resp.StatusCode, nil
}

// signUp creates n users in the Auth emulator (FIREBASE_AUTH_EMULATOR_HOST)
// and their profiles (GET /api/me), 32 at a time.
func signUp(ctx context.Context, apiURL, run string, n int) ([]user, error) {
	host := os.Getenv("FIREBASE_AUTH_EMULATOR_HOST")
	if host == "" {
		return nil, fmt.Errorf("FIREBASE_AUTH_EMULATOR_HOST is unset: run under dev/with-emulators.sh (make load does)")
	}
	users := make([]user, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for i := range users {
		g.Go(func() error {
			name := fmt.Sprintf("load%s%04d", run, i)
			var r struct{ LocalID, IDToken string }
			_, err := call(gctx, "POST", "http://"+host+"/identitytoolkit.googleapis.com/v1/accounts:signUp?key=fake", "",
				map[string]any{"email": name + "@example.com", "password": "secret1", "displayName": name, "returnSecureToken": true}, &r, 200)
			if err != nil {
				return err
			}
			users[i] = user{UID: r.LocalID, Token: r.IDToken, Name: name}
			_, err = call(gctx, "GET", apiURL+"/api/me", r.IDToken, nil, nil, 200)
			return err
		})
	}
	return users, g.Wait()
}
