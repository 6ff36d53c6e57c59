package handlers_test

import (
	"encoding/json"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// TestFastClientFirstEvent connects a client that emits joinChat the
// instant the server's CONNECT arrives, many times: the Socket.IO library
// records a socket as connected only after writing CONNECT, and it used to
// drop (v2: whole handshakes) or cut (v3: the first event) such clients.
func TestFastClientFirstEvent(t *testing.T) {
	t.Parallel()
	in := chattest.NewInstance(t, chattest.Options{})
	ana, bob := chattest.NewUser(t, "fast-ana"), chattest.NewUser(t, "fast-bob")
	in.Do(t, "GET", "/api/me", bob.Token, nil)
	r := in.Do(t, "POST", "/api/chats", ana.Token, map[string]any{"userIds": []string{bob.UID}})
	var ch struct{ ID string }
	r.JSON(t, &ch)
	const n = 300
	for i := 0; i < n; i++ {
		ack, err := chattest.DialEmit(t, in.URL, ana.Token, "joinChat", ch.ID, chattest.WaitTimeout)
		if err != nil {
			t.Fatalf("attempt %d of %d: %v", i+1, n, err)
		}
		var a struct{ OK bool }
		if json.Unmarshal(ack, &a); !a.OK {
			t.Fatalf("attempt %d: ack %s", i+1, ack)
		}
	}
}
