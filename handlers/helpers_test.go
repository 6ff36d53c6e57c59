package handlers_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// api wraps an instance with the contract check on every answer.
type api struct {
	in *chattest.Instance
	c  *chattest.Contract
}

func newAPI(t *testing.T, in *chattest.Instance) api { return api{in, chattest.MustContract(t)} }

// call sends a request to path (template names the OpenAPI operation) and
// validates the answer against docs/openapi.yaml.
func (a api) call(t *testing.T, method, template, path, token string, body any) chattest.Response {
	t.Helper()
	r := a.in.Do(t, method, path, token, body)
	a.c.ValidateREST(t, method, template, r)
	return r
}

func (a api) mustChat(t *testing.T, token string, body map[string]any) chatBody {
	t.Helper()
	r := a.call(t, "POST", "/api/chats", "/api/chats", token, body)
	if r.Status != 201 && r.Status != 200 {
		t.Fatalf("create chat: %d %s", r.Status, r.Body)
	}
	var ch chatBody
	r.JSON(t, &ch)
	return ch
}

func (a api) getChat(t *testing.T, token, id string) (chatBody, chattest.Response) {
	t.Helper()
	r := a.call(t, "GET", "/api/chats/{id}", "/api/chats/"+id, token, nil)
	var ch chatBody
	if r.Status == 200 {
		r.JSON(t, &ch)
	}
	return ch, r
}

func (a api) send(t *testing.T, token, chatID string, body any) chattest.Response {
	t.Helper()
	return a.call(t, "POST", "/api/chats/{id}/messages", "/api/chats/"+chatID+"/messages", token, body)
}

func (a api) mustSend(t *testing.T, token, chatID, content string) msgBody {
	t.Helper()
	r := a.send(t, token, chatID, map[string]any{"content": content})
	if r.Status != 201 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var m msgBody
	r.JSON(t, &m)
	return m
}

// newUsers signs up n users with profiles.
func newUsers(t *testing.T, a api, n int) []chattest.User {
	t.Helper()
	out := make([]chattest.User, n)
	for i := range out {
		out[i] = chattest.NewUser(t, unique("u"))
		if r := a.in.Do(t, "GET", "/api/me", out[i].Token, nil); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
	}
	return out
}

func expect(t *testing.T, r chattest.Response, status int, code string) {
	t.Helper()
	if r.Status != status || r.ErrorCode() != code {
		t.Fatalf("want %d %q, got %d %s", status, code, r.Status, r.Body)
	}
}

func decode[T any](t *testing.T, raw json.RawMessage) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// marker proves a negative: it sends the user a message in a chat of its
// own and waits for it on s. An event that should not have come and did
// would be in s's buffer by then (events of one socket arrive in order).
func marker(t *testing.T, a api, s *chattest.Socket, from, to chattest.User) {
	t.Helper()
	ch := a.mustChat(t, from.Token, map[string]any{"userIds": []string{to.UID}})
	m := a.mustSend(t, from.Token, ch.ID, fmt.Sprintf("marker %d", chattest.Unique()))
	s.Wait(t, "newMessage", field("id", m.ID))
	// Its chatSummary is emitted right after it: wait for that too, so the
	// marker is wholly in before anything is counted.
	s.Wait(t, "chatSummary", summaryFor(ch.ID, m.ID))
}

// waitFor polls cond until it holds or the wait times out.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	chattest.WaitWithin(t, what, chattest.WaitTimeout, cond)
}
