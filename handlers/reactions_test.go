package handlers_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// reactedBody is a Message with its replies, mentions and reactions.
type reactedBody struct {
	changedBody
	ReplyTo *struct {
		ID       string `json:"id"`
		Content  string `json:"content"`
		FileName string `json:"fileName"`
		Deleted  bool   `json:"deleted"`
	} `json:"replyTo"`
	Mentions  []string `json:"mentions"`
	Reactions []struct {
		Emoji   string   `json:"emoji"`
		Count   int      `json:"count"`
		UserIDs []string `json:"userIds"`
		Me      bool     `json:"me"`
	} `json:"reactions"`
}

func (a api) react(t *testing.T, method, token, chatID, mid, emoji string) chattest.Response {
	t.Helper()
	return a.call(t, method, "/api/chats/{id}/messages/{mid}/reactions/{emoji}",
		"/api/chats/"+chatID+"/messages/"+mid+"/reactions/"+url.PathEscape(emoji), token, nil)
}

func (a api) message(t *testing.T, token, chatID, mid string) reactedBody {
	t.Helper()
	r := a.call(t, "GET", "/api/chats/{id}/messages/{mid}", "/api/chats/"+chatID+"/messages/"+mid, token, nil)
	expect(t, r, 200, "")
	return decode[reactedBody](t, r.Body)
}

// reactions renders a message's reactions as "emoji count me" strings.
func reactions(m reactedBody) []string {
	out := []string{}
	for _, r := range m.Reactions {
		out = append(out, fmt.Sprintf("%s %d %v", r.Emoji, r.Count, r.Me))
	}
	return out
}

func TestReactions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 4)
	ana, bob, cid, eve := u[0], u[1], u[2], u[3]
	g := w.a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "g"})
	m := w.a.mustSendRev(t, ana.Token, g.ID, "react to me")
	anaA := chattest.MustDial(t, w.a.in.URL, ana.Token)
	bobB := chattest.MustDial(t, w.b.in.URL, bob.Token)

	t.Run("MeIsEachReceivers", func(t *testing.T) {
		expect(t, w.b.react(t, "PUT", bob.Token, g.ID, m.ID, "👍"), 204, "")
		with := func(me bool) func(json.RawMessage) bool {
			return func(raw json.RawMessage) bool {
				got := reactions(decode[reactedBody](t, raw))
				return len(got) == 1 && got[0] == fmt.Sprintf("👍 1 %v", me)
			}
		}
		bobB.Wait(t, "messageUpdated", with(true))
		anaA.Wait(t, "messageUpdated", with(false))
		if got := reactions(w.a.message(t, bob.Token, g.ID, m.ID)); len(got) != 1 || got[0] != "👍 1 true" {
			t.Fatalf("GET as bob: %v", got)
		}
	})
	t.Run("PutTwiceCountsOnceWithoutNewRev", func(t *testing.T) {
		before := w.a.message(t, ana.Token, g.ID, m.ID)
		expect(t, w.a.react(t, "PUT", bob.Token, g.ID, m.ID, "👍"), 204, "")
		after := w.a.message(t, ana.Token, g.ID, m.ID)
		if after.Rev != before.Rev || reactions(after)[0] != "👍 1 false" {
			t.Fatalf("before %s %v, after %s %v", before.Rev, reactions(before), after.Rev, reactions(after))
		}
	})
	t.Run("VariationSelectorFormsAreOneEmoji", func(t *testing.T) {
		expect(t, w.a.react(t, "PUT", cid.Token, g.ID, m.ID, "\u2764"), 204, "")
		expect(t, w.a.react(t, "PUT", ana.Token, g.ID, m.ID, "\u2764\uFE0F"), 204, "")
		got := reactions(w.a.message(t, ana.Token, g.ID, m.ID))
		if len(got) != 2 || got[1] != "\u2764\uFE0F 2 true" {
			t.Fatalf("reactions %v", got)
		}
	})
	t.Run("DeleteIsIdempotent", func(t *testing.T) {
		expect(t, w.a.react(t, "DELETE", bob.Token, g.ID, m.ID, "👍"), 204, "")
		expect(t, w.a.react(t, "DELETE", bob.Token, g.ID, m.ID, "👍"), 204, "")
		if got := reactions(w.a.message(t, ana.Token, g.ID, m.ID)); len(got) != 1 || !strings.HasPrefix(got[0], "\u2764") {
			t.Fatalf("reactions %v", got)
		}
	})
	t.Run("ErrNotAnEmoji", func(t *testing.T) {
		for _, e := range []string{"a", "👍👍", " ", "\u2764a"} {
			expect(t, w.a.react(t, "PUT", bob.Token, g.ID, m.ID, e), 400, "invalid_argument")
		}
	})
	t.Run("ErrNonMember", func(t *testing.T) {
		expect(t, w.a.react(t, "PUT", eve.Token, g.ID, m.ID, "👍"), 404, "not_found")
		r := w.a.call(t, "GET", "/api/chats/{id}/messages/{mid}", "/api/chats/"+g.ID+"/messages/"+m.ID, eve.Token, nil)
		expect(t, r, 404, "not_found")
	})
	t.Run("Err21stEmojiConflicts", func(t *testing.T) {
		n := w.a.mustSendRev(t, ana.Token, g.ID, "many")
		all := []string{"😀", "😁", "😂", "🤣", "😃", "😄", "😅", "😆", "😉", "😊", "😋", "😎", "😍", "😘", "🥰", "😗", "😙", "🥲", "😚", "🙂", "🤗"}
		for _, e := range all[:20] {
			expect(t, w.a.react(t, "PUT", bob.Token, g.ID, n.ID, e), 204, "")
		}
		expect(t, w.a.react(t, "PUT", bob.Token, g.ID, n.ID, all[20]), 409, "conflict")
		expect(t, w.a.react(t, "PUT", cid.Token, g.ID, n.ID, all[0]), 204, "") // an emoji already there still takes more
	})
	t.Run("ErrDeletedMessageConflicts", func(t *testing.T) {
		d := w.a.mustSendRev(t, ana.Token, g.ID, "gone")
		expect(t, w.a.del(t, ana.Token, g.ID, d.ID), 204, "")
		expect(t, w.a.react(t, "PUT", bob.Token, g.ID, d.ID, "👍"), 409, "conflict")
		if got := w.a.message(t, bob.Token, g.ID, d.ID); got.DeletedAt == nil || len(got.Reactions) != 0 {
			t.Fatalf("tombstone %+v", got)
		}
	})
}

