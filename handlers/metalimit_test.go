package handlers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// TestChatChangeLimit: a chat's name, picture and members change at most
// once a second in bursts of 10, counted across instances; over it 429
// rate_limited, while a member may always leave.
func TestChatChangeLimit(t *testing.T) {
	t.Parallel()
	a1 := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	a2 := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a1, 4)
	ana, bob, cat, dan := u[0], u[1], u[2], u[3]
	g := a1.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cat.UID}, "isGroup": true, "name": "g"})
	rename := func(a api, i int) chattest.Response {
		return a.call(t, "PATCH", "/api/chats/{id}", "/api/chats/"+g.ID, ana.Token, map[string]any{"name": fmt.Sprint("name ", i)})
	}
	// The burst: renames and a member added, on both instances.
	for i := range 9 {
		if r := rename([]api{a1, a2}[i%2], i); r.Status != 200 {
			t.Fatalf("change %d of the burst: %d %s", i, r.Status, r.Body)
		}
	}
	add := a2.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+g.ID+"/members", bob.Token, map[string]any{"userIds": []string{dan.UID}})
	if add.Status != 200 {
		t.Fatalf("10th change: %d %s", add.Status, add.Body)
	}
	t.Run("ErrOverTheBurst", func(t *testing.T) {
		// The next changes go faster than one a second, so one is refused
		// soon; how soon depends on how long each took (a slow machine
		// refills a token meanwhile), never on a fixed count.
		exhaust := func() {
			t.Helper()
			deadline := time.Now().Add(chattest.WaitTimeout)
			for i := 100; ; i++ {
				r := rename([]api{a1, a2}[i%2], i)
				if r.Status == 429 {
					expect(t, r, 429, "rate_limited")
					if r.Header.Get("Retry-After") == "" {
						t.Error("no Retry-After")
					}
					return
				}
				if r.Status != 200 || time.Now().After(deadline) {
					t.Fatalf("rename %d: %d %s", i, r.Status, r.Body)
				}
			}
		}
		exhaust()
		// Adding members counts against the same limit.
		for attempt := 0; ; attempt++ {
			r := a2.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+g.ID+"/members", bob.Token, map[string]any{"userIds": []string{newUsers(t, a1, 1)[0].UID}})
			if r.Status == 429 {
				expect(t, r, 429, "rate_limited")
				break
			}
			if r.Status != 200 || attempt == 5 {
				t.Fatalf("add after the limit was reached: %d %s", r.Status, r.Body)
			}
			exhaust() // a token came back meanwhile: take it again
		}
	})
	t.Run("LeavingNeverRefused", func(t *testing.T) {
		r := a2.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+g.ID+"/members/"+cat.UID, cat.Token, nil)
		if r.Status != 204 {
			t.Fatalf("leave: %d %s", r.Status, r.Body)
		}
	})
	t.Run("RefilledAfterASecond", func(t *testing.T) {
		i := 200
		waitFor(t, "a rename taken again", func() bool {
			i++
			return rename(a1, i).Status == 200
		})
	})
}
