package handlers_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/realtime"
)

// stressSocket is one socket of the stress run and when it was open.
type stressSocket struct {
	s        *chattest.Socket
	uid      string
	openedAt time.Time // the client had seen connect by then
	closedAt time.Time // zero while open
	joined   []string
}

// stressSend is one acknowledged message.
type stressSend struct {
	id, chatID string
	at, ack    time.Time
}

// TestStress runs 200 users over two instances for 30 s: sockets connect
// and disconnect, join and leave rooms, type, and messages are sent. Then
// every acknowledged message must have reached, exactly once, every member
// socket that was connected from before its send until 5 s after its ack;
// no socket may have any message twice; and once every socket is closed the
// goroutines and listeners are back at their baseline.
func TestStress(t *testing.T) {
	const (
		nUsers   = 200
		nWorkers = 20
		run      = 30 * time.Second
		settle   = 5 * time.Second
	)
	opts := chattest.Options{Realtime: realtime.Options{Linger: 300 * time.Millisecond}}
	insts := []api{newAPI(t, chattest.NewInstance(t, opts)), newAPI(t, chattest.NewInstance(t, opts))}
	users := newUsers(t, insts[0], nUsers)
	// 40 groups of 10 overlapping by half: every user is in two groups.
	type group struct {
		id      string
		members []string
	}
	var groups []group
	chatsOf := map[string][]string{}
	for i := 0; i < nUsers/5; i++ {
		var ids []string
		for j := range 10 {
			ids = append(ids, users[(i*5+j)%nUsers].UID)
		}
		c := insts[i%2].mustChat(t, users[i*5].Token, map[string]any{"userIds": ids[1:], "isGroup": true})
		groups = append(groups, group{c.ID, ids})
		for _, uid := range ids {
			chatsOf[uid] = append(chatsOf[uid], c.ID)
		}
	}
	members := map[string][]string{}
	for _, g := range groups {
		members[g.id] = g.members
	}
	http.DefaultClient.CloseIdleConnections()
	baseline := runtime.NumGoroutine()

	var mu sync.Mutex // guards sockets, sends, ops, failures, retries and dials
	var dials []time.Duration
	var retries int
	var sockets []*stressSocket
	var sends []stressSend
	var ops int
	var failures []string
	// fail records an operation that failed even when tried again. An
	// internal error is counted (the emulator sometimes cancels a call
	// under listener churn: "call already cancelled"); any other is a
	// failure of the test.
	fail := func(what string, code string) {
		mu.Lock()
		defer mu.Unlock()
		failures = append(failures, what+": "+code)
		if !strings.Contains(code, chat.EINTERNAL) {
			t.Errorf("%s: %s", what, code)
		}
	}
	stop := time.Now().Add(run)
	var wg sync.WaitGroup
	for w := range nWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			mine := users[w*nUsers/nWorkers : (w+1)*nUsers/nWorkers]
			var open []*stressSocket
			tick := time.NewTicker(200 * time.Millisecond)
			defer tick.Stop()
			for n := 0; time.Now().Before(stop); n++ {
				<-tick.C
				u := mine[rng.IntN(len(mine))]
				in := insts[rng.IntN(2)]
				switch p := rng.IntN(100); {
				case p < 25: // connect
					mu.Lock()
					ops++
					mu.Unlock()
					var s *chattest.Socket
					err := retryInternal(&mu, &retries, func() error {
						dialAt := time.Now()
						var err error
						s, err = chattest.Dial(t, in.in.URL, u.Token)
						mu.Lock()
						dials = append(dials, time.Since(dialAt))
						mu.Unlock()
						return err
					})
					if err != nil {
						fail("dial", err.Error())
						continue
					}
					ss := &stressSocket{s: s, uid: u.UID, openedAt: time.Now()}
					open = append(open, ss)
					mu.Lock()
					sockets = append(sockets, ss)
					mu.Unlock()
				case p < 35 && len(open) > 0: // disconnect
					i := rng.IntN(len(open))
					mu.Lock()
					open[i].closedAt = time.Now()
					mu.Unlock()
					open[i].s.Close()
					open = slices.Delete(open, i, i+1)
				case p < 60 && len(open) > 0: // join, type, or leave
					ss := open[rng.IntN(len(open))]
					cid := chatsOf[ss.uid][rng.IntN(len(chatsOf[ss.uid]))]
					ev := "joinChat"
					if slices.Contains(ss.joined, cid) {
						ev = []string{"leaveChat", "typing", "stopTyping"}[rng.IntN(3)]
					}
					mu.Lock()
					ops++
					mu.Unlock()
					if err := retryInternal(&mu, &retries, func() error { return emitErr(ss.s, ev, cid) }); err != nil {
						fail(ev, err.Error())
						continue
					}
					if ev == "joinChat" {
						ss.joined = append(ss.joined, cid)
					} else if ev == "leaveChat" {
						ss.joined = slices.DeleteFunc(ss.joined, func(c string) bool { return c == cid })
					}
				case p < 80: // send
					cid := chatsOf[u.UID][rng.IntN(len(chatsOf[u.UID]))]
					at := time.Now()
					var r chattest.Response
					mu.Lock()
					ops++
					mu.Unlock()
					// Sent again with the same clientMessageId, as the
					// contract's clients do: one message whatever happens.
					err := retryInternal(&mu, &retries, func() error {
						r = in.in.Do(t, "POST", "/api/chats/"+cid+"/messages", u.Token,
							map[string]any{"content": fmt.Sprintf("w%d n%d", w, n), "clientMessageId": fmt.Sprintf("%d-%d", w, n)})
						if r.Status != 201 {
							return fmt.Errorf("%d %s", r.Status, r.Body)
						}
						return nil
					})
					if err != nil {
						fail("send", err.Error())
						continue
					}
					var m msgBody
					r.JSON(t, &m)
					mu.Lock()
					sends = append(sends, stressSend{id: m.ID, chatID: cid, at: at, ack: time.Now()})
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()

	// Every qualifying (socket, message) pair: delivered, and only once.
	expected, checked := 0, 0
	ackOf := map[string]time.Time{}
	for _, m := range sends {
		ackOf[m.id] = m.ack
	}
	var lags []time.Duration // ack to delivery, every delivery seen
	for _, ss := range sockets {
		got := map[string]int{}
		at := map[string][]string{}
		for _, ev := range ss.s.Events("newMessage") {
			id := decode[msgBody](t, ev.Data).ID
			got[id]++
			at[id] = append(at[id], ev.At.Format("05.000"))
			if ack, ok := ackOf[id]; ok {
				lags = append(lags, ev.At.Sub(ack))
			}
		}
		for id, n := range got {
			if n > 1 {
				t.Errorf("socket %s of %s (opened %s) got message %s %d times, at %v", ss.s.ID, ss.uid, ss.openedAt.Format("05.000"), id, n, at[id])
			}
		}
		for _, m := range sends {
			if !slices.Contains(members[m.chatID], ss.uid) || !ss.openedAt.Before(m.at) ||
				(!ss.closedAt.IsZero() && ss.closedAt.Before(m.ack.Add(settle))) {
				continue
			}
			expected++
			if ss.closedAt.IsZero() {
				ss.s.Wait(t, "newMessage", field("id", m.id)) // may still be on its way
			} else if got[m.id] != 1 {
				t.Errorf("closed socket of %s, open from before message %s until 5 s after its ack, got it %d times", ss.uid, m.id, got[m.id])
			}
			checked++
		}
	}
	t.Logf("%d sockets, %d messages acknowledged, %d deliveries required and checked; %d of %d operations tried again after internal, %d failed: %v",
		len(sockets), len(sends), checked, retries, ops, len(failures), failures)
	slices.Sort(dials)
	t.Logf("socket handshakes (%d): p50 %v, p99 %v, max %v", len(dials), dials[len(dials)/2], dials[len(dials)*99/100], dials[len(dials)-1])
	if len(lags) > 0 {
		slices.Sort(lags)
		t.Logf("ack to newMessage over %d deliveries: p50 %v, p99 %v, max %v; listener restarts by the watchdog: %d, %d",
			len(lags), lags[len(lags)/2], lags[len(lags)*99/100], lags[len(lags)-1], insts[0].in.Node.Restarts(), insts[1].in.Node.Restarts())
	}
	if len(failures)*50 > ops {
		t.Errorf("more than 2%% of operations failed")
	}
	// Only against a vacuous pass: how much traffic 30 s make depends on
	// the machine (sends wait on the emulator).
	if len(sends) < 60 || expected < 100 {
		t.Fatalf("too little traffic to mean anything: %d sends, %d deliveries", len(sends), expected)
	}

	for _, ss := range sockets {
		ss.s.Close()
	}
	for i, in := range insts {
		waitFor(t, fmt.Sprintf("instance %d to release users, rooms and listeners", i), func() bool {
			u, r := in.in.Node.Served()
			return u == 0 && r == 0 && in.in.Node.Listeners() == 0
		})
	}
	http.DefaultClient.CloseIdleConnections()
	waitFor(t, "goroutines back to their baseline", func() bool {
		http.DefaultClient.CloseIdleConnections() // a send answered late returns its connection to the pool
		return runtime.NumGoroutine() <= baseline
	})
}

// emitCode emits an event with an ack and returns the error code, "" when
// ok; it never fails the test itself (it runs in worker goroutines).
func emitErr(s *chattest.Socket, name, chatID string) error {
	raw, err := s.EmitRaw(name, chatID)
	if err != nil {
		return err
	}
	if string(raw) != `{"ok":true}` {
		return errors.New(string(raw))
	}
	return nil
}

// retryInternal runs op up to three times while it fails with the code
// the contract tells clients to retry, internal (a store too slow for the
// server's deadline), and counts each retry in *n under mu.
func retryInternal(mu *sync.Mutex, n *int, op func() error) error {
	for attempt := 1; ; attempt++ {
		err := op()
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), chat.EINTERNAL) {
			return err
		}
		mu.Lock()
		*n++
		mu.Unlock()
	}
}
