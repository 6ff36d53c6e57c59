package handlers_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chattest"
)

// BenchmarkPushGroup: a message to a group of 256 whose members are all
// offline, one device each. Per message: the Firestore reads and writes
// from its send until its 255th push (the instance's metrics, the
// emulator's re-sends apart), and the p50 latency of REST sends to another
// group (muted by everyone: no pushes of its own) while those 255 pushes
// are handled, against the same sends when nothing is pushed. Run it with
//
//	dev/with-emulators.sh go test -run '^$' -bench PushGroup -benchtime 1x ./handlers
//
// (one iteration: a second one's window also holds the other group's
// handling of the sends made while the first one's pushes went out)
func BenchmarkPushGroup(b *testing.B) {
	f := chattest.NewFakeFCM(b)
	in := chattest.NewInstance(b, chattest.Options{Push: app.PushSettings{FCMEndpoint: f.URL, Delay: time.Second}})
	const size = 256
	users := make([]chattest.User, size)
	var ids []string
	for i := range users {
		users[i] = chattest.NewUser(b, fmt.Sprint("p", i))
		in.Do(b, "GET", "/api/me", users[i].Token, nil)
		if i > 0 {
			ids = append(ids, users[i].UID)
			in.Do(b, "PUT", "/api/me/devices/d", users[i].Token, map[string]any{"token": fmt.Sprint("tok-", i), "platform": "web"})
		}
	}
	group := func(name string) string {
		r := in.Do(b, "POST", "/api/chats", users[0].Token, map[string]any{"userIds": ids, "isGroup": true, "name": name})
		var g struct{ ID string }
		r.JSON(b, &g)
		return g.ID
	}
	pushed, quiet := group("pushed"), group("quiet")
	for _, u := range users[1:] {
		in.Do(b, "PUT", "/api/chats/"+quiet+"/mute", u.Token, map[string]any{"until": "9999-12-31T23:59:59.999Z"})
	}
	n := 0
	send := func(chatID string) time.Duration {
		// The quiet group's sends rotate among its members: one user's
		// sends are limited to 10 a second.
		from := users[0]
		if chatID == quiet {
			n++
			from = users[1+n%(size-1)]
		}
		start := time.Now()
		if r := in.Do(b, "POST", "/api/chats/"+chatID+"/messages", from.Token, map[string]any{"content": "hi all"}); r.Status != 201 {
			b.Fatalf("send: %d", r.Status)
		}
		return time.Since(start)
	}
	var quietSends, busySends []time.Duration
	var reads, writes float64
	b.ResetTimer()
	for range b.N {
		for range 10 {
			quietSends = append(quietSends, send(quiet))
		}
		// The cost of one pushed message (a member waits 10 s between two
		// pushes of a chat: the window is as long as that).
		chattest.WaitWithin(b, "the quiet group's to-do handled", time.Minute, func() bool { return pushDone(b, quiet) })
		before := len(f.Messages())
		cost, byRPC := costOf(b, in), firestoreByRPC(b, in)
		send(pushed)
		chattest.WaitWithin(b, "255 pushes", time.Minute, func() bool { return len(f.Messages()) >= before+size-1 })
		w := costOf(b, in).minus(cost)
		b.Logf("window: %v", diff(byRPC, firestoreByRPC(b, in)))
		reads, writes = reads+w.reads, writes+w.writes
		// The send path while a message's pushes are handled.
		before = len(f.Messages())
		send(pushed)
		for len(f.Messages()) < before+size-1 {
			busySends = append(busySends, send(quiet))
		}
	}
	b.StopTimer()
	b.ReportMetric(reads/float64(b.N), "reads/message")
	b.ReportMetric(writes/float64(b.N), "writes/message")
	b.ReportMetric(ms(pct(quietSends, 50)), "send-ms-p50-nothing-pushed")
	b.ReportMetric(ms(pct(busySends, 50)), "send-ms-p50-while-pushing")
	b.ReportMetric(float64(len(busySends))/float64(b.N), "sends-while-pushing")
}
