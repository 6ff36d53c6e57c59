package handlers_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// revs returns the revs of the chat's newMessage and messageUpdated events
// on s, in arrival order, and the greatest.
func revs(t *testing.T, s *chattest.Socket, chatID string) (seen []string, greatest string) {
	t.Helper()
	for _, ev := range s.Events("") {
		if ev.Name != "newMessage" && ev.Name != "messageUpdated" {
			continue
		}
		m := decode[changedBody](t, ev.Data)
		if m.ChatID == chatID {
			seen = append(seen, m.Rev)
			greatest = max(greatest, m.Rev)
		}
	}
	return seen, greatest
}

// TestChangedAfterCatchesUpExactly: a client that goes away after
// seeing rev R and asks for changedAfter=R gets exactly the changes made
// meanwhile, each once in its current state, by rev, page by page.
func TestChangedAfterCatchesUpExactly(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 2)
	ana, bob := u[0], u[1]
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	var sent []changedBody
	for i := range 5 {
		sent = append(sent, w.a.mustSendRev(t, bob.Token, g.ID, fmt.Sprintf("m%d", i)))
	}
	anaS := chattest.MustDial(t, w.b.in.URL, ana.Token)
	edited := w.a.edit(t, bob.Token, g.ID, sent[0].ID, map[string]any{"content": "m0 edited"})
	expect(t, edited, 200, "")
	anaS.Wait(t, "messageUpdated", field("rev", decode[changedBody](t, edited.Body).Rev))
	_, seen := revs(t, anaS, g.ID)
	anaS.Close() // ana goes offline having seen the edit

	expect(t, w.b.edit(t, bob.Token, g.ID, sent[1].ID, map[string]any{"content": "m1 edited"}), 200, "")
	expect(t, w.a.del(t, bob.Token, g.ID, sent[2].ID), 204, "")
	expect(t, w.b.edit(t, bob.Token, g.ID, sent[1].ID, map[string]any{"content": "m1 edited twice"}), 200, "")
	newer := w.a.mustSendRev(t, bob.Token, g.ID, "m5")

	t.Run("OnePage", func(t *testing.T) {
		p := w.b.revPage(t, ana.Token, g.ID, "changedAfter="+seen)
		var got []string
		for _, m := range p.Messages {
			got = append(got, m.ID+" "+m.Content)
		}
		want := []string{sent[2].ID + " ", sent[1].ID + " m1 edited twice", newer.ID + " m5"}
		if !slices.Equal(got, want) || p.NextChangedAfter != nil {
			t.Fatalf("changedAfter=%s: %v next %v, want %v", seen, got, p.NextChangedAfter, want)
		}
		if p.Messages[0].DeletedAt == nil || p.Messages[1].EditedAt == nil {
			t.Fatalf("states: %+v", p.Messages)
		}
	})
	t.Run("Paged", func(t *testing.T) {
		first := w.b.revPage(t, ana.Token, g.ID, "limit=2&changedAfter="+seen)
		if len(first.Messages) != 2 || first.NextChangedAfter == nil || *first.NextChangedAfter != first.Messages[1].Rev {
			t.Fatalf("first page: %+v", first)
		}
		rest := w.b.revPage(t, ana.Token, g.ID, "limit=2&changedAfter="+*first.NextChangedAfter)
		if len(rest.Messages) != 1 || rest.Messages[0].ID != newer.ID || rest.NextChangedAfter != nil {
			t.Fatalf("second page: %+v", rest)
		}
	})
	t.Run("BadRevInvalid", func(t *testing.T) {
		for _, q := range []string{"changedAfter=xyz", "changedAfter=" + seen + "&after=" + sent[0].ID} {
			r := w.a.call(t, "GET", "/api/chats/{id}/messages", "/api/chats/"+g.ID+"/messages?"+q, ana.Token, nil)
			expect(t, r, 400, "invalid_argument")
		}
	})
}

// owed returns the revs of answered (rev → message id) a socket must get:
// each message's last. A listener may fold two changes of one message
// that commit close together into one snapshot of its final state, so an
// earlier edit's rev need not be seen on its own.
func owed(answered map[string]string) map[string]bool {
	last := map[string]string{} // message id → its greatest rev answered
	for rev, id := range answered {
		last[id] = max(last[id], rev)
	}
	out := map[string]bool{}
	for _, rev := range last {
		out[rev] = true
	}
	return out
}

// TestRevsIncreaseAcrossInstances: sends and edits of one chat made at
// once through two instances each get their own rev, and every socket, on
// either instance, gets the chat's events with strictly increasing revs
// and each message's final state.
func TestRevsIncreaseAcrossInstances(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "g"})
	cidA := chattest.MustDial(t, w.a.in.URL, cid.Token)
	cidB := chattest.MustDial(t, w.b.in.URL, cid.Token)
	var base []changedBody
	for i := range 6 {
		base = append(base, w.a.mustSendRev(t, []chattest.User{ana, bob}[i%2].Token, g.ID, fmt.Sprintf("base %d", i)))
	}
	for _, s := range []*chattest.Socket{cidA, cidB} {
		s.Wait(t, "newMessage", field("id", base[5].ID))
	}
	var mu sync.Mutex // guards answered
	answered := map[string]string{}
	record := func(r chattest.Response) {
		mu.Lock()
		defer mu.Unlock()
		if r.Status == 200 || r.Status == 201 {
			m := decode[changedBody](t, r.Body)
			if prev, dup := answered[m.Rev]; dup {
				t.Errorf("rev %s answered twice: %s and %s", m.Rev, prev, m.ID)
			}
			answered[m.Rev] = m.ID
		}
	}
	var wg sync.WaitGroup
	for i, in := range []api{w.a, w.b} {
		for j, who := range []chattest.User{ana, bob} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := range 8 {
					if n%2 == 0 {
						record(in.send(t, who.Token, g.ID, map[string]any{"content": fmt.Sprintf("i%d u%d n%d", i, j, n)}))
						continue
					}
					mine := base[j+2*(n%3)] // who's own messages: ana sent the even ones
					record(in.edit(t, who.Token, g.ID, mine.ID, map[string]any{"content": fmt.Sprintf("edit i%d n%d", i, n)}))
				}
			}()
		}
	}
	wg.Wait()
	for _, s := range []*chattest.Socket{cidA, cidB} {
		waitFor(t, "every change on socket "+s.ID, func() bool {
			seen, _ := revs(t, s, g.ID)
			for rev := range owed(answered) {
				if !slices.Contains(seen, rev) {
					return false
				}
			}
			return true
		})
		seen, _ := revs(t, s, g.ID)
		if !slices.IsSorted(seen) || len(slices.Compact(slices.Clone(seen))) != len(seen) {
			t.Fatalf("socket %s got revs out of order or twice: %v", s.ID, seen)
		}
	}
	t.Logf("%d changes answered with distinct revs", len(answered))
}
