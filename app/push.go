package app

import (
	"context"
	"fmt"
	"time"

	"github.com/chatapp/chat/fcm"
	"github.com/chatapp/chat/firestore"
)

// PushSettings configure push notifications (the contract's "Push
// notifications").
type PushSettings struct {
	// Delay is PUSH_DELAY: how long after a message an unread member is
	// pushed (10 s when zero).
	Delay time.Duration
	// WebAppURL is WEB_APP_URL: each push's web link opens it at the chat.
	WebAppURL string
	// FCMEndpoint is FCM_ENDPOINT: a fake FCM server (development and
	// tests); empty sends through FCM with the service's credentials.
	FCMEndpoint string
	// SweepEvery is how often every instance looks for pushes past due
	// that their instance did not send (10 s when zero).
	SweepEvery time.Duration
}

// pusher builds the push sender and handler, and has the message service
// keep every chat's push to-do.
func (s *Settings) pusher(ctx context.Context, db *firestore.DB, messages *firestore.MessageService) (*firestore.Pusher, error) {
	sender, err := fcm.New(ctx, s.ProjectID, s.Push.FCMEndpoint)
	if err != nil {
		return nil, fmt.Errorf("push notifications need credentials for Firebase Cloud Messaging (Application Default Credentials); "+
			"in development set FCM_ENDPOINT to a fake (dev/with-emulators.sh starts one): %w", err)
	}
	p := firestore.NewPusher(db, sender, firestore.PushOptions{Delay: s.Push.Delay, WebAppURL: s.Push.WebAppURL, Owner: s.InstanceID})
	messages.PushWith(p)
	return p, nil
}

// sweepPushes sends, on every instance, the pushes past due that nobody
// sent (their instance died): at start, then every SweepEvery.
func (a *App) sweepPushes(ctx context.Context, period time.Duration) {
	defer close(a.pushDone)
	if period <= 0 {
		period = 10 * time.Second
	}
	every(ctx, period, period, func(rctx context.Context) {
		a.swept(ctx, 0, a.pusher.Sweep(rctx), "push sweep failed", "", "")
	})
}
