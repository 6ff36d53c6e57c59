package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	gfs "cloud.google.com/go/firestore"

	"github.com/chatapp/chat/auth"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/presence"
)

// BenchmarkMe is one authenticated GET /api/me round trip. With the Auth
// emulator every token check calls the emulator (STACK-NOTES);
// BenchmarkVerifyToken measures that share alone.
func BenchmarkMe(b *testing.B) {
	in := chattest.NewInstance(b, chattest.Options{})
	// Enough users that the loop stays under each one's 50 requests/s.
	users := make([]chattest.User, 20)
	for i := range users {
		users[i] = chattest.NewUser(b, "bench")
		in.Do(b, "GET", "/api/me", users[i].Token, nil)
	}
	i := 0
	for b.Loop() {
		if r := in.Do(b, "GET", "/api/me", users[i%len(users)].Token, nil); r.Status != 200 {
			b.Fatalf("status %d", r.Status)
		}
		i++
	}
}

// BenchmarkVerifyToken is the token check alone, as the server does it.
func BenchmarkVerifyToken(b *testing.B) {
	env := chattest.MustEnv(b)
	v, err := auth.NewVerifier(context.Background(), env.Project, auth.RememberFor)
	if err != nil {
		b.Fatal(err)
	}
	u := chattest.NewUser(b, "bench")
	for b.Loop() {
		if _, err := v.Verify(context.Background(), u.Token); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSocketFirstAck is a socket connect, handshake authentication
// and the ack of a first joinChat.
func BenchmarkSocketFirstAck(b *testing.B) {
	in := chattest.NewInstance(b, chattest.Options{})
	ana, bob := chattest.NewUser(b, "bench-a"), chattest.NewUser(b, "bench-b")
	in.Do(b, "GET", "/api/me", bob.Token, nil)
	r := in.Do(b, "POST", "/api/chats", ana.Token, map[string]any{"userIds": []string{bob.UID}})
	var ch struct{ ID string }
	r.JSON(b, &ch)
	for b.Loop() {
		if _, err := chattest.DialEmit(b, in.URL, ana.Token, "joinChat", ch.ID, chattest.WaitTimeout); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDeliveryLatency measures, in one run, (a) the emulator's own
// write→listener latency and (b) REST send on instance A → newMessage on a
// socket of instance B, both at 50 messages/s spread over 10 chats, and
// reports p50/p99 of each and p99(b)/p99(a). Run with -benchtime 1x.
func BenchmarkDeliveryLatency(b *testing.B) {
	const rate, chats, total = 50, 10, 500
	inA := chattest.NewInstance(b, chattest.Options{})
	inB := chattest.NewInstance(b, chattest.Options{})
	// One sender per chat: 5 messages/s each stays under the per-user
	// limit of 10/s that 50/s from one user would break.
	bob := chattest.NewUser(b, "lat-b")
	inA.Do(b, "GET", "/api/me", bob.Token, nil)
	var ids []string
	var senders []chattest.User
	for i := 0; i < chats; i++ {
		senders = append(senders, chattest.NewUser(b, "lat-a"))
		r := inA.Do(b, "POST", "/api/chats", senders[i].Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true})
		var ch struct{ ID string }
		r.JSON(b, &ch)
		ids = append(ids, ch.ID)
	}
	for b.Loop() {
		raw := emulatorLatency(b, rate, chats, total)
		s := chattest.MustDial(b, inB.URL, bob.Token)
		var mu sync.Mutex
		sentAt := map[string]time.Time{}
		var rest []time.Duration
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / rate)
		for i := 0; i < total; i++ {
			<-tick.C
			content := fmt.Sprintf("lat-%d-%d", chattest.Unique(), i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				mu.Lock()
				sentAt[content] = time.Now()
				mu.Unlock()
				t0 := time.Now()
				if r := inA.Do(b, "POST", "/api/chats/"+ids[i%chats]+"/messages", senders[i%chats].Token, map[string]any{"content": content}); r.Status != 201 {
					b.Errorf("send %d", r.Status)
				}
				mu.Lock()
				rest = append(rest, time.Since(t0))
				mu.Unlock()
			}()
		}
		tick.Stop()
		wg.Wait()
		// Sends run concurrently: the last one started may not be the last
		// to arrive. Wait for every one.
		for c := range sentAt {
			s.Wait(b, "newMessage", field("content", c))
		}
		var e2e []time.Duration
		for _, ev := range s.Events("newMessage") {
			var m struct{ Content string }
			_ = json.Unmarshal(ev.Data, &m)
			if t0, ok := sentAt[m.Content]; ok {
				e2e = append(e2e, ev.At.Sub(t0))
			}
		}
		if len(e2e) != total {
			b.Fatalf("received %d of %d", len(e2e), total)
		}
		p50a, p99a := pct(raw, 50), pct(raw, 99)
		p50b, p99b := pct(e2e, 50), pct(e2e, 99)
		b.ReportMetric(ms(p50a), "p50a-ms")
		b.ReportMetric(ms(p99a), "p99a-ms")
		b.ReportMetric(ms(p50b), "p50b-ms")
		b.ReportMetric(ms(p99b), "p99b-ms")
		b.ReportMetric(ms(p99b)/ms(p99a), "p99-ratio")
		fmt.Fprintf(os.Stderr, "REST send answer alone: p50 %.1f ms p99 %.1f ms\n", ms(pct(rest, 50)), ms(pct(rest, 99)))
		fmt.Fprintf(os.Stderr, "delivery latency: emulator write→listener p50 %.1f ms p99 %.1f ms; REST send A → newMessage B p50 %.1f ms p99 %.1f ms; ratio p99 %.2f; target p99(b) ≤ 1.5×p99(a)+20 ms = %.1f ms\n",
			ms(p50a), ms(p99a), ms(p50b), ms(p99b), ms(p99b)/ms(p99a), 1.5*ms(p99a)+20)
		s.Close()
	}
}

// emulatorLatency writes total documents at rate/s over `chats`
// collections and times each from the start of its write to its arrival at
// a snapshot listener: the floor any Firestore-listener design sits on.
func emulatorLatency(b *testing.B, rate, chats, total int) []time.Duration {
	env := chattest.MustEnv(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client, err := gfs.NewClientWithDatabase(ctx, env.Project, chattest.Database(b))
	if err != nil {
		b.Fatal(err)
	}
	defer client.Close()
	run := fmt.Sprint("lat", chattest.Unique(), time.Now().UnixNano())
	var mu sync.Mutex
	sent, got := map[string]time.Time{}, map[string]time.Time{}
	ready := make(chan struct{})
	done := make(chan struct{})
	go func() {
		it := client.CollectionGroup("latprobe").Where("run", "==", run).Snapshots(ctx)
		defer it.Stop()
		first := true
		for {
			snap, err := it.Next()
			if err != nil {
				return
			}
			now := time.Now()
			if first {
				first = false
				close(ready)
				continue
			}
			mu.Lock()
			for _, ch := range snap.Changes {
				if ch.Kind == gfs.DocumentAdded {
					got[ch.Doc.Ref.ID] = now
				}
			}
			n := len(got)
			mu.Unlock()
			if n == total {
				close(done)
				return
			}
		}
	}()
	<-ready
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for i := 0; i < total; i++ {
		<-tick.C
		id := fmt.Sprintf("d%04d", i)
		ref := client.Collection("latchats").Doc(fmt.Sprint(run, i%chats)).Collection("latprobe").Doc(id)
		go func() {
			mu.Lock()
			sent[id] = time.Now()
			mu.Unlock()
			if _, err := ref.Create(ctx, map[string]any{"run": run, "at": time.Now()}); err != nil {
				b.Error(err)
			}
		}()
	}
	select {
	case <-done:
	case <-time.After(chattest.WaitTimeout):
		b.Fatal("listener did not see every write")
	}
	mu.Lock()
	defer mu.Unlock()
	var out []time.Duration
	for id, t0 := range sent {
		out = append(out, got[id].Sub(t0))
	}
	return out
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	if i > 0 {
		i--
	}
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkPresenceReads: the Firestore reads one instance's listeners
// make per presence flip, per recipient, read from the instance's own
// metrics (every document change any listener receives). 58 recipients
// fill two user shards; the subject's own connect and disconnect are in
// the window. Run it with
//
//	dev/with-emulators.sh go test -run '^$' -bench PresenceReads -benchtime 3x ./handlers
func BenchmarkPresenceReads(b *testing.B) {
	in := chattest.NewInstance(b, chattest.Options{Presence: presence.Options{Grace: 200 * time.Millisecond}})
	const recipients = 58
	subject := chattest.NewUser(b, "subject")
	in.Do(b, "GET", "/api/me", subject.Token, nil)
	ids := make([]string, recipients)
	socks := make([]*chattest.Socket, recipients)
	for i := range recipients {
		u := chattest.NewUser(b, fmt.Sprint("r", i))
		in.Do(b, "GET", "/api/me", u.Token, nil)
		ids[i] = u.UID
		socks[i] = chattest.MustDial(b, in.URL, u.Token)
	}
	r := in.Do(b, "POST", "/api/chats", subject.Token, map[string]any{"userIds": ids, "isGroup": true, "name": "big"})
	if r.Status != 201 {
		b.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var g struct{ ID string }
	r.JSON(b, &g)
	for _, s := range socks { // the memberships' reads are over before the window opens
		s.Wait(b, "newChat", func(raw json.RawMessage) bool {
			var c struct{ ID string }
			return json.Unmarshal(raw, &c) == nil && c.ID == g.ID
		})
	}
	// Listen: documents changed; ListenResend: unchanged ones the emulator
	// re-sent after resetting a target (production does not).
	listenReads := func() float64 { return scrape(b, in, `chatapp_firestore_reads_total{rpc="Listen"}`) }
	resends := func() float64 { return scrape(b, in, `chatapp_firestore_reads_total{rpc="ListenResend"}`) }
	seen := func(n int) {
		deadline := time.Now().Add(chattest.WaitTimeout)
		for _, s := range socks {
			for len(s.Presence(subject.UID)) < n {
				if time.Now().After(deadline) {
					b.Fatalf("flip %d not delivered to every recipient", n)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
	}
	var reads, resent float64
	flips := 0
	b.ResetTimer()
	for range b.N {
		before, rbefore := listenReads(), resends()
		s := chattest.MustDial(b, in.URL, subject.Token)
		flips++
		seen(flips)
		s.Close()
		flips++
		seen(flips)
		reads += listenReads() - before
		resent += resends() - rbefore
		b.Logf("window: %.0f reads, %.0f re-sent, restarts %d, served %v", listenReads()-before, resends()-rbefore, in.Node.Restarts(), fmt.Sprint(in.Node.Served()))
	}
	b.ReportMetric(reads/float64(flips*recipients), "listen-reads/recipient/flip")
	b.ReportMetric(resent/float64(flips*recipients), "emulator-resends/recipient/flip")
	b.ReportMetric(float64(in.Node.Listeners()), "listeners")
}

// scrape reads one sample from the instance's metrics.
func scrape(tb testing.TB, in *chattest.Instance, sample string) float64 {
	return samples(tb, in)[sample]
}

// samples reads the instances' metrics as Prometheus would, each sample
// (name and labels) summed over the instances.
func samples(tb testing.TB, ins ...*chattest.Instance) map[string]float64 {
	out := map[string]float64{}
	for _, in := range ins {
		rec := httptest.NewRecorder()
		in.App.Metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, line := range strings.Split(rec.Body.String(), "\n") {
			sp := strings.LastIndexByte(line, ' ')
			if line == "" || line[0] == '#' || sp < 0 {
				continue
			}
			f, err := strconv.ParseFloat(line[sp+1:], 64)
			if err != nil {
				tb.Fatal(err)
			}
			out[line[:sp]] += f
		}
	}
	return out
}

// storeCost is the Firestore reads and writes the instances have counted,
// and apart the documents the emulator re-sent to listeners after
// resetting their targets (production does not).
type storeCost struct{ reads, writes, resent float64 }

func costOf(tb testing.TB, ins ...*chattest.Instance) storeCost {
	var c storeCost
	for k, v := range samples(tb, ins...) {
		switch {
		case k == `chatapp_firestore_reads_total{rpc="ListenResend"}`:
			c.resent += v
		case strings.HasPrefix(k, "chatapp_firestore_reads_total{"):
			c.reads += v
		case strings.HasPrefix(k, "chatapp_firestore_writes_total{"):
			c.writes += v
		}
	}
	return c
}

func (c storeCost) minus(o storeCost) storeCost {
	return storeCost{c.reads - o.reads, c.writes - o.writes, c.resent - o.resent}
}

// firestoreByRPC is the Firestore counters by RPC: a window's breakdown.
func firestoreByRPC(tb testing.TB, ins ...*chattest.Instance) map[string]float64 {
	out := map[string]float64{}
	for k, v := range samples(tb, ins...) {
		if strings.HasPrefix(k, "chatapp_firestore_reads_total{") || strings.HasPrefix(k, "chatapp_firestore_writes_total{") {
			out[k] = v
		}
	}
	return out
}

// diff is b less a, the counters that moved only.
func diff(a, b map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range b {
		if d := v - a[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}
