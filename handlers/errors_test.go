package handlers_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/handlers"
)

// TestErrorStatusOfAbandonedRequests: a request whose client went away is
// answered 499 and not logged as an internal error, even when the storage
// adapter's error no longer says it was a cancellation; the same error on
// a live request is a logged 500.
func TestErrorStatusOfAbandonedRequests(t *testing.T) {
	t.Parallel()
	storage := chat.Errorf(chat.EINTERNAL, "firestore: call cancelled by the server")
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	for name, tc := range map[string]struct {
		ctx    context.Context
		err    error
		status int
		logged bool
	}{
		"ClientGoneStorageError": {gone, storage, 499, false},
		"ClientGoneCanceled":     {gone, context.Canceled, 499, false},
		"CanceledWrapped":        {context.Background(), errors.Join(errors.New("send"), context.Canceled), 499, false},
		"LiveInternal":           {context.Background(), storage, 500, true},
		"LiveNotFound":           {context.Background(), chat.Errorf(chat.ENOTFOUND, "No such chat."), 404, false},
	} {
		t.Run(name, func(t *testing.T) {
			status, logged := handlers.ErrorStatus(tc.ctx, tc.err)
			if status != tc.status || logged != tc.logged {
				t.Fatalf("status %d logged %v, want %d %v", status, logged, tc.status, tc.logged)
			}
		})
	}
}

// TestErrRateLimitedHasRetryAfter: a service's own refusal (a chat too
// busy) carries Retry-After like the per-user limit's, so that clients
// back off instead of hammering.
func TestErrRateLimitedHasRetryAfter(t *testing.T) {
	t.Parallel()
	rec := handlers.ErrorResponse(chat.Errorf(chat.ERATELIMITED, "The chat is too busy to take the message now; retry."))
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "1" || !strings.Contains(rec.Body.String(), `"code":"rate_limited"`) {
		t.Fatalf("%d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
}
