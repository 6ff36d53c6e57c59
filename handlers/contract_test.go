package handlers_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// TestContractDocs proves the schema checks bite: a real payload passes,
// and each kind of corruption of it fails.
func TestContractDocs(t *testing.T) {
	t.Parallel()
	c := chattest.MustContract(t)
	good := map[string]any{
		"id": "m1", "chatId": "c1", "senderId": "u1", "content": "hi", "fileUrl": "", "fileName": "",
		"createdAt": "2026-01-02T03:04:05.678Z", "sender": map[string]any{"id": "u1", "username": "ana"},
		"clientMessageId": "", "editedAt": nil, "deletedAt": "2026-01-02T03:04:06.000Z", "rev": "0000000000000002",
		"replyTo":   map[string]any{"id": "m0", "senderId": "u2", "username": "bob", "content": "", "fileName": "", "deleted": true},
		"mentions":  []any{"u2"},
		"reactions": []any{map[string]any{"emoji": "👍", "count": 21, "userIds": []any{"u2"}, "me": false}},
	}
	if err := c.ValidateEvent("newMessage", chattest.MustJSON(good)); err != nil {
		t.Fatalf("good payload refused: %v", err)
	}
	corrupt := map[string]func(m map[string]any){
		"ErrMissingField":   func(m map[string]any) { delete(m, "fileUrl") },
		"ErrExtraField":     func(m map[string]any) { m["extra"] = 1 },
		"ErrWrongType":      func(m map[string]any) { m["content"] = 5 },
		"ErrNoMillis":       func(m map[string]any) { m["createdAt"] = "2026-01-02T03:04:05Z" },
		"ErrNotUTC":         func(m map[string]any) { m["createdAt"] = "2026-01-02T03:04:05.678+01:00" },
		"ErrNestedExtra":    func(m map[string]any) { m["sender"] = map[string]any{"id": "u1", "username": "a", "x": 1} },
		"ErrNullSender":     func(m map[string]any) { m["sender"] = nil },
		"ErrContentTooBig":  func(m map[string]any) { m["content"] = strings.Repeat("x", 4001) },
		"ErrEditedNoMillis": func(m map[string]any) { m["editedAt"] = "2026-01-02T03:04:05Z" },
		"ErrEmptyRev":       func(m map[string]any) { m["rev"] = "" },
		"ErrQuoteExtra":     func(m map[string]any) { m["replyTo"] = map[string]any{"id": "m0"} },
		"ErrReactionNoMe": func(m map[string]any) {
			m["reactions"] = []any{map[string]any{"emoji": "👍", "count": 1, "userIds": []any{"u2"}}}
		},
		"ErrMentionsNull": func(m map[string]any) { m["mentions"] = nil },
	}
	for name, f := range corrupt {
		t.Run(name, func(t *testing.T) {
			m := map[string]any{}
			raw, _ := json.Marshal(good)
			_ = json.Unmarshal(raw, &m)
			f(m)
			if err := c.ValidateEvent("newMessage", chattest.MustJSON(m)); err == nil {
				t.Fatal("corrupted payload accepted")
			}
		})
	}
	t.Run("ErrRESTStatusNotDeclared", func(t *testing.T) {
		ft := &fakeT{TB: t}
		func() {
			defer func() { _ = recover() }()
			c.ValidateREST(ft, "GET", "/api/me", chattest.Response{Status: 418, Body: []byte(`{}`)})
		}()
		if !ft.failed {
			t.Fatal("undeclared status accepted")
		}
	})
	t.Run("SchemasAgree", func(t *testing.T) {
		// The two documents carry the same schemas: one shape per type.
		oa := c.Doc("openapi")["components"].(map[string]any)["schemas"]
		aa := c.Doc("asyncapi")["components"].(map[string]any)["schemas"]
		if !reflect.DeepEqual(oa, aa) {
			t.Fatal("docs/openapi.yaml and docs/asyncapi.yaml schemas differ")
		}
	})
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Helper()               {}
func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fakeT) Errorf(string, ...any) { f.failed = true }
func (f *fakeT) Fatal(...any)          { f.failed = true; panic("fatal") }
