package handlers_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/chatapp/chat/chattest"
)

func TestCreateChat(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	t.Run("Direct", func(t *testing.T) {
		ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
		if ch.IsGroup || ch.CreatorID != "" || len(ch.Users) != 2 || len(ch.Messages) != 0 {
			t.Fatalf("got %+v", ch)
		}
		r := a.call(t, "POST", "/api/chats", "/api/chats", bob.Token, map[string]any{"userIds": []string{ana.UID}})
		var again chatBody
		r.JSON(t, &again)
		if r.Status != 200 || again.ID != ch.ID {
			t.Fatalf("second create: %d %s", r.Status, r.Body)
		}
	})
	t.Run("Group", func(t *testing.T) {
		ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "Team", "profilePic": "https://pics.example/p.png"})
		if !ch.IsGroup || ch.CreatorID != ana.UID || ch.Name != "Team" || len(ch.Users) != 3 {
			t.Fatalf("got %+v", ch)
		}
	})
	cases := map[string]any{
		"ErrNoUsers":         map[string]any{"userIds": []string{}},
		"ErrOnlySelf":        map[string]any{"userIds": []string{ana.UID}},
		"ErrDirectWithTwo":   map[string]any{"userIds": []string{bob.UID, cid.UID}},
		"ErrUnknownUser":     map[string]any{"userIds": []string{"no-such-user"}},
		"ErrMissingUserIds":  map[string]any{"isGroup": true},
		"ErrUserIdsNotArray": `{"userIds":"abc"}`,
		"ErrUserIdNotString": `{"userIds":[1]}`,
		"ErrPathInID":        map[string]any{"userIds": []string{"a/b"}},
		"ErrNameTooLong":     map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": strings.Repeat("n", 65)},
		"ErrTooManyMembers":  map[string]any{"userIds": manyIDs(256), "isGroup": true},
		"ErrMalformed":       `{"userIds":[`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			r := a.call(t, "POST", "/api/chats", "/api/chats", ana.Token, body)
			expect(t, r, 400, "invalid_argument")
		})
	}
}

func manyIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("fake-%d", i)
	}
	return out
}

