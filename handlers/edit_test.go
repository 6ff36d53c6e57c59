package handlers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/realtime"
)

// changedBody is a Message with the fields that say how it changed.
type changedBody struct {
	msgBody
	EditedAt  *string `json:"editedAt"`
	DeletedAt *string `json:"deletedAt"`
	Rev       string  `json:"rev"`
}

func (a api) edit(t *testing.T, token, chatID, mid string, body any) chattest.Response {
	t.Helper()
	return a.call(t, "PATCH", "/api/chats/{id}/messages/{mid}", "/api/chats/"+chatID+"/messages/"+mid, token, body)
}

func (a api) del(t *testing.T, token, chatID, mid string) chattest.Response {
	t.Helper()
	return a.call(t, "DELETE", "/api/chats/{id}/messages/{mid}", "/api/chats/"+chatID+"/messages/"+mid, token, nil)
}

func (a api) mustSendRev(t *testing.T, token, chatID, content string) changedBody {
	t.Helper()
	r := a.send(t, token, chatID, map[string]any{"content": content})
	if r.Status != 201 {
		t.Fatalf("send: %d %s", r.Status, r.Body)
	}
	return decode[changedBody](t, r.Body)
}

// revPageBody is a page of messages with their revs.
type revPageBody struct {
	Messages         []changedBody `json:"messages"`
	NextChangedAfter *string       `json:"nextChangedAfter"`
}

// revPage returns a page of the chat's messages (query: its parameters).
func (a api) revPage(t *testing.T, token, chatID, query string) revPageBody {
	t.Helper()
	r := a.call(t, "GET", "/api/chats/{id}/messages", "/api/chats/"+chatID+"/messages?"+query, token, nil)
	if r.Status != 200 {
		t.Fatalf("page %s: %d %s", query, r.Status, r.Body)
	}
	return decode[revPageBody](t, r.Body)
}

// TestEditAndDeletePermissions is the contract's matrix: who may edit and
// delete which message, with the error code of each refusal.
func TestEditAndDeletePermissions(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 5)
	ana, bob, cid, dan, eve := u[0], u[1], u[2], u[3], u[4]
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID, dan.UID}, "isGroup": true, "name": "g"})
	byBob := a.mustSendRev(t, bob.Token, g.ID, "bob says")
	byDan := a.mustSendRev(t, dan.Token, g.ID, "dan says")
	byAna := a.mustSendRev(t, ana.Token, g.ID, "ana says")
	if r := a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+g.ID+"/members/"+dan.UID, ana.Token, nil); r.Status != 204 {
		t.Fatalf("remove dan: %d %s", r.Status, r.Body)
	}
	edit := map[string]any{"content": "changed"}

	t.Run("SenderEdits", func(t *testing.T) {
		r := a.edit(t, bob.Token, g.ID, byBob.ID, map[string]any{"content": "bob says, corrected"})
		expect(t, r, 200, "")
		m := decode[changedBody](t, r.Body)
		if m.Content != "bob says, corrected" || m.EditedAt == nil || m.DeletedAt != nil || m.Rev <= byAna.Rev || m.CreatedAt != byBob.CreatedAt {
			t.Fatalf("edited: %+v (sent %+v)", m, byBob)
		}
		again := a.edit(t, bob.Token, g.ID, byBob.ID, map[string]any{"content": "bob says, corrected"})
		expect(t, again, 200, "")
		if same := decode[changedBody](t, again.Body); same.Rev != m.Rev {
			t.Fatalf("an edit that changes nothing got a new rev: %s then %s", m.Rev, same.Rev)
		}
	})
	t.Run("CreatorEditsAnothersForbidden", func(t *testing.T) {
		expect(t, a.edit(t, ana.Token, g.ID, byBob.ID, edit), 403, "forbidden")
	})
	t.Run("RemovedMemberNotFound", func(t *testing.T) {
		expect(t, a.edit(t, dan.Token, g.ID, byDan.ID, edit), 404, "not_found")
		expect(t, a.del(t, dan.Token, g.ID, byDan.ID), 404, "not_found")
	})
	t.Run("NonMemberNotFound", func(t *testing.T) {
		expect(t, a.edit(t, eve.Token, g.ID, byBob.ID, edit), 404, "not_found")
		expect(t, a.del(t, eve.Token, g.ID, byBob.ID), 404, "not_found")
	})
	t.Run("UnknownMessageNotFound", func(t *testing.T) {
		expect(t, a.edit(t, bob.Token, g.ID, "000000000099ABCDEFGH", edit), 404, "not_found")
		expect(t, a.del(t, bob.Token, g.ID, "nonsense"), 404, "not_found")
	})
	t.Run("EmptyContentInvalid", func(t *testing.T) {
		expect(t, a.edit(t, bob.Token, g.ID, byBob.ID, map[string]any{"content": ""}), 400, "invalid_argument")
		expect(t, a.edit(t, bob.Token, g.ID, byBob.ID, map[string]any{}), 400, "invalid_argument")
		expect(t, a.edit(t, bob.Token, g.ID, byBob.ID, map[string]any{"content": strings.Repeat("x", 4001)}), 400, "invalid_argument")
	})
	t.Run("OtherMemberDeletesForbidden", func(t *testing.T) {
		expect(t, a.del(t, cid.Token, g.ID, byBob.ID), 403, "forbidden")
	})
	t.Run("CreatorDeletesAnyIdempotently", func(t *testing.T) {
		expect(t, a.del(t, ana.Token, g.ID, byDan.ID), 204, "")
		expect(t, a.del(t, ana.Token, g.ID, byDan.ID), 204, "")
		var tomb *changedBody
		for _, m := range a.revPage(t, cid.Token, g.ID, "").Messages {
			if m.ID == byDan.ID {
				tomb = &m
			}
		}
		if tomb == nil || tomb.DeletedAt == nil || tomb.Content != "" || tomb.SenderID != dan.UID || tomb.CreatedAt != byDan.CreatedAt {
			t.Fatalf("tombstone in the page: %+v", tomb)
		}
	})
	t.Run("DeletedMessageConflicts", func(t *testing.T) {
		expect(t, a.del(t, bob.Token, g.ID, byBob.ID), 204, "")
		expect(t, a.edit(t, bob.Token, g.ID, byBob.ID, edit), 409, "conflict")
	})
	t.Run("DirectChatOtherMemberForbidden", func(t *testing.T) {
		d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{cid.UID}})
		m := a.mustSendRev(t, ana.Token, d.ID, "mine")
		expect(t, a.del(t, cid.Token, d.ID, m.ID), 403, "forbidden")
		expect(t, a.edit(t, cid.Token, d.ID, m.ID, edit), 403, "forbidden")
		expect(t, a.del(t, ana.Token, d.ID, m.ID), 204, "")
	})
}

