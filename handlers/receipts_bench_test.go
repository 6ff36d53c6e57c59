package handlers_test

import (
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
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
	// Listen resends are the emulator's own (it re-sends a listener's
	// whole result set after resetting its target; production does not),
	// counted apart.
	total := func(kind string) float64 {
		var n float64
		for _, in := range ins {
			n += scrapeSum(b, in, "chatapp_firestore_"+kind+"_total{") - scrapeSum(b, in, `chatapp_firestore_`+kind+`_total{rpc="ListenResend"}`)
		}
		return n
	}
	resent := func() float64 {
		return scrapeSum(b, ins[0], `chatapp_firestore_reads_total{rpc="ListenResend"}`) + scrapeSum(b, ins[1], `chatapp_firestore_reads_total{rpc="ListenResend"}`)
	}
	var reads, writes, resends float64
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		m := ins[0].Do(b, "POST", "/api/chats/"+g.ID+"/messages", sender.Token, map[string]any{"content": fmt.Sprint("n", i)})
		var msg struct{ ID string }
		m.JSON(b, &msg)
		for _, s := range socks {
			s.Wait(b, "newMessage", field("id", msg.ID))
		}
		r0, w0, e0 := total("reads"), total("writes"), resent()
		before := breakdown(b, ins)
		b.StartTimer()
		if r := ins[0].Do(b, "POST", "/api/chats/"+g.ID+"/read", reader.Token, nil); r.Status != 204 {
			b.Fatalf("read: %d", r.Status)
		}
		for j, s := range socks {
			if j != 1 {
				s.Wait(b, "messagesRead", readBy(reader.UID, msg.ID))
			}
		}
		reads += total("reads") - r0
		writes += total("writes") - w0
		resends += resent() - e0
		b.Logf("window: %v", diff(before, breakdown(b, ins)))
	}
	b.ReportMetric(resends/float64(b.N), "emulator-resends/read")
	b.ReportMetric(reads/float64(b.N), "reads/read")
	b.ReportMetric(writes/float64(b.N), "writes/read")
	b.ReportMetric(float64(ins[0].Node.Listeners()+ins[1].Node.Listeners()), "listeners")
}

// scrapeSum adds up every sample of the instance's metrics whose line
// starts with prefix (a metric over all its labels).
func scrapeSum(tb testing.TB, in *chattest.Instance, prefix string) float64 {
	rec := httptest.NewRecorder()
	in.App.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	var n float64
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if strings.HasPrefix(line, prefix) {
			f, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
			if err != nil {
				tb.Fatal(err)
			}
			n += f
		}
	}
	return n
}

// breakdown is every firestore counter of the instances, summed by line.
func breakdown(tb testing.TB, ins []*chattest.Instance) map[string]float64 {
	out := map[string]float64{}
	for _, in := range ins {
		rec := httptest.NewRecorder()
		in.App.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			if strings.HasPrefix(line, "chatapp_firestore_reads_total{") || strings.HasPrefix(line, "chatapp_firestore_writes_total{") {
				f, _ := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
				out[line[:strings.LastIndexByte(line, ' ')]] += f
			}
		}
	}
	return out
}

func diff(a, b map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range b {
		if d := v - a[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
