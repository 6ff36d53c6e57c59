package handlers_test

import (
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// markBody is a ChatUser's read marker, or a messagesRead payload.
type markBody struct {
	ChatID            string  `json:"chatId"`
	UserID            string  `json:"userId"`
	LastReadMessageID string  `json:"lastReadMessageId"`
	LastReadAt        *string `json:"lastReadAt"`
}

// markersBody is a Chat with its members' read markers and the
// receiver's mute.
type markersBody struct {
	ID         string     `json:"id"`
	MutedUntil *string    `json:"mutedUntil"`
	Users      []markBody `json:"users"`
}

// markerOf returns uid's read marker in the chat as viewer reads it.
func (a api) markerOf(t *testing.T, viewer chattest.User, chatID, uid string) markBody {
	t.Helper()
	_, r := a.getChat(t, viewer.Token, chatID)
	for _, u := range decode[markersBody](t, r.Body).Users {
		if u.UserID == uid {
			return u
		}
	}
	t.Fatalf("%s is not in chat %s", uid, chatID)
	return markBody{}
}

func (a api) read(t *testing.T, token, chatID string) {
	t.Helper()
	if r := a.call(t, "POST", "/api/chats/{id}/read", "/api/chats/"+chatID+"/read", token, nil); r.Status != 204 {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
}

func readBy(uid, mid string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var m markBody
		return json.Unmarshal(raw, &m) == nil && m.UserID == uid && m.LastReadMessageID == mid
	}
}

// TestReadReceiptsAcrossInstances: a read moves the member's marker in
// REST and is messagesRead to the other members' sockets in the chat's
// room on both instances, never to the reader's own; a send moves the
// sender's marker without an event.
func TestReadReceiptsAcrossInstances(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "g"})
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	cidB := chattest.MustDial(t, w.b.in.URL, cid.Token)
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	for _, s := range []*chattest.Socket{anaA, cidB, bobB} {
		s.MustEmit(t, "joinChat", g.ID)
	}
	m1 := w.a.mustSend(t, ana.Token, g.ID, "one")
	if got := w.b.markerOf(t, cid, g.ID, ana.UID); got.LastReadMessageID != m1.ID || got.LastReadAt == nil {
		t.Fatalf("the sender's marker after sending: %+v", got)
	}
	w.a.read(t, bob.Token, g.ID)
	for _, s := range []*chattest.Socket{anaA, cidB} {
		ev := s.Wait(t, "messagesRead", readBy(bob.UID, m1.ID))
		if m := decode[markBody](t, ev.Data); m.ChatID != g.ID || m.LastReadAt == nil {
			t.Fatalf("messagesRead %s", ev.Data)
		}
	}
	if got := w.b.markerOf(t, ana, g.ID, bob.UID); got.LastReadMessageID != m1.ID || got.LastReadAt == nil {
		t.Fatalf("bob's marker as ana reads it: %+v", got)
	}
	// joinChat reads too; cid's joined before m2, so it is his open view
	// that is news when he joins again after leaving.
	m2 := w.b.mustSend(t, bob.Token, g.ID, "two")
	cidB.MustEmit(t, "leaveChat", g.ID)
	cidB.MustEmit(t, "joinChat", g.ID)
	anaA.Wait(t, "messagesRead", readBy(cid.UID, m2.ID))
	bobB.Wait(t, "messagesRead", readBy(cid.UID, m2.ID))
	// Nothing from a sender's own send, nor to the reader's own socket.
	marker(t, w.a, anaA, cid, ana)
	marker(t, w.b, bobB, cid, bob)
	for _, s := range []*chattest.Socket{anaA, bobB} {
		for _, ev := range s.Events("messagesRead") {
			if m := decode[markBody](t, ev.Data); m.UserID == ana.UID || (s == bobB && m.UserID == bob.UID) || m.LastReadMessageID == m2.ID && m.UserID == bob.UID {
				t.Fatalf("socket %s got %s", s.ID, ev.Data)
			}
		}
	}
}

// TestReceiptBurstThrottled: a burst of reads is at most one messagesRead
// a second per reader (plus the first), and the last one carries the
// reader's final marker.
func TestReceiptBurstThrottled(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "g"})
	cidS := chattest.MustDial(t, a.in.URL, cid.Token)
	cidS.MustEmit(t, "joinChat", g.ID)
	var wg sync.WaitGroup
	start := time.Now()
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.mustSend(t, ana.Token, g.ID, "burst")
			a.read(t, bob.Token, g.ID)
		}()
	}
	wg.Wait()
	burst := time.Since(start)
	final := a.markerOf(t, cid, g.ID, bob.UID)
	cidS.Wait(t, "messagesRead", readBy(bob.UID, final.LastReadMessageID))
	n := len(cidS.Events("messagesRead"))
	if allowed := 2 + int(burst/time.Second); n > allowed {
		t.Fatalf("%d messagesRead for 20 reads over %s; at most %d", n, burst, allowed)
	}
	marker(t, a, cidS, ana, cid)
	if got := len(cidS.Events("messagesRead")); got != n {
		t.Fatalf("%d more messagesRead after the last marker", got-n)
	}
	t.Logf("20 reads over %s gave %d messagesRead", burst.Round(time.Millisecond), n)
}

