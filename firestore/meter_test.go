package firestore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
	"github.com/chatapp/chat/realtime"
)

// rpcCounter is a firestore.Meter keeping counts by RPC.
type rpcCounter struct {
	mu            sync.Mutex
	reads, writes map[string]int
	calls         map[string]int
}

func newRPCCounter() *rpcCounter {
	return &rpcCounter{reads: map[string]int{}, writes: map[string]int{}, calls: map[string]int{}}
}

func (c *rpcCounter) Called(rpc string, _ time.Duration) { c.mu.Lock(); c.calls[rpc]++; c.mu.Unlock() }

// commits takes the number of Commit calls since the last take.
func (c *rpcCounter) commits() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.calls["Commit"]
	c.calls = map[string]int{}
	return n
}

func (c *rpcCounter) Reads(rpc string, n int)  { c.mu.Lock(); c.reads[rpc] += n; c.mu.Unlock() }
func (c *rpcCounter) Writes(rpc string, n int) { c.mu.Lock(); c.writes[rpc] += n; c.mu.Unlock() }

// totals takes the counts, summed over RPCs.
func (c *rpcCounter) totals() (reads, writes int64) {
	r, w := c.take()
	for _, n := range r {
		reads += int64(n)
	}
	for _, n := range w {
		writes += int64(n)
	}
	return reads, writes
}

func (c *rpcCounter) take() (reads, writes map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, w := c.reads, c.writes
	c.reads, c.writes = map[string]int{}, map[string]int{}
	return r, w
}

// metered is a database whose billed operations c counts, and the
// services on it.
type metered struct {
	c        *rpcCounter
	db       *firestore.DB
	users    *firestore.UserService
	chats    *firestore.ChatService
	messages *firestore.MessageService
}

// mustMetered opens a metered database on the test's emulator, closed
// with the test.
func mustMetered(tb testing.TB) metered {
	tb.Helper()
	env := chattest.MustEnv(tb)
	m := metered{c: newRPCCounter()}
	db, err := firestore.Open(context.Background(), env.Project, chattest.Database(tb), m.c)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	files := chattest.MustFileStore(tb, "")
	m.db, m.users = db, firestore.NewUserService(db)
	m.chats = firestore.NewChatService(db, m.users, files)
	m.messages = firestore.NewMessageService(db, files)
	return m
}

