package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/handlers"
)

// FuzzSocketArgs: whatever a client puts in an event's arguments, the
// handler gets a valid chat id or invalid_argument, never a panic.
func FuzzSocketArgs(f *testing.F) {
	for _, s := range []string{`["abc"]`, `[]`, `[1]`, `[null]`, `[{"a":1}]`, `["a/b"]`, "[\"\xff\"]", `["` + strings.Repeat("x", 200) + `"]`, `["x","y"]`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var args []any
		if json.Unmarshal([]byte(raw), &args) != nil {
			return // not what a Socket.IO packet can carry
		}
		id, err := handlers.ParseArgs(args)
		if err != nil {
			if chat.ErrorCode(err) != chat.EINVALID {
				t.Fatalf("code %q", chat.ErrorCode(err))
			}
			return
		}
		if chat.ValidateID("id", id) != nil {
			t.Fatalf("accepted id %q", id)
		}
	})
}

// FuzzDecodeJSON: a body is decoded or refused with invalid_argument or
// too_large, whatever its bytes.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"userIds":["a"],"isGroup":true}`, `{"userIds":"a"}`, `[]`, `{}{}`, `{"name":1}`, ``, `{"content":"` + strings.Repeat("x", 300) + `"}`, "{\"content\":\"\xff\"}", "{\"name\":\"a\xc3\"}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst struct {
			UserIDs         *[]string `json:"userIds"`
			IsGroup         *bool     `json:"isGroup"`
			Name            *string   `json:"name"`
			ProfilePic      *string   `json:"profilePic"`
			Content         *string   `json:"content"`
			ClientMessageID *string   `json:"clientMessageId"`
		}
		err := handlers.DecodeJSON(body, 256, &dst)
		if code := chat.ErrorCode(err); err != nil && code != chat.EINVALID && code != chat.ETOOLARGE {
			t.Fatalf("code %q for %q", code, body)
		}
		if err == nil && len(body) > 256 {
			t.Fatalf("a %d-byte body passed a 256-byte bound", len(body))
		}
		if err == nil && !utf8.Valid(body) {
			t.Fatalf("a body that is not UTF-8 was decoded: %q", body)
		}
	})
}

// FuzzREST sends fuzzed bodies to every JSON endpoint of a running
// instance against the emulators: the answer is never a 5xx, and an error
// is always the contract's Error.
func FuzzREST(f *testing.F) {
	for i, s := range []string{`{"userIds":["x"]}`, `{"content":"hi","clientMessageId":"c"}`, `{"name":"\u202e"}`, `{"username":"a"}`, `{"userIds":[]}`, `{"profilePic":"javascript:x"}`, "{\"content\":\"\xff\",\"clientMessageId\":\"c\"}", "{\"content\":\"x\",\"clientMessageId\":\"\xfe\"}", "\xff",
		`{"content":"edited"}`, `{"content":""}`, `0000000000000001`, `{"content":null}`, "👍", "1\u20e3",
		`{"content":"x","replyToId":"000000000001AAAAAAAA","mentions":["nobody"]}`} {
		f.Add(uint8(i), []byte(s))
	}
	in := chattest.NewInstance(f, chattest.Options{})
	ana, bob := chattest.NewUser(f, "fz"), chattest.NewUser(f, "fz")
	for _, u := range []chattest.User{ana, bob} {
		in.Do(f, "GET", "/api/me", u.Token, nil)
	}
	var g struct{ ID string }
	in.Do(f, "POST", "/api/chats", ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true}).JSON(f, &g)
	var m struct{ ID string }
	in.Do(f, "POST", "/api/chats/"+g.ID+"/messages", ana.Token, map[string]any{"content": "to edit"}).JSON(f, &m)
	endpoints := []struct{ method, path string }{
		{"POST", "/api/chats"}, {"PATCH", "/api/chats/" + g.ID}, {"POST", "/api/chats/" + g.ID + "/members"},
		{"POST", "/api/chats/" + g.ID + "/messages"}, {"PATCH", "/api/me"}, {"GET", "/api/users?q=%s"},
		{"PATCH", "/api/chats/" + g.ID + "/messages/" + m.ID}, {"GET", "/api/chats/" + g.ID + "/messages?changedAfter=%s"},
		{"PUT", "/api/chats/" + g.ID + "/messages/" + m.ID + "/reactions/%s"},
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		e := endpoints[int(which)%len(endpoints)]
		path := e.path
		var payload any = body
		if strings.Contains(path, "%s") {
			path, payload = fmt.Sprintf(path, url.QueryEscape(string(body))), nil
		}
		r := in.Do(t, e.method, path, ana.Token, payload)
		if r.Status >= 500 {
			t.Fatalf("%s %s %q: %d %s", e.method, path, body, r.Status, r.Body)
		}
		if r.Status >= 400 && r.ErrorCode() == "" {
			t.Fatalf("%s %s: %d without an Error body: %s", e.method, path, r.Status, r.Body)
		}
	})
}
