package firestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat/chattest"
)

// BenchmarkEmulatorCommit measures the Firestore emulator alone, no
// service code: one commit of a batch of message documents shaped like
// the service's (ten memberIds) and its chat's update, with 0 or 2
// listeners shaped like the engine's messages listener (one per instance)
// on the members. It tells whether a send's time is the emulator's, and
// how a commit's time grows with its size and the listeners. Run it with
//
//	dev/with-emulators.sh go test -run '^$' -bench EmulatorCommit -benchtime 50x ./firestore
func BenchmarkEmulatorCommit(b *testing.B) {
	env := chattest.MustEnv(b)
	ctx := context.Background()
	client, err := firestore.NewClientWithDatabase(ctx, env.Project, chattest.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { client.Close() })
	stored := 0 // messages in the database so far: the emulator's listeners scan them all
	for _, listeners := range []int{0, 2} {
		for _, size := range []int{1, 10, 50} {
			b.Run(fmt.Sprintf("listeners=%d/batch=%d", listeners, size), func(b *testing.B) {
				run := fmt.Sprintf("eb%d-%d-%d", time.Now().UnixNano(), listeners, size)
				members := make([]string, 10)
				for i := range members {
					members[i] = fmt.Sprintf("%s-u%d", run, i)
				}
				chatRef := client.Collection("chats").Doc(run)
				if _, err := chatRef.Set(ctx, map[string]any{"memberIds": members, "lastSeq": 0}); err != nil {
					b.Fatal(err)
				}
				since := time.Now()
				for l := range listeners {
					lctx, cancel := context.WithCancel(ctx)
					b.Cleanup(cancel)
					it := client.CollectionGroup("messages").Where("memberIds", "array-contains-any", members[l*5:l*5+5]).
						Where("createdAt", ">", since).OrderBy("createdAt", firestore.Asc).Snapshots(lctx)
					if _, err := it.Next(); err != nil {
						b.Fatal(err)
					}
					go func() {
						defer it.Stop()
						for {
							if _, err := it.Next(); err != nil {
								return
							}
						}
					}()
				}
				seq := 0
				b.ResetTimer()
				for range b.N {
					batch := client.Batch()
					for range size {
						seq++
						stored++
						batch.Create(chatRef.Collection("messages").Doc(fmt.Sprintf("%012d", seq)), map[string]any{
							"chatId": run, "seq": seq, "senderId": members[seq%10], "content": "load", "createdAt": time.Now(), "memberIds": members,
						})
					}
					batch.Update(chatRef, []firestore.Update{{Path: "lastSeq", Value: seq}})
					if _, err := batch.Commit(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/commit")
				b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*size), "ms/message")
				b.ReportMetric(float64(stored), "stored")
			})
		}
	}
}
