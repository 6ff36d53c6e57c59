package firestore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/firestore"
)

// BenchmarkPresenceCosts measures the Firestore operations presence costs
// for 1,020 users, each in one group of 51 (50 co-members), counted by the
// adapter's own meter (the one /metrics shows). Run it with
//
//	dev/with-emulators.sh go test -run '^$' -bench PresenceCosts -benchtime 1x ./firestore
func BenchmarkPresenceCosts(b *testing.B) {
	m := mustMetered(b)
	c, db, users, chats := m.c, m.db, m.users, m.chats
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
		c.totals()
		parallel(int(count), func(i int) {
			if err := f(i); err != nil {
				b.Error(err)
			}
		})
		r, w := c.totals()
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
		c.totals()
		for range 10 {
			if _, err := one.Renew(ctx, 20*time.Second); err != nil {
				b.Fatal(err)
			}
		}
		_, w := c.totals()
		b.ReportMetric(float64(w)/10*60/(20.0/3), "lease-writes/min")
	}
}