// TestMeter: the adapter counts what Firestore bills, at its gRPC
// boundary: a send's batch, a transaction's reads, a query (an empty one
// is one read), and each document a listener receives.
func TestMeter(t *testing.T) {
	m := mustMetered(t)
	c, db, users, chats, messages := m.c, m.db, m.users, m.chats, m.messages
	ctxOf := func(name string) (context.Context, string) {
		uid := fmt.Sprintf("meter-%s-%d-%d", name, time.Now().UnixNano(), chattest.Unique())
		ctx := chat.NewContextWithIdentity(context.Background(), chat.Identity{UID: uid, Name: name, Expires: time.Now().Add(time.Hour)})
		if _, err := users.Me(ctx); err != nil {
			t.Fatal(err)
		}
		return ctx, uid
	}
	anaCtx, ana := ctxOf("ana")
	_, bob := ctxOf("bob")
	ch, _, err := chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("SendIsFourWrites", func(t *testing.T) {
		c.take()
		c.commits()
		if _, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: "x", ClientMessageID: "m1"}); err != nil {
			t.Fatal(err)
		}
		r, w := c.take()
		// message, chat, sender's read marker, idempotency key; reads: the
		// sender's profile, the key, the chat.
		if n := c.commits(); w["Commit"] != 4 || r["BatchGetDocuments"] != 3 || n != 1 {
			t.Fatalf("reads %v, writes %v in %d commits", r, w, n)
		}
	})
	t.Run("EditIsTwoReadsTwoWrites", func(t *testing.T) {
		m, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: "tpyo"})
		if err != nil {
			t.Fatal(err)
		}
		c.take()
		c.commits()
		if _, err := messages.EditMessage(anaCtx, ch.ID, m.ID, chat.MessageEdit{Content: "typo"}); err != nil {
			t.Fatal(err)
		}
		// reads: the chat and the message; writes: the message, the chat
		// (lastRev, and lastMessage when it is the last), in one commit.
		r, w := c.take()
		if n := c.commits(); w["Commit"] != 2 || r["BatchGetDocuments"] != 2 || n != 1 {
			t.Fatalf("reads %v, writes %v in %d commits", r, w, n)
		}
	})
	t.Run("DeleteWithFileIsTwoReadsFiveWrites", func(t *testing.T) {
		m, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{File: &chat.File{Name: "a.txt", Body: strings.NewReader("x")}})
		if err != nil {
			t.Fatal(err)
		}
		c.take()
		if err := messages.DeleteMessage(anaCtx, ch.ID, m.ID); err != nil {
			t.Fatal(err)
		}
		// The commit: message, chat, the object's to-do; then the to-do
		// marked and deleted around the object's removal.
		r, w := c.take()
		if w["Commit"] != 5 || r["BatchGetDocuments"] != 2 {
			t.Fatalf("reads %v, writes %v", r, w)
		}
	})
	t.Run("ReactionIsTwoReadsTwoWrites", func(t *testing.T) {
		m, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: "react"})
		if err != nil {
			t.Fatal(err)
		}
		c.take()
		if err := messages.React(anaCtx, ch.ID, m.ID, "👍", true); err != nil {
			t.Fatal(err)
		}
		if r, w := c.take(); w["Commit"] != 2 || r["BatchGetDocuments"] != 2 {
			t.Fatalf("reads %v, writes %v", r, w)
		}
	})
	t.Run("ReplyIsOneMoreReadAndWrite", func(t *testing.T) {
		m, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: "quote me"})
		if err != nil {
			t.Fatal(err)
		}
		c.take()
		if _, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: "re", ReplyToID: m.ID}); err != nil {
			t.Fatal(err)
		}
		// A send without clientMessageId (message, chat, read marker, the
		// server's key) + the quoted message marked; reads + the quoted one.
		if r, w := c.take(); w["Commit"] != 5 || r["BatchGetDocuments"] != 4 {
			t.Fatalf("reads %v, writes %v", r, w)
		}
	})
	t.Run("ReadMarkerIsFourReadsOneWrite", func(t *testing.T) {
		if _, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: "read me"}); err != nil {
			t.Fatal(err)
		}
		bobCtx := chat.NewContextWithIdentity(context.Background(), chat.Identity{UID: bob, Name: "bob", Expires: time.Now().Add(time.Hour)})
		c.take()
		if err := chats.MarkRead(bobCtx, ch.ID); err != nil {
			t.Fatal(err)
		}
		// chat, membership, the reader's profile; the blockers (an empty
		// query: one read). One write: the membership, conditional on the
		// version read, whatever the chat's size (the room's listeners
		// carry it to the others).
		if r, w := c.take(); w["Commit"] != 1 || r["BatchGetDocuments"] != 3 || r["RunQuery"] != 1 {
			t.Fatalf("reads %v, writes %v", r, w)
		}
	})
	t.Run("BlockIsFiveReadsThreeWrites", func(t *testing.T) {
		cidCtx, _ := ctxOf("cid")
		_, dan := ctxOf("dan")
		if _, _, err := chats.CreateChat(cidCtx, chat.ChatCreate{UserIDs: []string{dan}}); err != nil {
			t.Fatal(err)
		}
		c.take()
		if err := users.Block(cidCtx, dan); err != nil {
			t.Fatal(err)
		}
		// the caller's profile (ensure), then in the transaction both
		// profiles, the pair's key and their chat; writes: the profile,
		// the chat's blockedBy, the notice.
		if r, w := c.take(); w["Commit"] != 3 || r["BatchGetDocuments"] != 5 {
			t.Fatalf("reads %v, writes %v", r, w)
		}
	})
	t.Run("EmptyQueryIsOneRead", func(t *testing.T) {
		c.take()
		if _, err := users.FindUsers(anaCtx, chat.UserFilter{Prefix: fmt.Sprintf("nobody-%d", time.Now().UnixNano())}); err != nil {
			t.Fatal(err)
		}
		if r, _ := c.take(); r["RunQuery"] != 1 {
			t.Fatalf("reads %v", r)
		}
	})
	t.Run("ListenerDocumentsAreReads", func(t *testing.T) {
		c.take()
		l := firestore.NewListener(db, "meter-"+ana)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan realtime.Batch, 10)
		go func() {
			_ = l.Listen(ctx, realtime.Query{Kind: realtime.Members, Keys: []string{ana, bob}}, func(b realtime.Batch) { got <- b })
		}()
		select {
		case b := <-got:
			if len(b.Changes) != 2 {
				t.Fatalf("first batch %+v, want both memberships", b)
			}
		case <-time.After(chattest.WaitTimeout):
			t.Fatal("no first snapshot")
		}
		if r, _ := c.take(); r["Listen"] != 2 {
			t.Fatalf("reads %v, want the 2 memberships on Listen", r)
		}
	})
	t.Run("EmulatorResendsCountedApart", func(t *testing.T) {
		// The emulator resets a listen target on every change and sends
		// the whole result set again (measured: 30 writes, 495 documents
		// on the wire, for every query shape). Only documents that changed
		// count as Listen; the rest as ListenResend.
		old, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: "old"})
		if err != nil {
			t.Fatal(err)
		}
		l := firestore.NewListener(db, "meter-resend-"+ana)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan realtime.Batch, 10)
		go func() {
			q := realtime.Query{Kind: realtime.Messages, Keys: []string{ana}, Since: time.Now().Add(-time.Second)}
			_ = l.Listen(ctx, q, func(b realtime.Batch) { got <- b })
		}()
		next := func() realtime.Batch {
			select {
			case b := <-got:
				return b
			case <-time.After(chattest.WaitTimeout):
				t.Fatal("no batch")
			}
			return realtime.Batch{}
		}
		next() // the first snapshot
		c.take()
		for i := range 3 {
			if _, _, err := messages.SendMessage(anaCtx, ch.ID, chat.MessageCreate{Content: fmt.Sprint("r", i)}); err != nil {
				t.Fatal(err)
			}
			for b := next(); len(b.Changes) == 0; b = next() { // heartbeats
			}
		}
		r, _ := c.take()
		if r["Listen"] != 3 {
			t.Fatalf("reads %v, want the 3 new messages on Listen", r)
		}
		t.Logf("3 messages: %d documents re-sent unchanged by the emulator", r["ListenResend"])

		// An edit is one document change for the listener: one read,
		// marked changed. (Edits of messages older than a listener's
		// since: TestMessageUpdatedReachesEveryDevice, after a rollover.)
		if _, err := messages.EditMessage(anaCtx, ch.ID, old.ID, chat.MessageEdit{Content: "old, edited"}); err != nil {
			t.Fatal(err)
		}
		b := next()
		for ; len(b.Changes) == 0; b = next() { // heartbeats
		}
		if p := b.Changes[0].Posted; len(b.Changes) != 1 || p.Message.ID != old.ID || !p.Changed || p.Message.Content != "old, edited" {
			t.Fatalf("batch after the edit: %+v", b.Changes)
		}
		if r, _ := c.take(); r["Listen"] != 1 {
			t.Fatalf("reads %v, want the edited message on Listen", r)
		}
	})
}
