package handlers_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// bad is a string that is not valid UTF-8 (a lone continuation byte).
const bad = "ok\xff"

// TestInvalidUTF8 pins the contract's hardening rule: every string a
// client sends is valid UTF-8 or the request is 400 invalid_argument,
// before any work, so nothing invalid reaches a batch shared with others.
func TestInvalidUTF8(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	stored := func() int { return len(chattest.Query(t, "/chats/"+ch.ID, "messages", false)) }
	before := stored()

	for name, body := range map[string]string{
		"ErrJSONContent":  `{"content":"` + bad + `"}`,
		"ErrJSONClientID": `{"content":"x","clientMessageId":"` + bad + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, a.send(t, ana.Token, ch.ID, []byte(body)), 400, "invalid_argument")
		})
	}
	for name, parts := range map[string][]part{
		"ErrMultipartContent":  {textPart("content", bad)},
		"ErrMultipartClientID": {textPart("content", "x"), textPart("clientMessageId", bad)},
		"ErrMultipartFileName": {textPart("content", "x"), filePart("a"+bad+".png", pngFile(64))},
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, a.upload(t, ana.Token, ch.ID, parts...), 400, "invalid_argument")
		})
	}
	for name, path := range map[string]string{
		"ErrUserQuery":     "/api/users?q=%FF",
		"ErrQueryName":     "/api/users?%FF=x",
		"ErrChatPath":      "/api/chats/%FF",
		"ErrMessageCursor": "/api/chats/" + ch.ID + "/messages?before=%FFx",
		"ErrFilePath":      "/api/chats/" + ch.ID + "/files/%FF",
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, a.in.Do(t, "GET", path, ana.Token, nil), 400, "invalid_argument")
		})
	}
	t.Run("ErrPatchMe", func(t *testing.T) {
		expect(t, a.in.Do(t, "PATCH", "/api/me", ana.Token, []byte(`{"username":"`+bad+`"}`)), 400, "invalid_argument")
	})
	if after := stored(); after != before {
		t.Fatalf("refused sends stored %d messages", after-before)
	}
}

// TestInvalidSendsFailAlone: a member sending invalid multipart bodies in
// a busy chat fails only their own sends, never a batch with others'.
func TestInvalidSendsFailAlone(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	var wg sync.WaitGroup
	statuses := make(chan string, 18)
	for i := range 12 {
		wg.Go(func() {
			from := []chattest.User{ana, bob}[i%2]
			r := a.send(t, from.Token, ch.ID, map[string]any{"content": fmt.Sprintf("valid %d", i)})
			statuses <- fmt.Sprintf("valid %d %s", r.Status, r.ErrorCode())
		})
	}
	for i := range 6 {
		wg.Go(func() {
			r := a.upload(t, ana.Token, ch.ID, textPart("content", "x"), textPart("clientMessageId", fmt.Sprintf("k%d\xff", i)))
			statuses <- fmt.Sprintf("invalid %d %s", r.Status, r.ErrorCode())
		})
	}
	wg.Wait()
	close(statuses)
	got := map[string]int{}
	for s := range statuses {
		got[s]++
	}
	if got["valid 201 "] != 12 || got["invalid 400 invalid_argument"] != 6 || len(got) != 2 {
		t.Fatalf("want 12 × 201 and 6 × 400 invalid_argument, got %v", got)
	}
}
