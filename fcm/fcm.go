// Package fcm adapts Firebase Cloud Messaging (the Admin SDK's messaging
// client, HTTP v1 API) to chat.PushSender.
package fcm

import (
	"context"
	"strings"

	firebase "firebase.google.com/go/v4"
	"firebase.google.com/go/v4/messaging"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"

	"github.com/chatapp/chat"
)

var _ chat.PushSender = (*Sender)(nil)

// batchSize is SendEach's limit: at most 500 messages a call.
const batchSize = 500

// Sender sends notifications through FCM.
type Sender struct {
	client *messaging.Client
}

// New returns a Sender for the project. endpoint, when set, replaces FCM
// (a fake for development and tests: the client then posts to
// endpoint/projects/P/messages:send) and no credentials are used; without
// it the service's own credentials are (Application Default Credentials).
// The messaging app is its own: its options would go to every service an
// app makes.
func New(ctx context.Context, projectID, endpoint string) (*Sender, error) {
	var opts []option.ClientOption
	if endpoint != "" {
		opts = append(opts, option.WithEndpoint(strings.TrimSuffix(endpoint, "/")),
			option.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "fake-fcm"})))
	}
	app, err := firebase.NewApp(ctx, &firebase.Config{ProjectID: projectID}, opts...)
	if err != nil {
		return nil, err
	}
	c, err := app.Messaging(ctx)
	if err != nil {
		return nil, err
	}
	return &Sender{client: c}, nil
}

// Push implements chat.PushSender: SendEach in batches of 500 (one HTTP
// call per message, the SDK's goroutines), each outcome read from its
// error. The SDK itself retries 503s with backoff.
func (s *Sender) Push(ctx context.Context, ns []chat.Notification) []chat.PushOutcome {
	out := make([]chat.PushOutcome, len(ns))
	for start := 0; start < len(ns); start += batchSize {
		end := min(start+batchSize, len(ns))
		msgs := make([]*messaging.Message, 0, end-start)
		for _, n := range ns[start:end] {
			msgs = append(msgs, message(n))
		}
		res, err := s.client.SendEach(ctx, msgs)
		for i := range msgs {
			switch {
			case err != nil || res == nil || i >= len(res.Responses):
				out[start+i] = chat.PushRetry
			default:
				out[start+i] = outcome(res.Responses[i])
			}
		}
	}
	return out
}

// outcome classifies one answer: a token FCM no longer knows, or one it
// says is not a token, is gone; quota and availability errors may pass.
func outcome(r *messaging.SendResponse) chat.PushOutcome {
	switch err := r.Error; {
	case r.Success:
		return chat.PushSent
	case messaging.IsUnregistered(err):
		return chat.PushGone
	case messaging.IsInvalidArgument(err) && strings.Contains(strings.ToLower(err.Error()), "registration token"):
		// INVALID_ARGUMENT also comes for a bad payload: only one about
		// the token means the device is gone.
		return chat.PushGone
	case messaging.IsQuotaExceeded(err), messaging.IsUnavailable(err), messaging.IsInternal(err):
		return chat.PushRetry
	}
	return chat.PushFailed
}

// message is the contract's FCM message: notification and data for every
// platform; the chat as the collapse key (tag, collapse key, APNs
// collapse id), so a later push replaces the earlier on the device.
func message(n chat.Notification) *messaging.Message {
	m := &messaging.Message{
		Token:        n.Token,
		Notification: &messaging.Notification{Title: n.Title, Body: n.Body},
		Data:         map[string]string{"chatId": n.ChatID, "messageId": n.MessageID},
		Webpush:      &messaging.WebpushConfig{Notification: &messaging.WebpushNotification{Tag: n.ChatID}},
		Android:      &messaging.AndroidConfig{CollapseKey: n.ChatID, Notification: &messaging.AndroidNotification{Tag: n.ChatID}},
		APNS:         &messaging.APNSConfig{Headers: map[string]string{"apns-collapse-id": n.ChatID}},
	}
	if n.Link != "" {
		m.Webpush.FCMOptions = &messaging.WebpushFCMOptions{Link: n.Link}
	}
	return m
}
