package handlers_test

import (
	"fmt"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// BenchmarkReceiptCosts: the Firestore reads and writes of one read
// marker change in a group of 50 whose members all have the chat open,
// half on each of two instances, counted by both instances' own metrics
// (every read and write at the gRPC boundary, listeners included) from
// the read's request until its messagesRead reached all 49 others. Run it
// with
//
//	dev/with-emulators.sh go test -run '^$' -bench ReceiptCosts -benchtime 5x ./handlers
func BenchmarkReceiptCosts(b *testing.B) {
	ins := []*chattest.Instance{chattest.NewInstance(b, chattest.Options{}), chattest.NewInstance(b, chattest.Options{})}
	const members = 50
	users := make([]chattest.User, members)
	ids := make([]string, 0, members)
	for i := range users {
		users[i] = chattest.NewUser(b, fmt.Sprint("m", i))
		ins[0].Do(b, "GET", "/api/me", users[i].Token, nil)
		if i > 0 {
			ids = append(ids, users[i].UID)
		}
	}
	r := ins[0].Do(b, "POST", "/api/chats", users[0].Token, map[string]any{"userIds": ids, "isGroup": true, "name": "fifty"})
	if r.Status != 201 {
		b.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var g struct{ ID string }
	r.JSON(b, &g)
	socks := make([]*chattest.Socket, members)
	for i, u := range users {
		socks[i] = chattest.MustDial(b, ins[i%2].URL, u.Token)
		socks[i].MustEmit(b, "joinChat", g.ID)
	}
	reader, sender := users[1], users[0]
	var total storeCost
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		m := ins[0].Do(b, "POST", "/api/chats/"+g.ID+"/messages", sender.Token, map[string]any{"content": fmt.Sprint("n", i)})
		var msg struct{ ID string }
		m.JSON(b, &msg)
		for _, s := range socks {
			s.Wait(b, "newMessage", field("id", msg.ID))
		}
		before, byRPC := costOf(b, ins...), firestoreByRPC(b, ins...)
		b.StartTimer()
		if r := ins[0].Do(b, "POST", "/api/chats/"+g.ID+"/read", reader.Token, nil); r.Status != 204 {
			b.Fatalf("read: %d", r.Status)
		}
		for j, s := range socks {
			if j != 1 {
				s.Wait(b, "messagesRead", readBy(reader.UID, msg.ID))
			}
		}
		w := costOf(b, ins...).minus(before)
		total = storeCost{total.reads + w.reads, total.writes + w.writes, total.resent + w.resent}
		b.Logf("window: %v", diff(byRPC, firestoreByRPC(b, ins...)))
	}
	b.ReportMetric(total.resent/float64(b.N), "emulator-resends/read")
	b.ReportMetric(total.reads/float64(b.N), "reads/read")
	b.ReportMetric(total.writes/float64(b.N), "writes/read")
	b.ReportMetric(float64(ins[0].Node.Listeners()+ins[1].Node.Listeners()), "listeners")
}