// TestReceiptsOptOut: a member who hides read receipts sends no
// messagesRead and reads as ""/null to others (not to themself); turning
// them on again shows the current marker.
func TestReceiptsOptOut(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	anaS := chattest.MustDial(t, a.in.URL, ana.Token)
	anaS.MustEmit(t, "joinChat", d.ID)
	setReceipts := func(on bool) {
		r := a.call(t, "PATCH", "/api/me", "/api/me", bob.Token, map[string]any{"readReceipts": on})
		if r.Status != 200 || decode[struct {
			ReadReceipts bool `json:"readReceipts"`
		}](t, r.Body).ReadReceipts != on {
			t.Fatalf("patch readReceipts %v: %d %s", on, r.Status, r.Body)
		}
	}
	setReceipts(false)
	m := a.mustSend(t, ana.Token, d.ID, "hello")
	a.read(t, bob.Token, d.ID)
	if got := a.markerOf(t, ana, d.ID, bob.UID); got.LastReadMessageID != "" || got.LastReadAt != nil {
		t.Fatalf("hidden marker shown to ana: %+v", got)
	}
	if got := a.markerOf(t, bob, d.ID, bob.UID); got.LastReadMessageID != m.ID {
		t.Fatalf("bob's own marker: %+v", got)
	}
	marker(t, a, anaS, bob, ana)
	if n := len(anaS.Events("messagesRead")); n != 0 {
		t.Fatalf("%d messagesRead from a member hiding receipts", n)
	}
	setReceipts(true)
	if got := a.markerOf(t, ana, d.ID, bob.UID); got.LastReadMessageID != m.ID || got.LastReadAt == nil {
		t.Fatalf("marker after turning receipts on: %+v", got)
	}
}

// TestMuteAcrossDevices: a mute reaches the user's every device as
// chatMuted and reads back as the user's own mutedUntil; it changes no
// unread count; leaving the chat ends it.
func TestMuteAcrossDevices(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 3)
	ana, bob, eve := u[0], u[1], u[2]
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	anaB := chattest.MustDial(t, w.b.in.URL, ana.Token)
	mute := func(api api, user chattest.User, body any) chattest.Response {
		return api.call(t, "PUT", "/api/chats/{id}/mute", "/api/chats/"+g.ID+"/mute", user.Token, body)
	}
	muted := func(want string) func(json.RawMessage) bool {
		return func(raw json.RawMessage) bool {
			var m struct {
				ChatID     string  `json:"chatId"`
				MutedUntil *string `json:"mutedUntil"`
			}
			return json.Unmarshal(raw, &m) == nil && m.ChatID == g.ID && (m.MutedUntil == nil) == (want == "") && (want == "" || *m.MutedUntil == want)
		}
	}
	until := time.Now().Add(time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
	expect(t, mute(w.a, ana, map[string]any{"until": until}), 204, "")
	for _, s := range []*chattest.Socket{anaA, anaB} {
		s.Wait(t, "chatMuted", muted(until))
	}
	if got := decode[markersBody](t, w.b.call(t, "GET", "/api/chats/{id}", "/api/chats/"+g.ID, ana.Token, nil).Body); got.MutedUntil == nil || *got.MutedUntil != until {
		t.Fatalf("mutedUntil %v, want %s", got.MutedUntil, until)
	}
	if got := decode[markersBody](t, w.b.call(t, "GET", "/api/chats/{id}", "/api/chats/"+g.ID, bob.Token, nil).Body); got.MutedUntil != nil {
		t.Fatalf("bob sees ana's mute: %v", *got.MutedUntil)
	}
	// Muted, messages still count and still come.
	m := w.a.mustSend(t, bob.Token, g.ID, "while muted")
	anaB.Wait(t, "chatSummary", func(raw json.RawMessage) bool {
		s := decode[summaryBody](t, raw)
		return s.Message.ID == m.ID && s.UnreadCount == 1
	})
	forever := "9999-12-31T23:59:59.999Z"
	expect(t, mute(w.b, ana, map[string]any{"until": forever}), 204, "")
	anaA.Wait(t, "chatMuted", muted(forever))
	expect(t, w.a.call(t, "DELETE", "/api/chats/{id}/mute", "/api/chats/"+g.ID+"/mute", ana.Token, nil), 204, "")
	anaB.Wait(t, "chatMuted", muted(""))
	expect(t, mute(w.a, ana, map[string]any{"until": "2001-01-01T00:00:00.000Z"}), 204, "") // past: already unmuted, no change

	t.Run("Refused", func(t *testing.T) {
		expect(t, mute(w.a, ana, map[string]any{}), 400, "invalid_argument")
		expect(t, mute(w.a, ana, map[string]any{"until": "tomorrow"}), 400, "invalid_argument")
		expect(t, mute(w.a, eve, map[string]any{"until": forever}), 404, "not_found")
	})
	t.Run("LeavingEndsIt", func(t *testing.T) {
		expect(t, mute(w.a, bob, map[string]any{"until": forever}), 204, "")
		expect(t, w.a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+g.ID+"/members/"+bob.UID, bob.Token, nil), 204, "")
		w.a.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+g.ID+"/members", ana.Token, map[string]any{"userIds": []string{bob.UID}})
		if got := decode[markersBody](t, w.a.call(t, "GET", "/api/chats/{id}", "/api/chats/"+g.ID, bob.Token, nil).Body); got.MutedUntil != nil {
			t.Fatalf("mute kept across leaving: %s", *got.MutedUntil)
		}
	})
	marker(t, w.a, anaA, bob, ana)
	if n := len(anaA.Events("chatMuted")); n != 3 {
		t.Fatalf("%d chatMuted on ana's first device, want 3 (mute, forever, unmute)", n)
	}
}
