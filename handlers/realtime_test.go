package handlers_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

type chatBody struct {
	ID          string `json:"id"`
	IsGroup     bool   `json:"isGroup"`
	Name        string `json:"name"`
	CreatorID   string `json:"creatorId"`
	UnreadCount int    `json:"unreadCount"`
	Users       []struct {
		UserID      string `json:"userId"`
		UnreadCount int    `json:"unreadCount"`
	} `json:"users"`
	Messages []msgBody `json:"messages"`
}

type msgBody struct {
	ID              string `json:"id"`
	ChatID          string `json:"chatId"`
	SenderID        string `json:"senderId"`
	Content         string `json:"content"`
	FileURL         string `json:"fileUrl"`
	FileName        string `json:"fileName"`
	CreatedAt       string `json:"createdAt"`
	ClientMessageID string `json:"clientMessageId"`
}

type summaryBody struct {
	ChatID      string  `json:"chatId"`
	UnreadCount int     `json:"unreadCount"`
	Message     msgBody `json:"message"`
}

func field(key, want string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var m map[string]any
		if json.Unmarshal(raw, &m) != nil {
			return false
		}
		return fmt.Sprint(m[key]) == want
	}
}

func summaryFor(chatID, msgID string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool {
		var s summaryBody
		return json.Unmarshal(raw, &s) == nil && s.ChatID == chatID && s.Message.ID == msgID
	}
}

func isString(want string) func(json.RawMessage) bool {
	return func(raw json.RawMessage) bool { return string(raw) == `"`+want+`"` }
}

// world is two instances, as Cloud Run runs them, and users whose sockets
// sit on one or the other.
type world struct {
	a, b api
}

func newWorld(t *testing.T) world {
	return world{newAPI(t, chattest.NewInstance(t, chattest.Options{})), newAPI(t, chattest.NewInstance(t, chattest.Options{}))}
}

func TestNewMessageAndSummary(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 4)
	ana, bob, cid, eve := u[0], u[1], u[2], u[3]
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	anaB := chattest.MustDial(t, w.b.in.URL, ana.Token) // ana's second device
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	cidA := chattest.MustDial(t, w.a.in.URL, cid.Token)
	eveB := chattest.MustDial(t, w.b.in.URL, eve.Token)
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "g"})
	for _, s := range []*chattest.Socket{anaA, anaB, bobB, cidA} {
		s.Wait(t, "newChat", field("id", g.ID))
	}
	// bob reads nothing yet; cid sends one first, then ana (on B) sends.
	m1 := w.b.mustSend(t, cid.Token, g.ID, "one")
	m2 := w.b.mustSend(t, ana.Token, g.ID, "two")
	for _, s := range []*chattest.Socket{anaA, anaB, bobB, cidA} {
		s.Wait(t, "newMessage", field("id", m1.ID))
		s.Wait(t, "newMessage", field("id", m2.ID))
	}
	t.Run("UnreadPerMember", func(t *testing.T) {
		want := map[*chattest.Socket]int{anaA: 0, anaB: 0, bobB: 2, cidA: 1}
		for s, n := range want {
			got := decode[summaryBody](t, s.Wait(t, "chatSummary", summaryFor(g.ID, m2.ID)).Data)
			if got.UnreadCount != n {
				t.Fatalf("socket %s: unread %d want %d", s.ID, got.UnreadCount, n)
			}
		}
	})
	t.Run("ReadGoesToReaderOnly", func(t *testing.T) {
		before := len(cidA.Events("chatSummary"))
		if r := w.a.call(t, "POST", "/api/chats/{id}/read", "/api/chats/"+g.ID+"/read", bob.Token, nil); r.Status != 204 {
			t.Fatalf("read %d", r.Status)
		}
		got := bobB.Wait(t, "chatSummary", func(raw json.RawMessage) bool {
			s := decode[summaryBody](t, raw)
			return s.ChatID == g.ID && s.UnreadCount == 0
		})
		_ = got
		marker(t, w.a, cidA, eve, cid)
		if after := len(cidA.Events("chatSummary")); after != before+1 { // +1: the marker's own summary
			t.Fatalf("cid got %d chatSummary events for bob's read", after-before-1)
		}
	})
	t.Run("ErrNonMemberGetsNothing", func(t *testing.T) {
		marker(t, w.b, eveB, cid, eve)
		for _, ev := range eveB.Events("") {
			if ev.Name != "newChat" && (field("chatId", g.ID)(ev.Data) || field("id", g.ID)(ev.Data)) {
				t.Fatalf("eve got %s %s", ev.Name, ev.Data)
			}
		}
	})
	t.Run("OrderPerChat", func(t *testing.T) {
		var sent []string
		for i := 0; i < 15; i++ {
			api := w.a
			if i%2 == 1 {
				api = w.b
			}
			sent = append(sent, api.mustSend(t, []string{ana.Token, bob.Token, cid.Token}[i%3], g.ID, fmt.Sprint(i)).ID)
		}
		bobB.Wait(t, "newMessage", field("id", sent[len(sent)-1]))
		var got []string
		for _, ev := range bobB.Events("newMessage") {
			if m := decode[msgBody](t, ev.Data); m.ChatID == g.ID {
				got = append(got, m.ID)
			}
		}
		got = got[len(got)-15:]
		if fmt.Sprint(got) != fmt.Sprint(sent) {
			t.Fatalf("order %v\nwant  %v", got, sent)
		}
	})
}

