package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chatapp/chat/chattest"
)

type pageBody struct {
	Messages   []msgBody `json:"messages"`
	NextBefore *string   `json:"nextBefore"`
	NextAfter  *string   `json:"nextAfter"`
}

func (a api) page(t *testing.T, token, chatID, query string) pageBody {
	t.Helper()
	r := a.call(t, "GET", "/api/chats/{id}/messages", "/api/chats/"+chatID+"/messages?"+query, token, nil)
	if r.Status != 200 {
		t.Fatalf("page %s: %d %s", query, r.Status, r.Body)
	}
	var p pageBody
	r.JSON(t, &p)
	return p
}

func TestSendMessage(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	t.Run("Sent", func(t *testing.T) {
		r := a.send(t, ana.Token, ch.ID, map[string]any{"content": "héllo", "clientMessageId": "k1"})
		var m msgBody
		r.JSON(t, &m)
		if r.Status != 201 || m.Content != "héllo" || m.SenderID != ana.UID || m.ClientMessageID != "k1" || m.ChatID != ch.ID {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		r = a.send(t, ana.Token, ch.ID, map[string]any{"content": "other text", "clientMessageId": "k1"})
		var again msgBody
		r.JSON(t, &again)
		if r.Status != 200 || again.ID != m.ID || again.Content != "héllo" {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		// The same clientMessageId from another sender is another message.
		r = a.send(t, bob.Token, ch.ID, map[string]any{"content": "x", "clientMessageId": "k1"})
		if r.Status != 201 {
			t.Fatalf("bob: %d %s", r.Status, r.Body)
		}
	})
	t.Run("MaxContent", func(t *testing.T) {
		if r := a.send(t, ana.Token, ch.ID, map[string]any{"content": strings.Repeat("ß", 4000)}); r.Status != 201 {
			t.Fatalf("got %d", r.Status)
		}
	})
	for name, body := range map[string]any{
		"ErrTooLong":           map[string]any{"content": strings.Repeat("ß", 4001)},
		"ErrEmpty":             map[string]any{"content": ""},
		"ErrMissing":           map[string]any{},
		"ErrWrongType":         `{"content":5}`,
		"ErrClientIDTooLong":   map[string]any{"content": "x", "clientMessageId": strings.Repeat("k", 129)},
		"ErrClientIDWrongType": `{"content":"x","clientMessageId":[]}`,
		"ErrMalformed":         `{"content":"x"`,
		"ErrTrailing":          `{"content":"x"} {}`,
	} {
		t.Run(name, func(t *testing.T) {
			before := len(chattest.Query(t, "/chats/"+ch.ID, "messages", false))
			expect(t, a.send(t, ana.Token, ch.ID, body), 400, "invalid_argument")
			if after := len(chattest.Query(t, "/chats/"+ch.ID, "messages", false)); after != before {
				t.Fatalf("a refused message was stored")
			}
		})
	}
	t.Run("ErrBodyTooLarge", func(t *testing.T) {
		expect(t, a.send(t, ana.Token, ch.ID, `{"content":"`+strings.Repeat("x", 1<<20)+`"}`), 413, "too_large")
	})
}

func TestHistory(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	var sent []string
	for i := 0; i < 23; i++ {
		tok := ana.Token
		if i%3 == 0 {
			tok = bob.Token
		}
		sent = append(sent, a.mustSend(t, tok, ch.ID, fmt.Sprint("m", i)).ID)
	}
	t.Run("BackwardPagesNoGapsNoRepeats", func(t *testing.T) {
		var got []string
		q := "limit=5"
		for pages := 0; ; pages++ {
			p := a.page(t, ana.Token, ch.ID, q)
			ids := make([]string, len(p.Messages))
			for i, m := range p.Messages {
				ids[i] = m.ID
			}
			got = append(ids, got...)
			if p.NextBefore == nil {
				break
			}
			q = "limit=5&before=" + *p.NextBefore
			if pages > 10 {
				t.Fatal("too many pages")
			}
		}
		if strings.Join(got, ",") != strings.Join(sent, ",") {
			t.Fatalf("got %v\nwant %v", got, sent)
		}
	})
	t.Run("CatchUpAfter", func(t *testing.T) {
		var got []string
		q := "limit=4&after=" + sent[5]
		for {
			p := a.page(t, bob.Token, ch.ID, q)
			for _, m := range p.Messages {
				got = append(got, m.ID)
			}
			if p.NextAfter == nil {
				break
			}
			q = "limit=4&after=" + *p.NextAfter
		}
		if strings.Join(got, ",") != strings.Join(sent[6:], ",") {
			t.Fatalf("got %v\nwant %v", got, sent[6:])
		}
	})
	t.Run("DefaultNewest", func(t *testing.T) {
		p := a.page(t, ana.Token, ch.ID, "")
		if len(p.Messages) != 23 || p.NextBefore != nil || p.Messages[22].ID != sent[22] {
			t.Fatalf("got %d messages", len(p.Messages))
		}
	})
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "before=bogus", "after=12", "before=" + sent[1] + "&after=" + sent[0]} {
		t.Run("ErrBadQuery/"+q, func(t *testing.T) {
			r := a.call(t, "GET", "/api/chats/{id}/messages", "/api/chats/"+ch.ID+"/messages?"+q, ana.Token, nil)
			expect(t, r, 400, "invalid_argument")
		})
	}
}

func TestReadAndList(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	var chats []chatBody
	for i := 0; i < 3; i++ {
		chats = append(chats, a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": fmt.Sprint("g", i)}))
	}
	// Activity order: chat 1 newest, then 0, then 2 (no message).
	a.mustSend(t, ana.Token, chats[0].ID, "a")
	a.mustSend(t, cid.Token, chats[0].ID, "b")
	a.mustSend(t, ana.Token, chats[1].ID, "c")
	list := func(t *testing.T, token, q string) (cs []chatBody, next *string) {
		r := a.call(t, "GET", "/api/chats", "/api/chats?"+q, token, nil)
		if r.Status != 200 {
			t.Fatalf("list: %d %s", r.Status, r.Body)
		}
		var body struct {
			Chats      []chatBody
			NextBefore *string
		}
		r.JSON(t, &body)
		return body.Chats, body.NextBefore
	}
	t.Run("OrderAndUnread", func(t *testing.T) {
		cs, next := list(t, bob.Token, "")
		if len(cs) != 3 || next != nil {
			t.Fatalf("got %d chats", len(cs))
		}
		if cs[0].ID != chats[1].ID || cs[1].ID != chats[0].ID || cs[2].ID != chats[2].ID {
			t.Fatalf("order %s %s %s", cs[0].Name, cs[1].Name, cs[2].Name)
		}
		if cs[1].UnreadCount != 2 || len(cs[1].Messages) != 1 || cs[1].Messages[0].Content != "b" {
			t.Fatalf("chat0 for bob: %+v", cs[1])
		}
		for _, cu := range cs[1].Users {
			if want := map[bool]int{true: 2, false: 0}[cu.UserID == bob.UID]; cu.UnreadCount != want {
				t.Fatalf("member %s unread %d", cu.UserID, cu.UnreadCount)
			}
		}
		if cs[2].UnreadCount != 0 || len(cs[2].Messages) != 0 {
			t.Fatalf("chat2: %+v", cs[2])
		}
	})
	t.Run("SenderReadsBySending", func(t *testing.T) {
		cs, _ := list(t, ana.Token, "")
		if cs[1].UnreadCount != 1 { // cid's "b" after ana's "a"
			t.Fatalf("ana unread %d", cs[1].UnreadCount)
		}
	})
	t.Run("Read", func(t *testing.T) {
		r := a.call(t, "POST", "/api/chats/{id}/read", "/api/chats/"+chats[0].ID+"/read", bob.Token, nil)
		if r.Status != 204 {
			t.Fatalf("got %d", r.Status)
		}
		ch, _ := a.getChat(t, bob.Token, chats[0].ID)
		if ch.UnreadCount != 0 {
			t.Fatalf("unread %d after read", ch.UnreadCount)
		}
	})
	t.Run("Pages", func(t *testing.T) {
		first, next := list(t, bob.Token, "limit=2")
		if len(first) != 2 || next == nil {
			t.Fatalf("first page %d", len(first))
		}
		second, next2 := list(t, bob.Token, "limit=2&before="+*next)
		if len(second) != 1 || next2 != nil || second[0].ID != chats[2].ID {
			t.Fatalf("second page %+v", second)
		}
	})
	for _, q := range []string{"limit=0", "limit=101", "before=!!!", "before=bm90LWEtY3Vyc29y"} {
		t.Run("ErrBadQuery/"+q, func(t *testing.T) {
			r := a.call(t, "GET", "/api/chats", "/api/chats?"+q, bob.Token, nil)
			expect(t, r, 400, "invalid_argument")
		})
	}
}
