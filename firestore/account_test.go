package firestore_test

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
	"github.com/chatapp/chat/gcs"
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

// The child process of TestAccountJobKilled is this test binary run again
// with these set: TestMain then plays an instance that deletes an account
// (by uid) on a database and works on its messages until it is killed.
const (
	childDatabase = "CHATAPP_ACCOUNT_CHILD_DATABASE"
	childUser     = "CHATAPP_ACCOUNT_CHILD_USER"
)

func TestMain(m *testing.M) {
	if db := os.Getenv(childDatabase); db != "" {
		if err := accountChild(db, os.Getenv(childUser)); err != nil {
			fmt.Fprintln(os.Stderr, "account child:", err)
			os.Exit(1)
		}
		select {} // the job goes on until the parent kills the process
	}
	os.Exit(m.Run())
}

// accountChild wires an instance's account service as app does and
// deletes uid's account with its messages; the job then runs in the
// background.
func accountChild(database, uid string) error {
	ctx := context.Background()
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	db, err := firestore.Open(ctx, project, database, nil)
	if err != nil {
		return err
	}
	db.Log = slog.New(slog.DiscardHandler)
	files, err := gcs.Open(ctx, os.Getenv("STORAGE_BUCKET"))
	if err != nil {
		return err
	}
	v, err := auth.NewVerifier(ctx, project, time.Minute)
	if err != nil {
		return err
	}
	users := firestore.NewUserService(db)
	s := firestore.NewAccountService(db, firestore.NewChatService(db, users, files), firestore.NewMessageService(db, files), v,
		firestore.AccountOptions{Lease: 4 * time.Second})
	bob := chat.NewContextWithIdentity(ctx, chat.Identity{UID: uid, Expires: time.Now().Add(time.Hour)})
	if err := s.DeleteAccount(bob, chat.AccountDeletion{DeleteMessages: true}); err != nil {
		return err
	}
	fmt.Println("deleted")
	return nil
}

// TestAccountJobKilled: a deleted account's tombstoning, its instance (a
// process of its own) SIGKILLed mid-way, is taken over by another
// instance's sweep once the lease lapses, and finished: every message a
// tombstone under "Deleted user". It reports both instances' rates (the
// contract's floor is 1,000 messages a minute).
func TestAccountJobKilled(t *testing.T) {
	const n, lease = 3000, 4 * time.Second
	second, m := mustAccounts(t, lease)
	bob, chatID := seedDirect(t, m, "killed", n)
	uid, _ := chat.CallerUID(bob)
	tombstones := func() int {
		return len(chattest.Query(t, "/chats/"+chatID, "messages", false, chattest.Filter{Field: "senderUsername", Op: "EQUAL", Value: chat.DeletedUsername}))
	}
	began := time.Now()
	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childDatabase+"="+chattest.Database(t), childUser+"="+uid)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = child.Process.Kill(); _ = child.Wait() })
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "deleted\n" {
		t.Fatalf("the child instance's deletion: %q %v", line, err)
	}
	answered := time.Since(began)
	chattest.WaitWithin(t, "the first instance to tombstone some", chattest.WaitTimeout, func() bool { return tombstones() >= 200 })
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed, at := tombstones(), time.Since(began)
	if killed >= n {
		t.Fatalf("the first instance finished all %d before it was killed: nothing to resume", n)
	}
	chattest.WaitWithin(t, "another instance's sweep to take the job over", chattest.WaitTimeout, func() bool {
		k, err := second.SweepAccounts(context.Background())
		return err == nil && k == 1
	})
	resumed := time.Now()
	// Sweeping on, as every instance does: a page that outlives its
	// deadline on a loaded machine stops the job until the next sweep.
	chattest.WaitWithin(t, "every message to be a tombstone", 3*time.Minute, func() bool {
		_, _ = second.SweepAccounts(context.Background())
		return tombstones() == n
	})
	t.Logf("the child instance answered in %s (its start included) with %d messages; killed instance: %d tombstones in %s (%.0f a minute); the other: %d in %s (%.0f a minute)",
		answered.Round(time.Millisecond), n, killed, at.Round(time.Millisecond), float64(killed)/at.Minutes(),
		n-killed, time.Since(resumed).Round(time.Millisecond), float64(n-killed)/time.Since(resumed).Minutes())
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