func TestChatEvents(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 4)
	ana, bob, cid, dan := u[0], u[1], u[2], u[3]
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	bobB2 := chattest.MustDial(t, w.b.in.URL, bob.Token) // bob's device without the chat open
	cidB := chattest.MustDial(t, w.b.in.URL, cid.Token)
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	bobB.Wait(t, "newChat", field("id", g.ID))
	anaA.MustEmit(t, "joinChat", g.ID)
	bobB.MustEmit(t, "joinChat", g.ID)
	w.a.mustSend(t, ana.Token, g.ID, "unread for bob")

	t.Run("ChatUpdatedToRoomWithOwnUnread", func(t *testing.T) {
		r := w.b.call(t, "PATCH", "/api/chats/{id}", "/api/chats/"+g.ID, ana.Token, map[string]any{"name": "renamed"})
		if r.Status != 200 {
			t.Fatalf("patch %d", r.Status)
		}
		ev := bobB.Wait(t, "chatUpdated", field("name", "renamed"))
		if c := decode[chatBody](t, ev.Data); c.UnreadCount != 1 {
			t.Fatalf("bob's chatUpdated unread %d", c.UnreadCount)
		}
		anaA.Wait(t, "chatUpdated", field("name", "renamed"))
		// bob's other device has no view open: nothing there.
		marker(t, w.a, bobB2, dan, bob)
		if n := len(bobB2.Events("chatUpdated")); n != 0 {
			t.Fatalf("socket outside the room got %d chatUpdated", n)
		}
	})
	t.Run("ChatInfoToEveryDevice", func(t *testing.T) {
		// The same rename reaches every device of every member, room or
		// not, on both instances: small, without messages.
		for _, s := range []*chattest.Socket{bobB2, bobB, anaA} {
			ev := s.Wait(t, "chatInfo", field("name", "renamed"))
			c := decode[chatBody](t, ev.Data)
			if len(c.Messages) != 0 || len(c.Users) != 2 {
				t.Fatalf("chatInfo %s", ev.Data)
			}
			want := 1 // bob's own count; ana sent the unread message
			if s == anaA {
				want = 0
			}
			if c.UnreadCount != want {
				t.Fatalf("chatInfo unread %d, want %d: %s", c.UnreadCount, want, ev.Data)
			}
		}
	})
	t.Run("NewChatToAddedUser", func(t *testing.T) {
		r := w.b.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+g.ID+"/members", bob.Token, map[string]any{"userIds": []string{cid.UID}})
		if r.Status != 200 {
			t.Fatalf("add %d", r.Status)
		}
		ev := cidB.Wait(t, "newChat", field("id", g.ID))
		if c := decode[chatBody](t, ev.Data); len(c.Users) != 3 || c.UnreadCount != 0 || len(c.Messages) != 1 {
			t.Fatalf("newChat %s", ev.Data)
		}
		anaA.Wait(t, "chatUpdated", func(raw json.RawMessage) bool { return len(decode[chatBody](t, raw).Users) == 3 })
		bobB2.Wait(t, "chatInfo", func(raw json.RawMessage) bool { return len(decode[chatBody](t, raw).Users) == 3 })
	})
	t.Run("RemovedUserLeavesRoom", func(t *testing.T) {
		cidB.MustEmit(t, "joinChat", g.ID)
		r := w.a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+g.ID+"/members/"+cid.UID, ana.Token, nil)
		if r.Status != 204 {
			t.Fatalf("remove %d", r.Status)
		}
		cidB.Wait(t, "chatDeleted", isString(g.ID))
		// Typing in the room no longer reaches cid; it reaches bob, whose
		// socket is on the same instance and listener (the marker).
		before := len(cidB.Events("typing"))
		anaA.MustEmit(t, "typing", g.ID)
		bobB.Wait(t, "typing", field("userId", ana.UID))
		anaA.MustEmit(t, "stopTyping", g.ID)
		bobB.Wait(t, "stopTyping", field("userId", ana.UID))
		if n := len(cidB.Events("typing")); n != before {
			t.Fatalf("removed member got typing")
		}
		if code := cidB.Emit(t, "typing", g.ID); code != "not_found" {
			t.Fatalf("removed member typing ack %q", code)
		}
		anaA.Wait(t, "chatUpdated", func(raw json.RawMessage) bool { return len(decode[chatBody](t, raw).Users) == 2 })
		bobB2.Wait(t, "chatInfo", func(raw json.RawMessage) bool { return len(decode[chatBody](t, raw).Users) == 2 })
		if n := len(cidB.Events("chatInfo")); n != 0 {
			t.Fatalf("the added, then removed member got %d chatInfo", n)
		}
	})
	t.Run("LeaverGetsChatDeleted", func(t *testing.T) {
		g2 := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g2"})
		bobB.Wait(t, "newChat", field("id", g2.ID))
		anaA.MustEmit(t, "joinChat", g2.ID)
		r := w.b.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+g2.ID+"/members/"+bob.UID, bob.Token, nil)
		if r.Status != 204 {
			t.Fatalf("leave %d", r.Status)
		}
		bobB.Wait(t, "chatDeleted", isString(g2.ID))
		bobB2.Wait(t, "chatDeleted", isString(g2.ID))
		anaA.Wait(t, "chatUpdated", func(raw json.RawMessage) bool {
			c := decode[chatBody](t, raw)
			return c.ID == g2.ID && len(c.Users) == 1
		})
	})
	t.Run("ChatDeletedToMembers", func(t *testing.T) {
		r := w.b.call(t, "DELETE", "/api/chats/{id}", "/api/chats/"+g.ID, ana.Token, nil)
		if r.Status != 204 {
			t.Fatalf("delete %d", r.Status)
		}
		anaA.Wait(t, "chatDeleted", isString(g.ID))
		bobB.Wait(t, "chatDeleted", isString(g.ID))
		bobB2.Wait(t, "chatDeleted", isString(g.ID))
	})
}

