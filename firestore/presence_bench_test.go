package firestore_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/firestore/apiv1/firestorepb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
)

// counter counts billed Firestore operations at the gRPC boundary: a
// document returned by a get or a query is a read (a query returning
// none is billed one), a write in a commit is a write.
type counter struct{ reads, writes atomic.Int64 }

func (c *counter) unary(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	if r, ok := req.(*firestorepb.CommitRequest); ok {
		c.writes.Add(int64(len(r.Writes)))
	}
	return invoker(ctx, method, req, reply, cc, opts...)
}

func (c *counter) stream(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	return &countedStream{ClientStream: s, c: c}, err
}

type countedStream struct {
	grpc.ClientStream
	c     *counter
	query bool
	docs  int
}

func (s *countedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err != nil {
		if s.query && s.docs == 0 {
			s.c.reads.Add(1)
		}
		return err
	}
	switch r := m.(type) {
	case *firestorepb.BatchGetDocumentsResponse:
		if r.GetFound() != nil {
			s.c.reads.Add(1)
		}
	case *firestorepb.RunQueryResponse:
		s.query = true
		if r.Document != nil {
			s.docs++
			s.c.reads.Add(1)
		}
	}
	return nil
}

func (c *counter) take() (reads, writes int64) { return c.reads.Swap(0), c.writes.Swap(0) }

// BenchmarkPresenceCosts measures the Firestore operations presence costs
// for 1,020 users, each in one group of 51 (50 co-members), as the
// adapter makes them. Run it with
//
//	dev/with-emulators.sh go test -run '^$' -bench PresenceCosts -benchtime 1x ./firestore
func BenchmarkPresenceCosts(b *testing.B) {
	env := chattest.MustEnv(b)
	c := &counter{}
	conn, err := grpc.NewClient(env.FirestoreHost, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithPerRPCCredentials(ownerCreds{}), grpc.WithChainUnaryInterceptor(c.unary), grpc.WithChainStreamInterceptor(c.stream))
	if err != nil {
		b.Fatal(err)
	}
	db, err := firestore.Open(context.Background(), env.Project, option.WithGRPCConn(conn))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	files := chattest.MustFileStore(b, "")
	users := firestore.NewUserService(db)
	chats := firestore.NewChatService(db, users, files)
	const groups, size = 20, 51
	run := fmt.Sprint(time.Now().UnixNano())
	ids := make([]string, 0, groups*size)
	ctxOf := func(uid string) context.Context {
		return chat.NewContextWithIdentity(context.Background(), chat.Identity{UID: uid, Name: uid, Expires: time.Now().Add(time.Hour)})
	}
	parallel := func(n int, f func(i int)) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := range n {
			sem <- struct{}{}
			wg.Go(func() { defer func() { <-sem }(); f(i) })
		}
		wg.Wait()
	}
	for i := range groups * size {
		ids = append(ids, fmt.Sprintf("pb%s-%d", run, i))
	}
	parallel(len(ids), func(i int) {
		if _, err := users.Me(ctxOf(ids[i])); err != nil {
			b.Error(err)
		}
	})
	parallel(groups, func(g int) {
		if _, _, err := chats.CreateChat(ctxOf(ids[g*size]), chat.ChatCreate{UserIDs: ids[g*size+1 : (g+1)*size], IsGroup: true, Name: "g"}); err != nil {
			b.Error(err)
		}
	})
	one, two := firestore.NewSessions(db, "bench-a-"+run), firestore.NewSessions(db, "bench-b-"+run)
	ctx := context.Background()
	n := int64(len(ids))
	step := func(name string, count int64, f func(i int) error) {
		c.take()
		parallel(int(count), func(i int) {
			if err := f(i); err != nil {
				b.Error(err)
			}
		})
		r, w := c.take()
		b.ReportMetric(float64(r)/float64(count), name+"-reads/op")
		b.ReportMetric(float64(w)/float64(count), name+"-writes/op")
	}
	b.ResetTimer()
	for range b.N {
		now := time.Now()
		step("connect-first", n, func(i int) error { return one.Connect(ctx, ids[i], now) })
		step("connect-more", n, func(i int) error { return two.Connect(ctx, ids[i], now) })
		step("disconnect-notlast", n, func(i int) error { return two.Disconnect(ctx, ids[i], now) })
		step("disconnect-final", n, func(i int) error { return one.Disconnect(ctx, ids[i], now) })
		c.take()
		for range 10 {
			if _, err := one.Renew(ctx, 20*time.Second); err != nil {
				b.Fatal(err)
			}
		}
		_, w := c.take()
		b.ReportMetric(float64(w)/10*60/(20.0/3), "lease-writes/min")
	}
}
