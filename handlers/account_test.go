package handlers_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// senderBody is what a message says of its sender and its quote.
type senderBody struct {
	ID     string `json:"id"`
	Sender struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"sender"`
	ReplyTo *struct {
		SenderID string `json:"senderId"`
		Username string `json:"username"`
	} `json:"replyTo"`
	DeletedAt *string `json:"deletedAt"`
}

// chatUsers is a chat with its members' profiles.
type chatUsers struct {
	ID        string `json:"id"`
	CreatorID string `json:"creatorId"`
	Users     []struct {
		UserID string   `json:"userId"`
		User   userBody `json:"user"`
	} `json:"users"`
	Messages []senderBody `json:"messages"`
}

func (c chatUsers) user(uid string) *userBody {
	for _, u := range c.Users {
		if u.UserID == uid {
			return &u.User
		}
	}
	return nil
}

// deleteMe deletes the user's account on a.
func (a api) deleteMe(t *testing.T, u chattest.User, body any) chattest.Response {
	t.Helper()
	return a.call(t, "DELETE", "/api/me", "/api/me", u.Token, body)
}

// isDeletedUser holds the contract's shape of a deleted account.
func isDeletedUser(u *userBody, uid string) bool {
	return u != nil && u.ID == uid && u.Username == "Deleted user" && u.ProfilePic == "" && !u.Online && u.LastSeen == nil
}

// deletion is TestAccountDeletion's world: bob in a direct chat with ana
// (her reply quoting him), a group he made with ana and cid, a group he
// is alone in, with a device, a mute, a block each way, and sockets on
// both instances.
type deletion struct {
	w                  world
	ana, bob, cid, dan chattest.User
	d, g, h            chatBody
	hi, inGroup        msgBody
	oldName            string
	anaA, bobA, bobB   *chattest.Socket
}

func newDeletion(t *testing.T) *deletion {
	w := newWorld(t)
	u := newUsers(t, w.a, 4)
	f := &deletion{w: w, ana: u[0], bob: u[1], cid: u[2], dan: u[3]}
	ana, bob, cid, dan := f.ana, f.bob, f.cid, f.dan
	f.d = w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	f.g = w.a.mustChat(t, bob.Token, map[string]any{"userIds": []string{ana.UID, cid.UID}, "isGroup": true, "name": "g"})
	f.h = w.a.mustChat(t, bob.Token, map[string]any{"userIds": []string{dan.UID}, "isGroup": true, "name": "h"})
	expect(t, w.a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+f.h.ID+"/members/"+dan.UID, dan.Token, nil), 204, "")
	f.hi = w.a.mustSend(t, bob.Token, f.d.ID, "hi")
	expect(t, w.b.send(t, ana.Token, f.d.ID, map[string]any{"content": "hello", "replyToId": f.hi.ID}), 201, "")
	f.inGroup = w.a.mustSend(t, bob.Token, f.g.ID, "in g")
	expect(t, w.a.call(t, "PUT", "/api/me/devices/{deviceId}", "/api/me/devices/bobs", bob.Token, map[string]any{"token": "tok-" + bob.UID, "platform": "web"}), 204, "")
	expect(t, w.a.call(t, "PUT", "/api/chats/{id}/mute", "/api/chats/"+f.g.ID+"/mute", bob.Token, map[string]any{"until": "9999-12-31T23:59:59.999Z"}), 204, "")
	expect(t, w.a.setBlock(t, cid, bob.UID, true), 204, "")
	expect(t, w.a.setBlock(t, bob, dan.UID, true), 204, "")
	f.oldName = me(t, w.a.in, bob.Token).Username
	f.anaA = chattest.MustDial(t, w.a.in.URL, ana.Token)
	f.anaA.MustEmit(t, "joinChat", f.d.ID)
	f.bobA = chattest.MustDial(t, w.a.in.URL, bob.Token)
	f.bobB = chattest.MustDial(t, w.b.in.URL, bob.Token)
	f.anaA.WaitPresence(t, bob.UID, 1, chattest.WaitTimeout) // bob online
	return f
}

// TestAccountDeletion: bob deletes his account (newDeletion's world);
// then every part of the contract's "Account deletion", read from both
// instances.
func TestAccountDeletion(t *testing.T) {
	t.Parallel()
	f := newDeletion(t)
	w, ana, bob, dan := f.w, f.ana, f.bob, f.dan
	expect(t, w.a.deleteMe(t, bob, map[string]any{"deleteMessages": false}), 204, "")
	t.Run("SocketsDisconnectedEverywhere", func(t *testing.T) {
		f.bobA.WaitClosed(t)
		f.bobB.WaitClosed(t)
		if _, err := chattest.Dial(t, w.b.in.URL, bob.Token); err == nil {
			t.Fatal("a deleted account's socket was accepted")
		}
	})
	t.Run("ErrTokenRefused", func(t *testing.T) {
		expect(t, w.a.deleteMe(t, bob, nil), 401, "unauthorized")                                // at once where it answered
		expect(t, w.b.call(t, "GET", "/api/me", "/api/me", bob.Token, nil), 401, "unauthorized") // no profile made again
		if bob.Exists(t) {
			t.Fatal("the Auth emulator still lists the account")
		}
	})
	t.Run("DirectChatShowsDeletedUser", f.directChat)
	t.Run("MessagesNameDeletedUser", func(t *testing.T) {
		checkDeletedSender(t, w, ana, f.d.ID, bob.UID, f.hi.ID)
		checkDeletedSender(t, w, f.cid, f.g.ID, bob.UID, f.inGroup.ID)
		expect(t, w.b.send(t, ana.Token, f.d.ID, map[string]any{"content": "still here"}), 201, "")
	})
	t.Run("GroupsLeft", f.groups)
	t.Run("UsernameFreeAtOnce", func(t *testing.T) {
		expect(t, w.b.call(t, "PATCH", "/api/me", "/api/me", dan.Token, map[string]any{"username": f.oldName}), 200, "")
	})
	t.Run("NothingLeftNamingTheUser", func(t *testing.T) {
		var left map[string][]string
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("documents still naming bob: %v", left)
			}
		})
		waitFor(t, "the background clean-up to leave only what may name bob", func() bool {
			left = unexpectedNaming(chattest.DocumentsNaming(t, bob.UID), bob.UID, f.d.ID)
			return len(left) == 0
		})
	})
}

// directChat: ana reads bob as the deleted user in their direct chat, in
// GET and the list on both instances and in chatUpdated, and hears him go
// offline.
func (f *deletion) directChat(t *testing.T) {
	bob := f.bob
	for _, a := range []api{f.w.a, f.w.b} {
		var c chatUsers
		a.call(t, "GET", "/api/chats/{id}", "/api/chats/"+f.d.ID, f.ana.Token, nil).JSON(t, &c)
		if !isDeletedUser(c.user(bob.UID), bob.UID) {
			t.Fatalf("bob in the direct chat: %+v", c.user(bob.UID))
		}
	}
	var list struct {
		Chats []chatUsers `json:"chats"`
	}
	f.w.b.call(t, "GET", "/api/chats", "/api/chats", f.ana.Token, nil).JSON(t, &list)
	i := slices.IndexFunc(list.Chats, func(c chatUsers) bool { return c.ID == f.d.ID })
	if i < 0 || !isDeletedUser(list.Chats[i].user(bob.UID), bob.UID) {
		t.Fatalf("the chat list: %+v", list.Chats)
	}
	ev := f.anaA.Wait(t, "chatUpdated", field("id", f.d.ID))
	if c := decode[chatUsers](t, ev.Data); !isDeletedUser(c.user(bob.UID), bob.UID) {
		t.Fatalf("chatUpdated: %s", ev.Data)
	}
	f.anaA.Wait(t, "presence", func(raw json.RawMessage) bool {
		return field("userId", bob.UID)(raw) && field("online", "false")(raw)
	})
}

// groups: bob left g (its creator rights passed) and h, which he was
// alone in, is gone; dan, added to g now, gets it as newChat with bob's
// last message in it under "Deleted user".
func (f *deletion) groups(t *testing.T) {
	var c chatUsers
	f.w.b.call(t, "GET", "/api/chats/{id}", "/api/chats/"+f.g.ID, f.cid.Token, nil).JSON(t, &c)
	if c.user(f.bob.UID) != nil || (c.CreatorID != f.ana.UID && c.CreatorID != f.cid.UID) {
		t.Fatalf("group after bob left: creator %s, bob %+v", c.CreatorID, c.user(f.bob.UID))
	}
	if r := f.w.a.call(t, "GET", "/api/chats/{id}", "/api/chats/"+f.h.ID, f.dan.Token, nil); r.Status != 404 {
		t.Fatalf("the group bob was alone in: %d", r.Status)
	}
	danB := chattest.MustDial(t, f.w.b.in.URL, f.dan.Token)
	expect(t, f.w.a.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+f.g.ID+"/members", f.cid.Token, map[string]any{"userIds": []string{f.dan.UID}}), 200, "")
	ev := danB.Wait(t, "newChat", field("id", f.g.ID))
	nc := decode[chatUsers](t, ev.Data)
	if i := slices.IndexFunc(nc.Messages, func(m senderBody) bool { return m.ID == f.inGroup.ID }); i < 0 || nc.Messages[i].Sender.Username != "Deleted user" {
		t.Fatalf("newChat: %s", ev.Data)
	}
}

// checkDeletedSender holds that viewer reads msgID of the deleted uid,
// and any quote of it, under "Deleted user" in every read of the chat.
func checkDeletedSender(t *testing.T, w world, viewer chattest.User, chatID, uid, msgID string) {
	t.Helper()
	for _, a := range []api{w.a, w.b} {
		var page struct {
			Messages []senderBody `json:"messages"`
		}
		a.call(t, "GET", "/api/chats/{id}/messages", "/api/chats/"+chatID+"/messages", viewer.Token, nil).JSON(t, &page)
		var changed struct {
			Messages []senderBody `json:"messages"`
		}
		a.call(t, "GET", "/api/chats/{id}/messages", "/api/chats/"+chatID+"/messages?changedAfter=0000000000000000", viewer.Token, nil).JSON(t, &changed)
		var one senderBody
		a.call(t, "GET", "/api/chats/{id}/messages/{mid}", "/api/chats/"+chatID+"/messages/"+msgID, viewer.Token, nil).JSON(t, &one)
		var c chatUsers
		a.call(t, "GET", "/api/chats/{id}", "/api/chats/"+chatID, viewer.Token, nil).JSON(t, &c)
		all := slices.Concat(page.Messages, changed.Messages, []senderBody{one}, c.Messages)
		n := 0
		for _, m := range all {
			if m.Sender.ID == uid {
				n++
				if m.Sender.Username != "Deleted user" {
					t.Fatalf("message %s names its deleted sender %q", m.ID, m.Sender.Username)
				}
			}
			if m.ReplyTo != nil && m.ReplyTo.SenderID == uid && m.ReplyTo.Username != "Deleted user" {
				t.Fatalf("quote in %s names its deleted sender %q", m.ID, m.ReplyTo.Username)
			}
		}
		if n < 4 {
			t.Fatalf("%d reads of the deleted sender's messages, want ≥ 4 (they are kept)", n)
		}
	}
}

// unexpectedNaming drops from found what may name a deleted account
// afterwards: its kept messages (sender, quotes, addressing; a chat's copy
// of its last message), the direct
// chat kept for the other member, the pair's key, its own tombstone (the
// server's), and presence documents of others whose audience it was in
// (the server's, expiring within the hour).
func unexpectedNaming(found map[string][]string, uid, direct string) map[string][]string {
	for path, fields := range found {
		parts := strings.Split(path, "/")
		switch {
		case len(parts) == 4 && parts[2] == "messages":
		case path == "chats/"+direct, parts[0] == "chats" && len(parts) == 2 && slices.Equal(fields, []string{"lastMessage"}):
		case parts[0] == "directChats", parts[0] == "deletedUsers" && parts[1] == uid:
		case len(parts) == 4 && parts[0] == "users" && parts[1] != uid && parts[2] == "presence" && slices.Equal(fields, []string{"audience"}):
		default:
			continue
		}
		delete(found, path)
	}
	return found
}

// TestSendRacingDeletion: bob sends on two instances while his account is
// deleted: every send answered 201 is stored, none is stored after the
// 204, and later sends are refused (401 where the deletion answered; on
// the other instance 404 while it remembers his token: the chat refuses
// him).
func TestSendRacingDeletion(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 2)
	ana, bob := u[0], u[1]
	d := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	r := raceSends(t, w, bob, d.ID, func(r chattest.Response) bool { return r.Status == 401 || r.Status == 404 })
	expect(t, w.a.deleteMe(t, bob, nil), 204, "")
	after := w.a.revPage(t, ana.Token, d.ID, "limit=100")
	r.wg.Wait()
	expect(t, w.a.send(t, bob.Token, d.ID, map[string]any{"content": "late"}), 401, "unauthorized")
	// B may remember his token (404: the chat refuses him) or have looked
	// it up after the deletion (401).
	if r := w.b.send(t, bob.Token, d.ID, map[string]any{"content": "late"}); !(r.Status == 404 && r.ErrorCode() == "not_found") && !(r.Status == 401 && r.ErrorCode() == "unauthorized") {
		t.Fatalf("a late send on the other instance: %d %s", r.Status, r.Body)
	}
	r.holdStored(t, w.a, ana, d.ID, after)
}

// TestAccountDeletionWithMessages: with deleteMessages, every message bob
// sent — in the direct chat he stays in and the group he leaves — becomes
// a tombstone under "Deleted user", each told to ana as messageUpdated,
// and his attachment's URL answers 404; a message of ana's is untouched.
func TestAccountDeletionWithMessages(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	d := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	g := w.a.mustChat(t, cid.Token, map[string]any{"userIds": []string{ana.UID, bob.UID}, "isGroup": true, "name": "g"})
	file := mustUpload(t, w.a, bob.Token, d.ID, textPart("content", "the plan"), filePart("plan.txt", []byte("secret plan")))
	bobs := []msgBody{file, w.a.mustSend(t, bob.Token, d.ID, "two"), w.b.mustSend(t, bob.Token, g.ID, "three")}
	anas := w.a.mustSend(t, ana.Token, d.ID, "mine")
	anaB := chattest.MustDial(t, w.b.in.URL, ana.Token)
	expect(t, w.b.deleteMe(t, bob, map[string]any{"deleteMessages": true}), 204, "")
	for _, m := range bobs {
		ev := anaB.Wait(t, "messageUpdated", func(raw json.RawMessage) bool {
			var b senderBody
			return json.Unmarshal(raw, &b) == nil && b.ID == m.ID && b.DeletedAt != nil
		})
		if b := decode[senderBody](t, ev.Data); b.Sender.Username != "Deleted user" {
			t.Fatalf("tombstone of %s names %q", m.ID, b.Sender.Username)
		}
		var one struct {
			senderBody
			Content string `json:"content"`
			FileURL string `json:"fileUrl"`
		}
		w.a.call(t, "GET", "/api/chats/{id}/messages/{mid}", "/api/chats/"+m.ChatID+"/messages/"+m.ID, ana.Token, nil).JSON(t, &one)
		if one.DeletedAt == nil || one.Content != "" || one.FileURL != "" || one.Sender.Username != "Deleted user" {
			t.Fatalf("message %s after the deletion: %+v", m.ID, one)
		}
	}
	// The tombstones go on in the background: its URL is gone once its
	// message is a tombstone (404 from then, as for any deletion).
	if r := w.a.download(t, ana.Token, file.FileURL, nil); r.Status != 404 {
		t.Fatalf("the deleted account's attachment, its message a tombstone: %d", r.Status)
	}
	var mine msgBody
	w.a.call(t, "GET", "/api/chats/{id}/messages/{mid}", "/api/chats/"+d.ID+"/messages/"+anas.ID, ana.Token, nil).JSON(t, &mine)
	if mine.Content != "mine" {
		t.Fatalf("ana's message after bob's deletion: %+v", mine)
	}
}