func TestTyping(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	anaB := chattest.MustDial(t, w.b.in.URL, ana.Token) // the typist's other device, in the room
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)
	cidA := chattest.MustDial(t, w.a.in.URL, cid.Token)
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true})
	for _, s := range []*chattest.Socket{anaA, anaB, bobB, cidA} {
		s.Wait(t, "newChat", field("id", g.ID))
		s.MustEmit(t, "joinChat", g.ID)
	}
	t.Run("ToOthersNotOwnDevices", func(t *testing.T) {
		for i := 0; i < 3; i++ { // repeats within the window are not re-sent
			anaA.MustEmit(t, "typing", g.ID)
		}
		bobB.Wait(t, "typing", field("userId", ana.UID))
		cidA.Wait(t, "typing", field("userId", ana.UID))
		// Marker: bob types; ana's devices get that, after any own echo.
		bobB.MustEmit(t, "typing", g.ID)
		anaB.Wait(t, "typing", field("userId", bob.UID))
		anaA.Wait(t, "typing", field("userId", bob.UID))
		for _, s := range []*chattest.Socket{anaA, anaB} {
			for _, ev := range s.Events("typing") {
				if field("userId", ana.UID)(ev.Data) {
					t.Fatal("typist's own device got typing")
				}
			}
		}
		anaA.MustEmit(t, "stopTyping", g.ID)
		cidA.Wait(t, "stopTyping", field("userId", ana.UID))
		bobB.MustEmit(t, "stopTyping", g.ID)
		cidA.Wait(t, "stopTyping", field("userId", bob.UID))
		if n := countMatching(bobB.Events("typing"), field("userId", ana.UID)); n != 1 {
			t.Fatalf("repeated typing re-broadcast: %d", n)
		}
	})
	t.Run("StopOnLeave", func(t *testing.T) {
		cidA.MustEmit(t, "typing", g.ID)
		bobB.Wait(t, "typing", field("userId", cid.UID))
		cidA.MustEmit(t, "leaveChat", g.ID)
		bobB.Wait(t, "stopTyping", field("userId", cid.UID))
		cidA.MustEmit(t, "joinChat", g.ID)
	})
	t.Run("StopOnDisconnect", func(t *testing.T) {
		n := countMatching(bobB.Events("typing"), field("userId", cid.UID))
		s := chattest.MustDial(t, w.a.in.URL, cid.Token)
		s.MustEmit(t, "joinChat", g.ID)
		s.MustEmit(t, "typing", g.ID)
		bobB.WaitNth(t, n+1, "typing", field("userId", cid.UID))
		s.Close()
		bobB.WaitNth(t, n+1, "stopTyping", field("userId", cid.UID))
	})
	t.Run("StopAfterExpiry", func(t *testing.T) {
		n := countMatching(bobB.Events("typing"), field("userId", ana.UID))
		anaA.MustEmit(t, "typing", g.ID)
		start := bobB.WaitNth(t, n+1, "typing", field("userId", ana.UID))
		stop := bobB.WaitNth(t, n+1, "stopTyping", field("userId", ana.UID))
		if d := stop.At.Sub(start.At); d < 7*time.Second {
			t.Fatalf("stopped after %s, before the 8 s window", d)
		}
	})
	t.Run("ErrNotJoined", func(t *testing.T) {
		s := chattest.MustDial(t, w.b.in.URL, bob.Token)
		if code := s.Emit(t, "typing", g.ID); code != "not_found" {
			t.Fatalf("ack %q", code)
		}
	})
}

