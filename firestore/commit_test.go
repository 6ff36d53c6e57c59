package firestore_test

import (
	"context"
	"sync/atomic"
	"testing"

	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
)

// TestRetriedCommitMakesOneMessage: a Commit the server applied but whose
// answer was lost (Unavailable) is retried, by the client library or by
// the send loop; the message must still be stored once, with the next seq
// free. The fault is injected at the gRPC boundary of a real client.
func TestRetriedCommitMakesOneMessage(t *testing.T) {
	var armed atomic.Bool
	var injected atomic.Int32
	lose := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		err := invoker(ctx, method, req, reply, cc, opts...)
		if err == nil && method == "/google.firestore.v1.Firestore/Commit" && armed.CompareAndSwap(true, false) {
			injected.Add(1)
			return status.Error(codes.Unavailable, "injected: applied, then the answer was lost")
		}
		return err
	}
	s := mustServicesVia(t, lose)
	anaCtx, _ := s.as(t, "ana")
	_, bob := s.as(t, "bob")
	c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, clientID string }{{"WithoutClientMessageID", ""}, {"WithClientMessageID", "c-1"}} {
		t.Run(tc.name, func(t *testing.T) {
			armed.Store(true)
			m, created, err := s.messages.SendMessage(anaCtx, c.ID, chat.MessageCreate{Content: tc.name, ClientMessageID: tc.clientID})
			if err != nil || !created {
				t.Fatalf("send: created %v err %v", created, err)
			}
			if armed.Load() {
				t.Fatal("no commit was made to fail")
			}
			page, _, err := s.messages.FindMessages(anaCtx, c.ID, chat.MessageFilter{})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, x := range page {
				if x.Content == tc.name {
					n++
				}
			}
			if n != 1 || page[len(page)-1].ID != m.ID {
				t.Fatalf("%d stored copies of the message (want 1); newest %s, answered %s", n, page[len(page)-1].ID, m.ID)
			}
		})
	}
	if injected.Load() != 2 {
		t.Fatalf("%d faults injected, want 2", injected.Load())
	}
}

// mustServicesVia returns services on a database whose unary calls go
// through interceptor (and streaming ones through stream): faults and holds
// at the gRPC boundary of a real client.
func mustServicesVia(t *testing.T, interceptor grpc.UnaryClientInterceptor, stream ...grpc.StreamClientInterceptor) services {
	t.Helper()
	env := chattest.MustEnv(t)
	// With the emulator the client library dials its own connection and
	// ignores dial options: give it one with the interceptor.
	conn := chattest.DialFirestore(t, env.FirestoreHost, grpc.WithChainUnaryInterceptor(interceptor), grpc.WithChainStreamInterceptor(stream...))
	db, err := firestore.Open(context.Background(), env.Project, chattest.Database(t), nil, option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	users := firestore.NewUserService(db)
	files := chattest.MustFileStore(t, "")
	chats := firestore.NewChatService(db, users, files)
	t.Cleanup(chats.Close)
	return services{users, chats, firestore.NewMessageService(db, files), nil, db}
}

// TestMarkReadRetriesServerCancel: the emulator (and a loaded server) may
// cancel a call on its own; moving a read marker is idempotent, so such a
// failure is tried again instead of answering the client `internal`.
func TestMarkReadRetriesServerCancel(t *testing.T) {
	var armed atomic.Bool
	var injected atomic.Int32
	cancel := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if method == "/google.firestore.v1.Firestore/Commit" && armed.CompareAndSwap(true, false) {
			injected.Add(1)
			return status.Error(codes.Canceled, "injected: call already cancelled")
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
	s := mustServicesVia(t, cancel)
	anaCtx, _ := s.as(t, "ana")
	bobCtx, bob := s.as(t, "bob")
	c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.messages.SendMessage(anaCtx, c.ID, chat.MessageCreate{Content: "unread"}); err != nil {
		t.Fatal(err)
	}
	armed.Store(true)
	if err := s.chats.MarkRead(bobCtx, c.ID); err != nil {
		t.Fatalf("mark read: %v", err)
	}
	if injected.Load() != 1 {
		t.Fatalf("%d faults injected, want 1", injected.Load())
	}
	got, err := s.chats.FindChat(bobCtx, c.ID)
	if err != nil || got.UnreadCount != 0 {
		t.Fatalf("bob's unread %d after the read, %v", got.UnreadCount, err)
	}
}