// TestConcurrentReactions: 50 members react with one emoji at once over two
// instances, and one of them twice: the count is 50, none lost.
func TestConcurrentReactions(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	u := newUsers(t, w.a, 51)
	ids := make([]string, 0, 50)
	for _, x := range u[1:] {
		ids = append(ids, x.UID)
	}
	g := w.a.mustChat(t, u[0].Token, map[string]any{"userIds": ids, "isGroup": true, "name": "many"})
	m := w.a.mustSendRev(t, u[0].Token, g.ID, "react, everyone")
	var wg sync.WaitGroup
	for i, x := range u[1:] {
		in := []api{w.a, w.b}[i%2]
		times := 1
		if i == 0 {
			times = 2
		}
		for range times {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := in.react(t, "PUT", x.Token, g.ID, m.ID, "🎉"); r.Status != 204 {
					t.Errorf("PUT: %d %s", r.Status, r.Body)
				}
			}()
		}
	}
	wg.Wait()
	got := w.a.message(t, u[1].Token, g.ID, m.ID)
	if len(got.Reactions) != 1 || got.Reactions[0].Count != 50 || len(got.Reactions[0].UserIDs) != 20 || !got.Reactions[0].Me {
		t.Fatalf("reactions %+v", got.Reactions)
	}
	if mine := w.a.message(t, u[0].Token, g.ID, m.ID); mine.Reactions[0].Me {
		t.Fatalf("the sender did not react: %+v", mine.Reactions)
	}
}

