package firestore_test

import (
	"context"
	"fmt"
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
	ids := map[string]context.Context{}
	for _, name := range []string{"ana", "bob"} {
		uid := fmt.Sprintf("acct-%s-%d", name, chattest.Unique())
		ids[name] = chat.NewContextWithIdentity(ctx, chat.Identity{UID: uid, Name: name, Expires: time.Now().Add(time.Hour)})
		if _, err := m.users.Me(ids[name]); err != nil {
			t.Fatal(err)
		}
	}
	bob, _ := chat.CallerUID(ids["bob"])
	c, _, err := m.chats.CreateChat(ids["ana"], chat.ChatCreate{UserIDs: []string{bob}})
	if err != nil {
		t.Fatal(err)
	}
	if err := firestore.SeedMessages(ctx, m.db, c.ID, bob, n); err != nil {
		t.Fatal(err)
	}
	tombstones := func() int {
		return len(chattest.Query(t, "/chats/"+c.ID, "messages", false, chattest.Filter{Field: "senderUsername", Op: "EQUAL", Value: chat.DeletedUsername}))
	}
	began := time.Now()
	if err := first.DeleteAccount(ids["bob"], chat.AccountDeletion{DeleteMessages: true}); err != nil {
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
	deleted := chattest.Query(t, "/chats/"+c.ID, "messages", false, chattest.Filter{Field: "content", Op: "EQUAL", Value: ""})
	if len(deleted) != n {
		t.Fatalf("%d messages with content \"\", want %d", len(deleted), n)
	}
}
