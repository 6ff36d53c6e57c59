package firestore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// pair makes ana and bob, and a group of the two that ana created.
func (s services) pair(t *testing.T) (anaCtx, bobCtx context.Context, chatID string) {
	t.Helper()
	anaCtx, _ = s.as(t, "ana")
	bobCtx, bob := s.as(t, "bob")
	c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	return anaCtx, bobCtx, c.ID
}

// mustSend sends in to chatID as the caller of ctx.
func (s services) mustSend(t *testing.T, ctx context.Context, chatID string, in chat.MessageCreate) *chat.Message {
	t.Helper()
	m, _, err := s.messages.SendMessage(ctx, chatID, in)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestChangesCommitWithSends: edits and deletions queued for a busy chat
// commit in its next batch beside the sends, each with the chat's next
// rev in queue order; two changes of one message apply in order to one
// written state; the chat's last message stays the newest send. The first
// commit is held at the gRPC boundary until everything is queued.
func TestChangesCommitWithSends(t *testing.T) {
	h := newCommitHold()
	s := mustServicesVia(t, h.intercept)
	anaCtx, bobCtx, cid := s.pair(t)
	m1 := s.mustSend(t, anaCtx, cid, chat.MessageCreate{Content: "one"})
	m2 := s.mustSend(t, bobCtx, cid, chat.MessageCreate{Content: "two"})
	h.armed.Store(true)

	results := make([]*chat.Message, 5)
	errs := make([]error, 5)
	var wg sync.WaitGroup
	run := func(i int, fn func() (*chat.Message, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = fn()
		}()
	}
	waitQueued := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); s.messages.Waiting(cid) < want; {
			if time.Now().After(deadline) {
				t.Fatalf("%d queued, want %d", s.messages.Waiting(cid), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	send := func(ctx context.Context, content string) func() (*chat.Message, error) {
		return func() (*chat.Message, error) {
			m, _, err := s.messages.SendMessage(ctx, cid, chat.MessageCreate{Content: content})
			return m, err
		}
	}
	edit := func(content string) func() (*chat.Message, error) {
		return func() (*chat.Message, error) {
			return s.messages.EditMessage(bobCtx, cid, m2.ID, chat.MessageEdit{Content: content})
		}
	}
	run(0, send(anaCtx, "held"))
	<-h.held
	run(1, edit("two, edited"))
	waitQueued(1)
	run(2, send(anaCtx, "after"))
	waitQueued(2)
	run(3, func() (*chat.Message, error) { return nil, s.messages.DeleteMessage(anaCtx, cid, m1.ID) })
	waitQueued(3)
	run(4, edit("two, edited twice"))
	waitQueued(4)
	close(h.release)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
	}

	t.Run("RevsInQueueOrder", func(t *testing.T) {
		if m1.Rev != "0000000000000001" || m2.Rev != "0000000000000002" {
			t.Fatalf("sends before: %s %s", m1.Rev, m2.Rev)
		}
		for i, want := range map[int]chat.Rev{0: "0000000000000003", 1: "0000000000000004", 2: "0000000000000005", 4: "0000000000000007"} {
			if results[i].Rev != want {
				t.Fatalf("item %d: rev %s, want %s", i, results[i].Rev, want)
			}
		}
		if results[1].Content != "two, edited" || results[4].Content != "two, edited twice" || results[4].EditedAt == nil {
			t.Fatalf("edits answered %+v and %+v", results[1], results[4])
		}
	})
	t.Run("TwoCommits", func(t *testing.T) {
		if got := h.commits.Load(); got != 2 {
			t.Fatalf("%d commits, want 2: the held one, then the other four together", got)
		}
	})
	t.Run("LastMessageIsTheNewestSend", func(t *testing.T) {
		got, err := s.chats.FindChat(anaCtx, cid)
		if err != nil {
			t.Fatal(err)
		}
		last := got.Messages[len(got.Messages)-1]
		if last.ID != results[2].ID || last.Rev != results[2].Rev {
			t.Fatalf("last message %+v, want the send %s", last, results[2].ID)
		}
		page, _, err := s.messages.FindMessages(bobCtx, cid, chat.MessageFilter{ChangedAfter: m2.Rev})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page {
			ids = append(ids, string(m.Rev)+" "+m.Content)
		}
		want := []string{"0000000000000003 held", "0000000000000005 after", "0000000000000006 ", "0000000000000007 two, edited twice"}
		if len(ids) != len(want) {
			t.Fatalf("changedAfter %s: %v, want %v", m2.Rev, ids, want)
		}
		for i := range want {
			if ids[i] != want[i] {
				t.Fatalf("changedAfter %s: %v, want %v", m2.Rev, ids, want)
			}
		}
	})
}

// TestChangeThatLostItsRaceIsTriedAgain: two instances edit one message at
// once and read the same chat version, so both batches take the same rev.
// The one whose commit comes second fails its condition; it must not take
// the other's stored change for its own (same message, same rev), but
// read again and commit with the next rev.
func TestChangeThatLostItsRaceIsTriedAgain(t *testing.T) {
	h := newCommitHold()
	first := mustServicesVia(t, h.intercept)
	second := mustServices(t)
	anaCtx, _, cid := first.pair(t)
	m := first.mustSend(t, anaCtx, cid, chat.MessageCreate{Content: "v0"})
	h.armed.Store(true)
	var held *chat.Message
	var heldErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		held, heldErr = first.messages.EditMessage(anaCtx, cid, m.ID, chat.MessageEdit{Content: "from the first"})
	}()
	<-h.held // read the chat, took rev 2, its commit waits
	won, err := second.messages.EditMessage(anaCtx, cid, m.ID, chat.MessageEdit{Content: "from the second"})
	if err != nil {
		t.Fatal(err)
	}
	close(h.release)
	<-done
	if heldErr != nil {
		t.Fatal(heldErr)
	}
	if won.Rev != "0000000000000002" || held.Rev != "0000000000000003" || held.Content != "from the first" {
		t.Fatalf("the winner %s %q, the one tried again %s %q", won.Rev, won.Content, held.Rev, held.Content)
	}
	page, _, err := first.messages.FindMessages(anaCtx, cid, chat.MessageFilter{})
	if err != nil || len(page) != 1 || page[0].Content != "from the first" || page[0].Rev != held.Rev {
		t.Fatalf("stored: %+v (%v)", page, err)
	}
}

// TestQuoteRefreshSwept: a quoted message changed by an instance that died
// before refreshing its replies' quotes is refreshed by the sweeper.
func TestQuoteRefreshSwept(t *testing.T) {
	s := mustServices(t)
	anaCtx, bobCtx, cid := s.pair(t)
	orig := s.mustSend(t, anaCtx, cid, chat.MessageCreate{Content: "before"})
	var replies []*chat.Message
	for range 3 {
		replies = append(replies, s.mustSend(t, bobCtx, cid, chat.MessageCreate{Content: "re", ReplyToID: orig.ID}))
	}
	if err := s.messages.EditWithoutRefresh(anaCtx, cid, orig.ID, "after", time.Now().Add(-2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	n, err := s.messages.SweepQuotes(context.Background(), time.Minute)
	if err != nil || n < 1 {
		t.Fatalf("swept %d: %v", n, err)
	}
	for _, r := range replies {
		got, err := s.messages.GetMessage(bobCtx, cid, r.ID)
		if err != nil || got.ReplyTo == nil || got.ReplyTo.Content != "after" {
			t.Fatalf("reply %s after the sweep: %+v (%v)", r.ID, got, err)
		}
	}
}

// TestQuoteRefreshPages: a message with more replies than one page of the
// refresh has every quote rewritten after its edit, in the background.
func TestQuoteRefreshPages(t *testing.T) {
	s := mustServices(t)
	anaCtx, bobCtx, cid := s.pair(t)
	orig := s.mustSend(t, anaCtx, cid, chat.MessageCreate{Content: "before"})
	const n = 650 // three pages
	var wg sync.WaitGroup
	errs := make(chan error, n)
	slots := make(chan struct{}, 50) // under a full batch waiting: never refused
	for i := range n {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			_, _, err := s.messages.SendMessage(bobCtx, cid, chat.MessageCreate{Content: "re", ReplyToID: orig.ID, ClientMessageID: fmt.Sprint("r", i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.messages.EditMessage(anaCtx, cid, orig.ID, chat.MessageEdit{Content: "after"}); err != nil {
		t.Fatal(err)
	}
	stale := func() int {
		n, rev := 0, chat.Rev("")
		for {
			page, next, err := s.messages.FindMessages(bobCtx, cid, chat.MessageFilter{ChangedAfter: max(rev, "0000000000000000"), Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page {
				if m.ReplyTo != nil && m.ReplyTo.Content != "after" {
					n++
				}
			}
			if next == "" {
				return n
			}
			rev = chat.Rev(next)
		}
	}
	deadline := time.Now().Add(chattest.WaitTimeout)
	for left := stale(); left > 0; left = stale() {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d quotes not refreshed", left, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