// TestRepliesAndMentions: a reply quotes a message of its chat as it is
// now; the quote follows the original's edit and deletion (GET and
// changedAfter of the reply show it); mentions are members, deduplicated.
func TestRepliesAndMentions(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 3)
	ana, bob, eve := u[0], u[1], u[2]
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	other := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{eve.UID}})
	long := strings.Repeat("é", 250)
	orig := a.mustSendRev(t, ana.Token, g.ID, long)
	elsewhere := a.mustSendRev(t, ana.Token, other.ID, "elsewhere")
	before := orig.Rev

	r := a.send(t, bob.Token, g.ID, map[string]any{"content": "quoting", "replyToId": orig.ID, "mentions": []string{ana.UID, ana.UID}})
	expect(t, r, 201, "")
	reply := decode[reactedBody](t, r.Body)
	t.Run("QuoteCut", func(t *testing.T) {
		if reply.ReplyTo == nil || reply.ReplyTo.ID != orig.ID || reply.ReplyTo.Content != strings.Repeat("é", 200) {
			t.Fatalf("quote %+v", reply.ReplyTo)
		}
		if len(reply.Mentions) != 1 || reply.Mentions[0] != ana.UID {
			t.Fatalf("mentions %v", reply.Mentions)
		}
	})
	t.Run("ErrReplyElsewhere", func(t *testing.T) {
		for _, id := range []string{elsewhere.ID, "000000000999AAAAAAAA"} {
			expect(t, a.send(t, bob.Token, g.ID, map[string]any{"content": "x", "replyToId": id}), 400, "invalid_argument")
		}
	})
	t.Run("ErrMentionNonMember", func(t *testing.T) {
		expect(t, a.send(t, bob.Token, g.ID, map[string]any{"content": "x", "mentions": []string{eve.UID}}), 400, "invalid_argument")
		many := make([]string, 51)
		for i := range many {
			many[i] = fmt.Sprint("u", i)
		}
		expect(t, a.send(t, bob.Token, g.ID, map[string]any{"content": "x", "mentions": many}), 400, "invalid_argument")
	})
	t.Run("EditChangesMentionsOrKeepsThem", func(t *testing.T) {
		r := a.edit(t, bob.Token, g.ID, reply.ID, map[string]any{"content": "quoting, edited"})
		expect(t, r, 200, "")
		if got := decode[reactedBody](t, r.Body); len(got.Mentions) != 1 {
			t.Fatalf("mentions after an edit without them: %v", got.Mentions)
		}
		r = a.edit(t, bob.Token, g.ID, reply.ID, map[string]any{"content": "quoting, edited", "mentions": []string{}})
		expect(t, r, 200, "")
		if got := decode[reactedBody](t, r.Body); len(got.Mentions) != 0 {
			t.Fatalf("mentions after clearing: %v", got.Mentions)
		}
		expect(t, a.edit(t, bob.Token, g.ID, reply.ID, map[string]any{"content": "y", "mentions": []string{eve.UID}}), 400, "invalid_argument")
	})
	quoteOf := func() (string, bool) {
		q := a.message(t, bob.Token, g.ID, reply.ID).ReplyTo
		return q.Content, q.Deleted
	}
	t.Run("QuoteFollowsEdit", func(t *testing.T) {
		expect(t, a.edit(t, ana.Token, g.ID, orig.ID, map[string]any{"content": "short now"}), 200, "")
		chattest.WaitWithin(t, "the quote refreshed", 10*time.Second, func() bool { c, _ := quoteOf(); return c == "short now" })
		var found bool
		for _, m := range a.revPage(t, bob.Token, g.ID, "changedAfter="+before).Messages {
			found = found || m.ID == reply.ID
		}
		if !found {
			t.Fatal("the reply is not in changedAfter")
		}
	})
	t.Run("QuoteFollowsDeletion", func(t *testing.T) {
		expect(t, a.del(t, ana.Token, g.ID, orig.ID), 204, "")
		chattest.WaitWithin(t, "the quote cleared", 10*time.Second, func() bool { c, d := quoteOf(); return d && c == "" })
		r := a.call(t, "GET", "/api/chats/{id}/messages", "/api/chats/"+g.ID+"/messages?changedAfter="+before, bob.Token, nil)
		if strings.Contains(string(r.Body), "short now") {
			t.Fatalf("the deleted text is still served: %s", r.Body)
		}
		expect(t, a.send(t, bob.Token, g.ID, map[string]any{"content": "x", "replyToId": orig.ID}), 400, "invalid_argument")
	})
}