func TestChatAccess(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 3)
	ana, bob, eve := u[0], u[1], u[2]
	direct := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	group := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	a.mustSend(t, ana.Token, group.ID, "hello")

	// A non-member gets not_found for everything about a chat, exactly as
	// for a chat that does not exist.
	for _, id := range []string{group.ID, "doesnotexist"} {
		for _, op := range []struct{ method, template, path string }{
			{"GET", "/api/chats/{id}", ""},
			{"PATCH", "/api/chats/{id}", ""},
			{"DELETE", "/api/chats/{id}", ""},
			{"POST", "/api/chats/{id}/members", "/members"},
			{"DELETE", "/api/chats/{id}/members/{uid}", "/members/" + bob.UID},
			{"GET", "/api/chats/{id}/messages", "/messages"},
			{"POST", "/api/chats/{id}/messages", "/messages"},
			{"POST", "/api/chats/{id}/read", "/read"},
		} {
			t.Run("ErrNotFound/"+op.method+op.template+"/"+id[:4], func(t *testing.T) {
				var body any
				switch {
				case op.method == "PATCH":
					body = map[string]any{"name": "x"}
				case strings.HasSuffix(op.path, "/members") && op.method == "POST":
					body = map[string]any{"userIds": []string{ana.UID}}
				case strings.HasSuffix(op.path, "/messages") && op.method == "POST":
					body = map[string]any{"content": "x"}
				}
				r := a.call(t, op.method, op.template, "/api/chats/"+id+op.path, eve.Token, body)
				expect(t, r, 404, "not_found")
			})
		}
	}
	t.Run("Get", func(t *testing.T) {
		ch, r := a.getChat(t, bob.Token, group.ID)
		if r.Status != 200 || len(ch.Messages) != 1 || ch.UnreadCount != 1 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
	for name, id := range map[string]string{"Dots": "..", "Encoded slash": url.PathEscape("a/b"), "Reserved": "__x__", "Long": strings.Repeat("c", 129)} {
		t.Run("ErrBadID/"+name, func(t *testing.T) {
			r := a.in.Do(t, "GET", "/api/chats/"+id, ana.Token, nil)
			if r.Status != 400 && r.Status != 404 {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			if r.ErrorCode() != "invalid_argument" && r.ErrorCode() != "not_found" {
				t.Fatalf("got %s", r.Body)
			}
		})
	}
	t.Run("PatchGroup", func(t *testing.T) {
		r := a.call(t, "PATCH", "/api/chats/{id}", "/api/chats/"+group.ID, bob.Token, map[string]any{"name": "renamed", "profilePic": "https://pics.example/pic.png"})
		var ch chatBody
		r.JSON(t, &ch)
		if r.Status != 200 || ch.Name != "renamed" {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrPatchDirect", func(t *testing.T) {
		r := a.call(t, "PATCH", "/api/chats/{id}", "/api/chats/"+direct.ID, bob.Token, map[string]any{"name": "x"})
		expect(t, r, 400, "invalid_argument")
	})
	t.Run("ErrPatchNameTooLong", func(t *testing.T) {
		r := a.call(t, "PATCH", "/api/chats/{id}", "/api/chats/"+group.ID, bob.Token, map[string]any{"name": strings.Repeat("x", 65)})
		expect(t, r, 400, "invalid_argument")
	})
	t.Run("ErrDeleteGroupNotCreator", func(t *testing.T) {
		r := a.call(t, "DELETE", "/api/chats/{id}", "/api/chats/"+group.ID, bob.Token, nil)
		expect(t, r, 403, "forbidden")
	})
	t.Run("DeleteGroupByCreator", func(t *testing.T) {
		r := a.call(t, "DELETE", "/api/chats/{id}", "/api/chats/"+group.ID, ana.Token, nil)
		if r.Status != 204 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		if _, r := a.getChat(t, ana.Token, group.ID); r.Status != 404 {
			t.Fatalf("deleted chat: %d", r.Status)
		}
		// The memberships go with the deletion; what is below the chat
		// goes with the purge that follows the answer.
		if n := len(chattest.Query(t, "/chats/"+group.ID, "members", false)); n != 0 {
			t.Fatalf("%d members left", n)
		}
		waitFor(t, "the purge to leave nothing below the chat", func() bool {
			for _, sub := range []string{"messages", "clientIds"} {
				if len(chattest.Query(t, "/chats/"+group.ID, sub, false)) != 0 {
					return false
				}
			}
			return true
		})
		if n := chattest.CountDocs(t, "chats", "memberIds", "array-contains", bob.UID); n != 1 {
			t.Fatalf("bob still in %d chats, want the direct one", n)
		}
	})
	t.Run("DeleteDirectByEither", func(t *testing.T) {
		r := a.call(t, "DELETE", "/api/chats/{id}", "/api/chats/"+direct.ID, bob.Token, nil)
		if r.Status != 204 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		// A new direct chat of the pair can be made afterwards.
		ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
		if ch.ID == direct.ID {
			t.Fatal("deleted chat came back")
		}
	})
}

func TestMembers(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 4)
	ana, bob, cid, dan := u[0], u[1], u[2], u[3]
	group := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	add := func(t *testing.T, token string, ids ...string) chattest.Response {
		return a.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+group.ID+"/members", token, map[string]any{"userIds": ids})
	}
	remove := func(t *testing.T, token, uid string) chattest.Response {
		return a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+group.ID+"/members/"+uid, token, nil)
	}
	t.Run("AddByAnyMember", func(t *testing.T) {
		r := add(t, bob.Token, cid.UID, ana.UID) // ana already in: ignored
		var ch chatBody
		r.JSON(t, &ch)
		if r.Status != 200 || len(ch.Users) != 3 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
	t.Run("ErrAddUnknownUser", func(t *testing.T) { expect(t, add(t, bob.Token, "nobody-here"), 400, "invalid_argument") })
	t.Run("ErrAddToDirect", func(t *testing.T) {
		d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
		r := a.call(t, "POST", "/api/chats/{id}/members", "/api/chats/"+d.ID+"/members", ana.Token, map[string]any{"userIds": []string{cid.UID}})
		expect(t, r, 400, "invalid_argument")
	})
	t.Run("ErrAddTooMany", func(t *testing.T) { expect(t, add(t, bob.Token, manyIDs(254)...), 400, "invalid_argument") })
	t.Run("ErrRemoveOtherNotCreator", func(t *testing.T) { expect(t, remove(t, bob.Token, cid.UID), 403, "forbidden") })
	t.Run("ErrRemoveNonMember", func(t *testing.T) { expect(t, remove(t, ana.Token, dan.UID), 404, "not_found") })
	t.Run("CreatorRemovesAnyone", func(t *testing.T) {
		if r := remove(t, ana.Token, cid.UID); r.Status != 204 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		if _, r := a.getChat(t, cid.Token, group.ID); r.Status != 404 {
			t.Fatalf("removed member still sees chat: %d", r.Status)
		}
	})
	t.Run("CreatorLeavesHandsOver", func(t *testing.T) {
		add(t, ana.Token, dan.UID) // dan joins after bob
		if r := remove(t, ana.Token, ana.UID); r.Status != 204 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		ch, _ := a.getChat(t, bob.Token, group.ID)
		if ch.CreatorID != bob.UID {
			t.Fatalf("creator %q, want earliest-joined %q", ch.CreatorID, bob.UID)
		}
	})
	t.Run("LastMemberLeavesDeletes", func(t *testing.T) {
		remove(t, bob.Token, bob.UID)
		if r := remove(t, dan.Token, dan.UID); r.Status != 204 {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
		if n := len(chattest.Query(t, "/chats/"+group.ID, "members", false)); n != 0 {
			t.Fatalf("%d memberships left", n)
		}
		if _, r := a.getChat(t, dan.Token, group.ID); r.Status != 404 {
			t.Fatalf("got %d", r.Status)
		}
	})
}
