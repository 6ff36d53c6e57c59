package handlers_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// chatOf decodes a Chat body.
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

func TestRealtimeAcrossInstances(t *testing.T) {
	a := chattest.NewInstance(t, chattest.Options{})
	b := chattest.NewInstance(t, chattest.Options{})
	c := chattest.MustContract(t)
	ana, bob := chattest.NewUser(t, "ana"), chattest.NewUser(t, "bob")
	for _, u := range []chattest.User{ana, bob} {
		if r := a.Do(t, "GET", "/api/me", u.Token, nil); r.Status != 200 {
			t.Fatalf("me: %d", r.Status)
		}
	}
	sa := chattest.MustDial(t, a.URL, ana.Token)
	sb := chattest.MustDial(t, b.URL, bob.Token)

	r := a.Do(t, "POST", "/api/chats", ana.Token, map[string]any{"userIds": []string{bob.UID}})
	c.ValidateREST(t, "POST", "/api/chats", r)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var ch chatBody
	r.JSON(t, &ch)
	sb.Wait(t, "newChat", field("id", ch.ID))
	sa.Wait(t, "newChat", field("id", ch.ID))

	r = a.Do(t, "POST", "/api/chats/"+ch.ID+"/messages", ana.Token, map[string]any{"content": "hi bob", "clientMessageId": "c1"})
	c.ValidateREST(t, "POST", "/api/chats/{id}/messages", r)
	if r.Status != 201 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	var m msgBody
	r.JSON(t, &m)
	sb.Wait(t, "newMessage", field("id", m.ID))
	sa.Wait(t, "newMessage", field("id", m.ID))
	ev := sb.Wait(t, "chatSummary", field("chatId", ch.ID))
	var sum summaryBody
	_ = json.Unmarshal(ev.Data, &sum)
	if sum.UnreadCount != 1 {
		t.Fatalf("bob unread %d", sum.UnreadCount)
	}
	ev = sa.Wait(t, "chatSummary", field("chatId", ch.ID))
	_ = json.Unmarshal(ev.Data, &sum)
	if sum.UnreadCount != 0 {
		t.Fatalf("ana unread %d", sum.UnreadCount)
	}
	// typing across instances
	sa.MustEmit(t, "joinChat", ch.ID)
	sb.MustEmit(t, "joinChat", ch.ID)
	sb.MustEmit(t, "typing", ch.ID)
	sa.Wait(t, "typing", field("userId", bob.UID))
	sb.MustEmit(t, "stopTyping", ch.ID)
	sa.Wait(t, "stopTyping", field("userId", bob.UID))
}
