package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// TestExport: the caller's profile, chats and own messages, as NDJSON
// lines in the contract's order and shapes; a second export within the
// minute is 429.
func TestExport(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	g := a.mustChat(t, bob.Token, map[string]any{"userIds": []string{ana.UID, cid.UID}, "isGroup": true, "name": "Crew"})
	mine := map[string][]string{}
	for _, c := range []string{d.ID, g.ID} {
		for i := range 3 {
			mine[c] = append(mine[c], a.mustSend(t, ana.Token, c, string(rune('a'+i))).ID)
		}
		a.mustSend(t, bob.Token, c, "not ana's")
	}
	r := a.call(t, "GET", "/api/me/export", "/api/me/export", ana.Token, nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "application/x-ndjson" ||
		r.Header.Get("Content-Disposition") != `attachment; filename="chatapp-export.ndjson"` {
		t.Fatalf("export: %d %v", r.Status, r.Header)
	}
	var lines []map[string]json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(r.Body))
	for sc.Scan() {
		var l map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || len(l) != 1 {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 1+2+6 {
		t.Fatalf("%d lines, want 9: %s", len(lines), r.Body)
	}
	if err := a.c.Validate("openapi", "/components/schemas/Me", lines[0]["me"]); err != nil {
		t.Fatalf("me line: %v", err)
	}
	chats := map[string]bool{}
	for _, l := range lines[1:3] {
		var c struct {
			ID       string `json:"id"`
			IsGroup  bool   `json:"isGroup"`
			Name     string `json:"name"`
			JoinedAt string `json:"joinedAt"`
		}
		if err := json.Unmarshal(l["chat"], &c); err != nil || c.JoinedAt == "" || (c.ID == g.ID) != (c.IsGroup && c.Name == "Crew") {
			t.Fatalf("chat line %s", l["chat"])
		}
		chats[c.ID] = true
	}
	if !chats[d.ID] || !chats[g.ID] {
		t.Fatalf("chats %v", chats)
	}
	got := map[string][]string{}
	for _, l := range lines[3:] {
		if err := a.c.Validate("openapi", "/components/schemas/Message", l["message"]); err != nil {
			t.Fatalf("message line: %v", err)
		}
		m := decode[msgBody](t, l["message"])
		if m.SenderID != ana.UID {
			t.Fatalf("someone else's message exported: %s", l["message"])
		}
		got[m.ChatID] = append(got[m.ChatID], m.ID)
	}
	for c, ids := range mine {
		if len(got[c]) != 3 || got[c][0] != ids[0] || got[c][2] != ids[2] {
			t.Fatalf("chat %s: %v, want %v (oldest first)", c, got[c], ids)
		}
	}
	expect(t, a.call(t, "GET", "/api/me/export", "/api/me/export", ana.Token, nil), 429, "rate_limited")
	if r := a.call(t, "GET", "/api/me/export", "/api/me/export", bob.Token, nil); r.Status != 200 {
		t.Fatalf("bob's own export: %d", r.Status)
	}
}
