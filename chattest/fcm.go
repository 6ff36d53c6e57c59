package chattest

import (
	"net/http/httptest"
	"testing"

	"github.com/chatapp/chat/fakefcm"
)

// FakeFCM is a fake Firebase Cloud Messaging server for one test: give
// its URL as FCM_ENDPOINT (app.PushSettings.FCMEndpoint).
type FakeFCM struct {
	*fakefcm.Server
	URL string
}

// NewFakeFCM starts a fake FCM, stopped with the test.
func NewFakeFCM(tb testing.TB) *FakeFCM {
	tb.Helper()
	s := fakefcm.New()
	srv := httptest.NewServer(s)
	tb.Cleanup(srv.Close)
	return &FakeFCM{Server: s, URL: srv.URL}
}

// To returns the messages sent to token so far.
func (f *FakeFCM) To(token string) []fakefcm.Message {
	var out []fakefcm.Message
	for _, m := range f.Messages() {
		if m.Token == token {
			out = append(out, m)
		}
	}
	return out
}