func countMatching(evs []chattest.Event, match func(json.RawMessage) bool) int {
	n := 0
	for _, ev := range evs {
		if match(ev.Data) {
			n++
		}
	}
	return n
}

func TestSocketBadInput(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	s := chattest.MustDial(t, a.in.URL, u[0].Token)
	for _, ev := range []string{"joinChat", "leaveChat", "typing", "stopTyping"} {
		for name, arg := range map[string]any{"Number": 5, "Empty": "", "Object": map[string]any{"chatId": "x"}, "Null": nil, "TooLong": string(make([]byte, 129)), "Slash": "a/b"} {
			t.Run("ErrInvalid/"+ev+"/"+name, func(t *testing.T) {
				if code := s.Emit(t, ev, arg); code != "invalid_argument" {
					t.Fatalf("ack %q", code)
				}
			})
		}
		t.Run("ErrNotFound/"+ev, func(t *testing.T) {
			if code := s.Emit(t, ev, "no-such-chat"); code != "not_found" {
				t.Fatalf("ack %q", code)
			}
		})
		t.Run("ErrMissingPayload/"+ev, func(t *testing.T) {
			raw, err := s.EmitRaw(ev)
			if err != nil || !field("error", "")(raw) && decode[struct{ Error struct{ Code string } }](t, raw).Error.Code != "invalid_argument" {
				t.Fatalf("ack %s %v", raw, err)
			}
		})
	}
	t.Run("UnknownEventKeepsSocket", func(t *testing.T) {
		_ = s.Send(`42["noSuchEvent",1]`)
		_ = s.Send(`4277["noSuchEvent"]`) // an ack nobody answers
		_ = s.Send(`42["joinChat"]`)      // no payload, no ack requested
		ch := a.mustChat(t, u[0].Token, map[string]any{"userIds": []string{u[1].UID}})
		s.MustEmit(t, "joinChat", ch.ID)
	})
}

// TestTypingThrottled: a typist alternating typing and stopTyping as fast
// as the socket may costs one write per 2 s window, and the others see the
// changes coalesced, never a lost final state.
func TestTypingThrottled(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true})
	anaS := chattest.MustDial(t, a.in.URL, ana.Token)
	bobS := chattest.MustDial(t, a.in.URL, bob.Token)
	anaS.MustEmit(t, "joinChat", g.ID)
	bobS.MustEmit(t, "joinChat", g.ID)
	start := time.Now()
	for range 10 {
		anaS.MustEmit(t, "typing", g.ID)
		anaS.MustEmit(t, "stopTyping", g.ID)
	}
	burst := time.Since(start)
	// The last state (stopped) arrives, at the end of a window at most.
	bobS.Wait(t, "stopTyping", field("userId", ana.UID))
	anaS.MustEmit(t, "typing", g.ID) // a marker of sorts: typing again
	bobS.WaitNth(t, 2, "typing", field("userId", ana.UID))
	starts := countMatching(bobS.Events("typing"), field("userId", ana.UID)) - 1
	windows := int(burst/(2*time.Second)) + 1
	if starts > windows {
		t.Fatalf("%d typing starts reached bob from a %v burst: more than one per 2 s window (%d)", starts, burst, windows)
	}
}