// TestMessageUpdatedReachesEveryDevice edits and deletes a message sent
// before the member's sockets connected and older than the listeners'
// rollover on the instance that holds them: both of the member's devices
// get messageUpdated, and chatSummary again while it is the last message.
// A member added after the message was sent (connected before it) gets
// the changes as messageUpdated too, never as a new message.
func TestMessageUpdatedReachesEveryDevice(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	b := newAPI(t, chattest.NewInstance(t, chattest.Options{Realtime: realtime.Options{Rollover: 2 * time.Second}}))
	u := newUsers(t, a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	cidA := chattest.MustDial(t, a.in.URL, cid.Token)
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	old := a.mustSendRev(t, ana.Token, g.ID, "said long ago")
	if r := a.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+g.ID+"/members", ana.Token, map[string]any{"userIds": []string{cid.UID}}); r.Status != 200 {
		t.Fatalf("add cid: %d %s", r.Status, r.Body)
	}
	cidA.Wait(t, "newChat", field("id", g.ID))
	bob1 := chattest.MustDial(t, b.in.URL, bob.Token)
	bob2 := chattest.MustDial(t, b.in.URL, bob.Token)
	anaA := chattest.MustDial(t, a.in.URL, ana.Token)
	restarts := b.in.Node.Restarts()
	waitFor(t, "a listener rollover on b", func() bool { return b.in.Node.Restarts() > restarts })

	r := a.edit(t, ana.Token, g.ID, old.ID, map[string]any{"content": "said long ago, edited"})
	expect(t, r, 200, "")
	edited := decode[changedBody](t, r.Body)
	isEdit := func(raw json.RawMessage) bool {
		m := decode[changedBody](t, raw)
		return m.ID == old.ID && m.Rev == edited.Rev && m.Content == "said long ago, edited" && m.EditedAt != nil
	}
	for _, s := range []*chattest.Socket{bob1, bob2, anaA, cidA} {
		s.Wait(t, "messageUpdated", isEdit)
		got := decode[summaryBody](t, s.Wait(t, "chatSummary", summaryFor(g.ID, old.ID)).Data)
		want := map[*chattest.Socket]int{bob1: 1, bob2: 1, anaA: 0, cidA: 0}[s]
		if got.UnreadCount != want || got.Message.Content != "said long ago, edited" {
			t.Fatalf("summary on %s: %+v", s.ID, got)
		}
	}
	if _, r := a.getChat(t, bob.Token, g.ID); r.Status != 200 || !strings.Contains(string(r.Body), "said long ago, edited") {
		t.Fatalf("chat after the edit: %d %s", r.Status, r.Body)
	}

	expect(t, a.del(t, ana.Token, g.ID, old.ID), 204, "")
	for _, s := range []*chattest.Socket{bob1, bob2, anaA, cidA} {
		s.Wait(t, "messageUpdated", func(raw json.RawMessage) bool {
			m := decode[changedBody](t, raw)
			return m.ID == old.ID && m.DeletedAt != nil && m.Content == "" && m.Rev > edited.Rev
		})
	}
	// Neither change came as a new message: the marker's arrives first.
	marker(t, a, bob1, ana, bob)
	marker(t, a, cidA, ana, cid)
	for _, s := range []*chattest.Socket{bob1, cidA} {
		for _, ev := range s.Events("newMessage") {
			if decode[msgBody](t, ev.Data).ID == old.ID {
				t.Fatalf("the edited message came as newMessage on %s: %s", s.ID, ev.Data)
			}
		}
	}
}

