package deploy_test

import (
	"bytes"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// TestRulesDenyClients starts a Firestore emulator with the production
// rules and tries, as a signed-in client would, to read and write: denied.
// The same requests as the emulator's owner (what the server SDK is not
// subject to) succeed, so the denial is the rules', not a broken request.
func TestRulesDenyClients(t *testing.T) {
	env := chattest.MustEnv(t)
	rules, err := filepath.Abs("firestore.rules")
	if err != nil {
		t.Fatal(err)
	}
	emu := chattest.StartFirestore(t, "--rules="+rules)
	base := "http://" + emu.Host + "/v1/projects/" + env.Project + "/databases/(default)/documents"
	client := chattest.CraftTokenClaims(t, "rules-client", nil)
	do := func(method, path, bearer string, body string) int {
		t.Helper()
		req, err := http.NewRequest(method, base+path, bytes.NewReader([]byte(body)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+bearer)
		req.Header.Set("Content-Type", "application/json")
		c := http.Client{Timeout: 20 * time.Second}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	doc := `{"fields":{"name":{"stringValue":"x"}}}`
	if s := do("POST", "/chats?documentId=seeded", "owner", doc); s != 200 {
		t.Fatalf("owner write: %d", s)
	}
	for _, tc := range []struct{ name, method, path, body string }{
		{"ReadChat", "GET", "/chats/seeded", ""},
		{"ListChats", "GET", "/chats", ""},
		{"CreateChat", "POST", "/chats?documentId=mine", doc},
		{"WriteMember", "PATCH", "/chats/seeded/members/rules-client", `{"fields":{"readSeq":{"integerValue":"9"}}}`},
		{"DeleteChat", "DELETE", "/chats/seeded", ""},
		{"ReadUser", "GET", "/users/rules-client", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if s := do(tc.method, tc.path, client, tc.body); s != http.StatusForbidden {
				t.Fatalf("a client's %s %s answered %d, want 403", tc.method, tc.path, s)
			}
		})
	}
	if s := do("GET", "/chats/seeded", "owner", ""); s != 200 {
		t.Fatalf("owner read: %d", s)
	}
}
