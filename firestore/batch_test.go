package firestore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chatapp/chat"
)

// commitHold holds the first commit made once armed at the gRPC boundary
// (held is closed when it arrives) until release is closed, so that what
// queues behind it is known exactly.
type commitHold struct {
	armed         atomic.Bool
	commits       atomic.Int32
	held, release chan struct{}
}

func newCommitHold() *commitHold {
	return &commitHold{held: make(chan struct{}), release: make(chan struct{})}
}

func (h *commitHold) intercept(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if method == "/google.firestore.v1.Firestore/Commit" && h.armed.Load() && h.commits.Add(1) == 1 {
		close(h.held)
		<-h.release
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

// TestBusyChatCommitsTogether: the sends that queue for a chat while one of
// its commits is in flight are stored by the next commit together, with
// gapless seqs, each sender's read marker at its own last message, a
// non-member refused and a repeated clientMessageId stored once. The first
// commit is held at the gRPC boundary until the others are queued, so the
// grouping is certain, not a matter of timing.
func TestBusyChatCommitsTogether(t *testing.T) {
	h := newCommitHold()
	s := mustServicesVia(t, h.intercept)
	armed, commits, held, release := &h.armed, &h.commits, h.held, h.release
	ctxs := make([]context.Context, 4)
	uids := make([]string, 4)
	for i := range ctxs {
		ctxs[i], uids[i] = s.as(t, fmt.Sprint("m", i))
	}
	strangerCtx, _ := s.as(t, "stranger")
	c, _, err := s.chats.CreateChat(ctxs[0], chat.ChatCreate{UserIDs: uids[1:], IsGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)

	type sent struct {
		m       *chat.Message
		created bool
		err     error
	}
	const n = 40
	out := make([]sent, n+3)
	var wg sync.WaitGroup
	send := func(i int, ctx context.Context, in chat.MessageCreate) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m, created, err := s.messages.SendMessage(ctx, c.ID, in)
			out[i] = sent{m, created, err}
		}()
	}
	send(0, ctxs[0], chat.MessageCreate{Content: "first"})
	<-held
	for i := 1; i < n; i++ {
		send(i, ctxs[i%4], chat.MessageCreate{Content: fmt.Sprint("m", i), ClientMessageID: fmt.Sprint("c", i)})
	}
	send(n, strangerCtx, chat.MessageCreate{Content: "not a member"}) // refused before the queue
	send(n+1, ctxs[1], chat.MessageCreate{Content: "dup", ClientMessageID: "dup"})
	waitQueued := func(want int) {
		for deadline := time.Now().Add(10 * time.Second); s.messages.Waiting(c.ID) < want; {
			if time.Now().After(deadline) {
				t.Fatalf("%d sends queued, want %d", s.messages.Waiting(c.ID), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	// The repeat queues last: it waits for the batch after its first
	// (a batch never writes one key twice) and finds the key there.
	waitQueued(n)
	send(n+2, ctxs[1], chat.MessageCreate{Content: "dup", ClientMessageID: "dup"})
	waitQueued(n + 1)
	close(release)
	wg.Wait()

	t.Run("StoredWithGaplessSeqs", func(t *testing.T) {
		var seqs []int64
		for i, r := range out[:n] {
			if r.err != nil || !r.created {
				t.Fatalf("send %d: created %v err %v", i, r.created, r.err)
			}
			seqs = append(seqs, r.m.Seq)
		}
		a, b := out[n+1], out[n+2]
		if a.err != nil || b.err != nil || a.m.ID != b.m.ID || a.created == b.created {
			t.Fatalf("repeated clientMessageId: %+v and %+v", a, b)
		}
		seqs = append(seqs, a.m.Seq)
		slices.Sort(seqs)
		for i, seq := range seqs {
			if seq != int64(i+1) {
				t.Fatalf("seqs %v are not 1..%d", seqs, n+1)
			}
		}
		page, _, err := s.messages.FindMessages(ctxs[0], c.ID, chat.MessageFilter{Limit: 100})
		if err != nil || len(page) != n+1 {
			t.Fatalf("stored %d messages (%v), want %d", len(page), err, n+1)
		}
	})
	t.Run("ErrNotFoundForNonMember", func(t *testing.T) {
		code(t, out[n].err, chat.ENOTFOUND)
	})
	t.Run("TwoCommits", func(t *testing.T) {
		if got := commits.Load(); got != 2 {
			t.Fatalf("%d commits for %d messages, want 2 (the held one, then the rest)", got, n+1)
		}
	})
	t.Run("ReadMarkersAtOwnLast", func(t *testing.T) {
		for i, ctx := range ctxs {
			page, _, err := s.messages.FindMessages(ctx, c.ID, chat.MessageFilter{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			last := -1
			for j, m := range page {
				if m.SenderID == uids[i] {
					last = j
				}
			}
			got, err := s.chats.FindChat(ctx, c.ID)
			if want := len(page) - 1 - last; err != nil || got.UnreadCount != want {
				t.Fatalf("member %d unread %d (%v), want %d", i, got.UnreadCount, err, want)
			}
		}
	})
}

// TestFaultySendFailsAlone: a value the store refuses, in a batch with
// other members' sends, fails only its own send (the batch is retried one
// by one); the edge refuses such values before they get here, this is the
// defence behind it.
func TestFaultySendFailsAlone(t *testing.T) {
	h := newCommitHold()
	s := mustServicesVia(t, h.intercept)
	armed, held, release := &h.armed, h.held, h.release
	anaCtx, _ := s.as(t, "ana")
	bobCtx, bob := s.as(t, "bob")
	c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	const valid, invalid = 12, 3
	errs := make([]error, valid+invalid)
	var wg sync.WaitGroup
	wg.Go(func() { _, _, errs[0] = s.messages.SendMessage(anaCtx, c.ID, chat.MessageCreate{Content: "first"}) })
	<-held
	for i := 1; i < valid; i++ {
		ctx := []context.Context{anaCtx, bobCtx}[i%2]
		wg.Go(func() {
			_, _, errs[i] = s.messages.SendMessage(ctx, c.ID, chat.MessageCreate{Content: fmt.Sprint("m", i)})
		})
	}
	for i := valid; i < valid+invalid; i++ {
		wg.Go(func() {
			_, _, errs[i] = s.messages.SendUnchecked(bobCtx, c.ID, chat.MessageCreate{Content: "bad\xff", ClientMessageID: fmt.Sprint("k", i)})
		})
	}
	for deadline := time.Now().Add(10 * time.Second); s.messages.Waiting(c.ID) < valid+invalid-1; {
		if time.Now().After(deadline) {
			t.Fatalf("%d sends queued", s.messages.Waiting(c.ID))
		}
		time.Sleep(time.Millisecond)
	}
	close(release)
	wg.Wait()
	for i, err := range errs {
		if i < valid && err != nil {
			t.Errorf("valid send %d failed: %v", i, err)
		}
		if i >= valid && chat.ErrorCode(err) != chat.EINTERNAL {
			t.Errorf("invalid send %d: %v, want an internal error", i, err)
		}
	}
	page, _, err := s.messages.FindMessages(anaCtx, c.ID, chat.MessageFilter{Limit: 100})
	if err != nil || len(page) != valid {
		t.Fatalf("stored %d messages (%v), want %d", len(page), err, valid)
	}
}

// TestNonMemberSpendsNoFloor: sends from someone outside the chat are
// refused before they count against the chat's floor.
func TestNonMemberSpendsNoFloor(t *testing.T) {
	s := mustServices(t)
	anaCtx, _ := s.as(t, "ana")
	_, bob := s.as(t, "bob")
	eveCtx, _ := s.as(t, "eve")
	c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.messages.SendMessage(anaCtx, c.ID, chat.MessageCreate{Content: "hi"}); err != nil {
		t.Fatal(err)
	}
	for range 80 {
		_, _, err := s.messages.SendMessage(eveCtx, c.ID, chat.MessageCreate{Content: "spam"})
		code(t, err, chat.ENOTFOUND)
	}
	// The floor's burst is 60: one send of ana's spent one of it.
	if got := s.messages.FloorTokens(c.ID); got < 58 {
		t.Fatalf("the chat's floor has %.1f tokens left after a non-member's sends", got)
	}
}

// TestLateCommitStoredOnce: a send without a clientMessageId whose commit
// failed on the client's side but landed later (after the batch looked for
// it, before its next attempt read the chat) is not stored a second time:
// the request's own key finds it.
func TestLateCommitStoredOnce(t *testing.T) {
	var armed atomic.Bool
	var mu sync.Mutex // guards late, reads
	var late func()   // the first commit, landing late
	reads := 0        // reads since it failed
	commit := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		mu.Lock()
		defer mu.Unlock()
		if method == "/google.firestore.v1.Firestore/Commit" && armed.Load() && late == nil {
			late = func() {
				if err := invoker(context.Background(), method, req, reply, cc, opts...); err != nil {
					t.Errorf("the late commit: %v", err)
				}
			}
			return status.Error(codes.DeadlineExceeded, "timed out after sending")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	// The failed commit's lookup is the first read after it; the next
	// attempt's read of the chat the second: the commit lands between.
	read := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		mu.Lock()
		if method == "/google.firestore.v1.Firestore/BatchGetDocuments" && late != nil {
			if reads++; reads == 2 {
				late()
			}
		}
		mu.Unlock()
		return streamer(ctx, desc, cc, method, opts...)
	}
	s := mustServicesVia(t, commit, read)
	anaCtx, _ := s.as(t, "ana")
	_, bob := s.as(t, "bob")
	c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}})
	if err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	m, created, err := s.messages.SendMessage(anaCtx, c.ID, chat.MessageCreate{Content: "once"})
	if err != nil || !created {
		t.Fatalf("send: created %v, %v", created, err)
	}
	if mu.Lock(); reads < 2 {
		t.Fatalf("the late commit never landed (%d reads after the failure)", reads)
	}
	mu.Unlock()
	page, _, err := s.messages.FindMessages(anaCtx, c.ID, chat.MessageFilter{Limit: 10})
	if err != nil || len(page) != 1 || page[0].ID != m.ID {
		t.Fatalf("stored %d messages (%v), want the one answered", len(page), err)
	}
}