// TestDeletedAttachmentRemoved: from the 204 on, a deleted message's file
// URL answers 404, and its object is gone from the bucket within 10 s.
func TestDeletedAttachmentRemoved(t *testing.T) {
	t.Parallel()
	bucket := chattest.MustBucket(t)
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	r := a.upload(t, ana.Token, d.ID, textPart("content", "see attached"), filePart("a.txt", []byte("secret")))
	expect(t, r, 201, "")
	m := decode[changedBody](t, r.Body)
	if got := a.download(t, bob.Token, m.FileURL, nil); got.Status != 200 {
		t.Fatalf("download before: %d", got.Status)
	}
	if objs := bucket.Objects(t, "chats/"+d.ID+"/"); len(objs) != 1 {
		t.Fatalf("objects before: %v", objs)
	}
	expect(t, a.del(t, ana.Token, d.ID, m.ID), 204, "")
	expect(t, a.download(t, bob.Token, m.FileURL, nil), 404, "not_found")
	chattest.WaitWithin(t, "the object removed", 10*time.Second, func() bool { return len(bucket.Objects(t, "chats/"+d.ID+"/")) == 0 })
	r = a.call(t, "GET", "/api/chats", "/api/chats", bob.Token, nil)
	var list struct {
		Chats []struct {
			Messages []changedBody `json:"messages"`
		} `json:"chats"`
	}
	r.JSON(t, &list)
	if len(list.Chats) != 1 || len(list.Chats[0].Messages) != 1 {
		t.Fatalf("chat list: %s", r.Body)
	}
	if last := list.Chats[0].Messages[0]; last.ID != m.ID || last.DeletedAt == nil || last.FileURL != "" || last.Content != "" {
		t.Fatalf("chat list's last message: %+v", last)
	}
}

// TestEditsCountAsMessages: edits spend the sender's message budget (10/s,
// bursts of 30): a user editing without pause is refused with 429
// rate_limited once past the burst, and a send retried with its
// clientMessageId answers the message as it is now.
func TestEditsCountAsMessages(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	r := a.send(t, ana.Token, d.ID, map[string]any{"content": "v0", "clientMessageId": "k"})
	expect(t, r, 201, "")
	m := decode[changedBody](t, r.Body)

	t.Run("RetriedSendAnswersCurrentState", func(t *testing.T) {
		expect(t, a.edit(t, ana.Token, d.ID, m.ID, map[string]any{"content": "v1"}), 200, "")
		again := a.send(t, ana.Token, d.ID, map[string]any{"content": "v0", "clientMessageId": "k"})
		expect(t, again, 200, "")
		if got := decode[changedBody](t, again.Body); got.ID != m.ID || got.Content != "v1" || got.EditedAt == nil {
			t.Fatalf("retried send answered %+v", got)
		}
	})
	t.Run("ErrRateLimited", func(t *testing.T) {
		var mu sync.Mutex // guards ok and refused
		ok, refused := 0, 0
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					mu.Lock()
					done := refused > 0 || ok > 200
					mu.Unlock()
					if done {
						return
					}
					r := a.edit(t, ana.Token, d.ID, m.ID, map[string]any{"content": fmt.Sprintf("w%d n%d", w, n)})
					mu.Lock()
					switch r.Status {
					case 200:
						ok++
					case 429:
						if r.ErrorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
							t.Errorf("429 without code or Retry-After: %s", r.Body)
						}
						refused++
					default:
						t.Errorf("edit: %d %s", r.Status, r.Body)
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if refused == 0 || ok < 27 {
			t.Fatalf("%d edits let through, %d refused: want the burst served, then rate_limited", ok, refused)
		}
	})
}
