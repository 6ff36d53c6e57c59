package firestore_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
)

// flipAndSearchCost puts a user in chats groups (each with one other
// member), then measures the Firestore reads and writes of the user's
// first socket (an online flip) and of a search that finds the co-member
// of the most recent chat, online. It returns them with the flip's
// audience.
func flipAndSearchCost(tb testing.TB, chats int) (flipReads, flipWrites, searchReads int64, audience []any, coMember string) {
	tb.Helper()
	m := mustMetered(tb)
	ctx := context.Background()
	run := fmt.Sprintf("aud%d-%d", time.Now().UnixNano(), chattest.Unique())
	ctxOf := func(uid string) context.Context {
		c := chat.NewContextWithIdentity(ctx, chat.Identity{UID: uid, Name: uid, Expires: time.Now().Add(time.Hour)})
		if _, err := m.users.Me(c); err != nil {
			tb.Fatal(err)
		}
		return c
	}
	victim := run + "-v"
	victimCtx := ctxOf(victim)
	other := func(i int) string { return fmt.Sprintf("%s-co%d", run, i) }
	if _, err := m.db.SeedChats(ctx, victim, chats, other); err != nil {
		tb.Fatal(err)
	}
	coMember = other(chats - 1)
	ctxOf(coMember)
	sessions := firestore.NewSessions(m.db, run)
	if _, err := sessions.Renew(ctx, 20*time.Second); err != nil {
		tb.Fatal(err)
	}
	if err := sessions.Connect(ctx, coMember, time.Now()); err != nil {
		tb.Fatal(err)
	}
	m.c.totals()
	if err := sessions.Connect(ctx, victim, time.Now()); err != nil {
		tb.Fatal(err)
	}
	flipReads, flipWrites = m.c.totals()
	found, err := m.users.FindUsers(victimCtx, chat.UserFilter{Prefix: coMember})
	if err != nil || len(found) != 1 || !found[0].Online {
		tb.Fatalf("search for the co-member of the newest chat: %v %v", found, err)
	}
	searchReads, _ = m.c.totals()
	flips := chattest.Query(tb, "/users/"+victim, "presence", false)
	if len(flips) != 1 {
		tb.Fatalf("%d flips stored", len(flips))
	}
	arr, _ := flips[0]["audience"].(map[string]any)["arrayValue"].(map[string]any)
	audience, _ = arr["values"].([]any)
	return
}

// TestPresenceCostBounded: a user in many chats (anyone can add anyone to
// groups) costs a bounded number of reads per flip and per search, and the
// flip still reaches the co-members of the most active chats.
func TestPresenceCostBounded(t *testing.T) {
	const chats = firestore.AudienceChats * 3
	flipReads, flipWrites, searchReads, audience, coMember := flipAndSearchCost(t, chats)
	t.Logf("user in %d chats: flip %d reads, %d writes; search %d reads; audience %d", chats, flipReads, flipWrites, searchReads, len(audience))
	if flipReads > firestore.AudienceChats+5 || searchReads > firestore.AudienceChats+5 {
		t.Fatalf("flip %d reads, search %d reads: want at most %d", flipReads, searchReads, firestore.AudienceChats+5)
	}
	if len(audience) != firestore.AudienceChats {
		t.Fatalf("audience of %d, want the co-members of the %d most active chats", len(audience), firestore.AudienceChats)
	}
	if !slices.ContainsFunc(audience, func(v any) bool { return v.(map[string]any)["stringValue"] == coMember }) {
		t.Fatal("the co-member of the most recent chat is not in the audience")
	}
}

// BenchmarkPresenceManyChats measures a flip and a search of a user in
// 5,000 chats (docs/performance.md):
//
//	dev/with-emulators.sh go test -run '^$' -bench PresenceManyChats -benchtime 1x ./firestore
func BenchmarkPresenceManyChats(b *testing.B) {
	for range b.N {
		fr, fw, sr, aud, _ := flipAndSearchCost(b, 5000)
		b.ReportMetric(float64(fr), "flip-reads")
		b.ReportMetric(float64(fw), "flip-writes")
		b.ReportMetric(float64(sr), "search-reads")
		b.ReportMetric(float64(len(aud)), "audience")
	}
}
