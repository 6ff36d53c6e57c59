package handlers_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// together runs n calls released at once, alternating between the two
// instances, and returns their answers.
func together(t *testing.T, w world, n int, call func(i int, a api) chattest.Response) []chattest.Response {
	t.Helper()
	out := make([]chattest.Response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			a := w.a
			if i%2 == 1 {
				a = w.b
			}
			out[i] = call(i, a)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

func TestRaces(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 5)
	ana, bob := u[0], u[1]
	t.Run("DirectCreateOnce", func(t *testing.T) {
		rs := together(t, w, 20, func(i int, a api) chattest.Response {
			tok, other := ana.Token, bob.UID
			if i%4 >= 2 { // both sides of the pair create at once
				tok, other = bob.Token, ana.UID
			}
			return a.in.Do(t, "POST", "/api/chats", tok, map[string]any{"userIds": []string{other}})
		})
		ids := map[string]bool{}
		created := 0
		for _, r := range rs {
			var ch chatBody
			r.JSON(t, &ch)
			ids[ch.ID] = true
			switch r.Status {
			case 201:
				created++
			case 200:
			default:
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
		}
		if len(ids) != 1 || created != 1 {
			t.Fatalf("%d chats, %d created", len(ids), created)
		}
		stored := chattest.Query(t, "", "chats", false,
			chattest.Filter{Field: "memberIds", Op: "ARRAY_CONTAINS", Value: ana.UID})
		n := 0
		for _, doc := range stored {
			if fmt.Sprint(doc["isGroup"]) == "map[booleanValue:false]" {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("stored %d direct chats for the pair", n)
		}
	})
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{u[1].UID, u[2].UID, u[3].UID, u[4].UID}, "isGroup": true})
	t.Run("IdempotentSendOnce", func(t *testing.T) {
		rs := together(t, w, 20, func(i int, a api) chattest.Response {
			return a.in.Do(t, "POST", "/api/chats/"+g.ID+"/messages", ana.Token, map[string]any{"content": "once", "clientMessageId": "same-id"})
		})
		ids := map[string]bool{}
		created := 0
		for _, r := range rs {
			var m msgBody
			r.JSON(t, &m)
			ids[m.ID] = true
			if r.Status == 201 {
				created++
			} else if r.Status != 200 {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
		}
		stored := chattest.Query(t, "/chats/"+g.ID, "messages", false,
			chattest.Filter{Field: "clientMessageId", Op: "EQUAL", Value: "same-id"})
		if len(ids) != 1 || created != 1 || len(stored) != 1 {
			t.Fatalf("%d ids, %d created, %d stored", len(ids), created, len(stored))
		}
	})
	t.Run("UnreadUnderConcurrentSenders", func(t *testing.T) {
		// bob reads, then three members send 8 messages each at once.
		w.a.call(t, "POST", "/api/chats/{id}/read", "/api/chats/"+g.ID+"/read", bob.Token, nil)
		senders := []chattest.User{ana, u[2], u[3]}
		rs := together(t, w, 24, func(i int, a api) chattest.Response {
			return a.in.Do(t, "POST", "/api/chats/"+g.ID+"/messages", senders[i%3].Token, map[string]any{"content": fmt.Sprint("m", i)})
		})
		for _, r := range rs {
			if r.Status != 201 {
				t.Fatalf("status %d %s", r.Status, r.Body)
			}
		}
		ch, _ := w.b.getChat(t, bob.Token, g.ID)
		if ch.UnreadCount != 24 {
			t.Fatalf("bob unread %d, want 24", ch.UnreadCount)
		}
		// Each sender's count: what the others sent after its own last one.
		for _, s := range senders {
			c, _ := w.a.getChat(t, s.Token, g.ID)
			last := -1
			for i, m := range c.Messages {
				if m.SenderID == s.UID {
					last = i
				}
			}
			if want := len(c.Messages) - 1 - last; c.UnreadCount != want {
				t.Fatalf("sender %s unread %d want %d", s.UID, c.UnreadCount, want)
			}
		}
		// Seqs are gapless in storage: 24 + the idempotent one.
		if n := len(chattest.Query(t, "/chats/"+g.ID, "messages", false)); n != 25 {
			t.Fatalf("stored %d messages", n)
		}
	})
}
