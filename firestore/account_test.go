package firestore_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
)

// mustAccounts is an instance's account service on its own database
// handle and message queue, with a short lease, closed with the test.
func mustAccounts(tb testing.TB, lease time.Duration) (*firestore.AccountService, metered) {
	tb.Helper()
	m := mustMetered(tb)
	v, err := auth.NewVerifier(context.Background(), chattest.MustEnv(tb).Project, time.Minute)
	if err != nil {
		tb.Fatal(err)
	}
	m.db.Log = slog.New(slog.DiscardHandler)
	s := firestore.NewAccountService(m.db, m.chats, m.messages, v, firestore.AccountOptions{Lease: lease})
	tb.Cleanup(func() { s.Close(); m.messages.Close(); m.chats.Close() })
	return s, m
}

// TestAccountJobResumed: a deleted account's tombstoning, stopped mid-way
// on its instance (the job's goroutine ended with the lease still held,
// as a crash leaves it), is taken over by another instance's sweep once
// the lease lapses, and finished: every message a tombstone under
// "Deleted user". It reports both instances' rates (the contract's floor
// is 1,000 messages a minute).
func TestAccountJobResumed(t *testing.T) {
	const n, lease = 3000, 2 * time.Second
	first, m := mustAccounts(t, lease)
	ctx := context.Background()
	bob, chatID := seedDirect(t, m, "resumed", n)
	tombstones := func() int {
		return len(chattest.Query(t, "/chats/"+chatID, "messages", false, chattest.Filter{Field: "senderUsername", Op: "EQUAL", Value: chat.DeletedUsername}))
	}
	began := time.Now()
	if err := first.DeleteAccount(bob, chat.AccountDeletion{DeleteMessages: true}); err != nil {
		t.Fatal(err)
	}
	answered := time.Since(began)
	chattest.WaitWithin(t, "the first instance to tombstone some", chattest.WaitTimeout, func() bool { return tombstones() >= 200 })
	first.Close()
	stopped, at := tombstones(), time.Since(began)
	if stopped >= n {
		t.Fatalf("the first instance finished all %d before it stopped: nothing to resume", n)
	}
	second, _ := mustAccounts(t, lease)
	chattest.WaitWithin(t, "another instance's sweep to take the job over", chattest.WaitTimeout, func() bool {
		k, err := second.SweepAccounts(ctx)
		return err == nil && k == 1
	})
	resumed := time.Now()
	chattest.WaitWithin(t, "every message to be a tombstone", 3*time.Minute, func() bool { return tombstones() == n })
	t.Logf("answered in %s with %d messages; first instance: %d tombstones in %s (%.0f a minute); second: %d in %s (%.0f a minute)",
		answered.Round(time.Millisecond), n, stopped, at.Round(time.Millisecond), float64(stopped)/at.Minutes(),
		n-stopped, time.Since(resumed).Round(time.Millisecond), float64(n-stopped)/time.Since(resumed).Minutes())
	deleted := chattest.Query(t, "/chats/"+chatID, "messages", false, chattest.Filter{Field: "content", Op: "EQUAL", Value: ""})
	if len(deleted) != n {
		t.Fatalf("%d messages with content \"\", want %d", len(deleted), n)
	}
}

// BenchmarkAccountDeletion: what DELETE /api/me's service call costs for a
// user with 1,000 and with 20,000 messages in a direct chat: time, and
// Firestore reads and writes (which must not grow with the messages: they
// are renamed after the answer). Each deletion's background job is
// stopped at once, so it does not weigh on the next.
func BenchmarkAccountDeletion(b *testing.B) {
	for _, n := range []int{1000, 20000} {
		b.Run(fmt.Sprint(n, "messages"), func(b *testing.B) {
			_, m := mustAccounts(b, time.Minute)
			v, err := auth.NewVerifier(context.Background(), chattest.MustEnv(b).Project, time.Minute)
			if err != nil {
				b.Fatal(err)
			}
			var answered time.Duration
			var reads, writes int64
			for i := range b.N {
				bob, _ := seedDirect(b, m, fmt.Sprint(n, "-", i), n)
				s := firestore.NewAccountService(m.db, m.chats, m.messages, v, firestore.AccountOptions{})
				m.c.totals()
				began := time.Now()
				if err := s.DeleteAccount(bob, chat.AccountDeletion{DeleteMessages: true}); err != nil {
					b.Fatal(err)
				}
				answered += time.Since(began)
				r, w := m.c.totals()
				reads, writes = reads+r, writes+w
				s.Close()
			}
			b.ReportMetric(float64(answered.Milliseconds())/float64(b.N), "answer-ms")
			b.ReportMetric(float64(reads)/float64(b.N), "reads/op")
			b.ReportMetric(float64(writes)/float64(b.N), "writes/op")
		})
	}
}

// seedDirect makes ana and bob, their direct chat, and n messages of bob
// in it; it returns bob's context and the chat.
func seedDirect(tb testing.TB, m metered, tag string, n int) (context.Context, string) {
	tb.Helper()
	ctx := context.Background()
	var users []context.Context
	for _, name := range []string{"ana", "bob"} {
		uid := fmt.Sprintf("seed-%s-%s-%d", name, tag, chattest.Unique())
		users = append(users, chat.NewContextWithIdentity(ctx, chat.Identity{UID: uid, Name: name, Expires: time.Now().Add(time.Hour)}))
		if _, err := m.users.Me(users[len(users)-1]); err != nil {
			tb.Fatal(err)
		}
	}
	bob, _ := chat.CallerUID(users[1])
	c, _, err := m.chats.CreateChat(users[0], chat.ChatCreate{UserIDs: []string{bob}})
	if err != nil {
		tb.Fatal(err)
	}
	if err := firestore.SeedMessages(ctx, m.db, c.ID, bob, n); err != nil {
		tb.Fatal(err)
	}
	return users[1], c.ID
}
