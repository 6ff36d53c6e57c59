package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/chatapp/chat/sioclient"
)

// sock is one connected device.
type sock struct {
	uid  string
	inst int
	conn *sioclient.Conn

	mu  sync.Mutex     // guards got
	got map[string]int // message id → times delivered

	gone bool // closed by the server before the tool closed it (see cut)
}

// sent is one send the tool made.
type sent struct {
	chat  *chatRec
	inst  int       // the instance the REST call went to
	start time.Time // before the request was written
	id    string    // the message id, once acknowledged
	acked atomic.Bool
}

// chatRec is a chat of the run and its members.
type chatRec struct {
	id      string
	members []int // user indexes
}

// traffic holds the run's sockets, sends and delivery latencies.
type traffic struct {
	insts []*instance
	users []user
	run   string

	socks  []*sock
	byUser map[string][]*sock

	sends sync.Map // clientMessageId → *sent

	mu        sync.Mutex      // guards the fields below
	cross     []time.Duration // send start → newMessage on an instance other than the send's
	all       []time.Duration // every delivery
	delivered int
	statuses  map[int]int // REST send statuses; 0 = no answer
	redials   int         // handshakes retried
	errs      []string
}

func newTraffic(insts []*instance, users []user, run string) *traffic {
	return &traffic{insts: insts, users: users, run: run, byUser: map[string][]*sock{}, statuses: map[int]int{}}
}

// onEvent records a newMessage for s (called on its read goroutine).
func (t *traffic) onEvent(s *sock, name string, data json.RawMessage) {
	if name != "newMessage" {
		return
	}
	now := time.Now()
	var m struct{ ID, ClientMessageID string }
	if json.Unmarshal(data, &m) != nil {
		return
	}
	s.mu.Lock()
	s.got[m.ID]++
	s.mu.Unlock()
	v, ok := t.sends.Load(m.ClientMessageID)
	if !ok {
		return
	}
	snd := v.(*sent)
	d := now.Sub(snd.start)
	t.mu.Lock()
	t.delivered++
	t.all = append(t.all, d)
	if s.inst != snd.inst {
		t.cross = append(t.cross, d)
	}
	t.mu.Unlock()
}

// dial opens one socket of user u on instance i.
func (t *traffic) dial(ctx context.Context, u, i int, keep bool) (*sock, error) {
	s := &sock{uid: t.users[u].UID, inst: i, got: map[string]int{}}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := sioclient.Dial(dctx, t.insts[i].url, map[string]any{"token": t.users[u].Token}, sioclient.Options{
		BufferSize: 1024,
		OnEvent:    func(name string, data json.RawMessage) { t.onEvent(s, name, data) },
	})
	if err != nil {
		return nil, err
	}
	s.conn = conn
	if keep {
		t.mu.Lock()
		t.socks = append(t.socks, s)
		t.byUser[s.uid] = append(t.byUser[s.uid], s)
		t.mu.Unlock()
	}
	return s, nil
}

// connectAll opens devices sockets for each of the first users users,
// device d of user u on instance (u+d) mod N, conc handshakes at a time.
func (t *traffic) connectAll(ctx context.Context, users, devices, conc int) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for u := range users {
		for d := range devices {
			g.Go(func() error {
				// A refused or cut handshake is retried, as clients do, up
				// to 3 times; the retries are reported.
				var err error
				for attempt := range 4 {
					if attempt > 0 {
						t.mu.Lock()
						t.redials++
						if len(t.errs) < 5 {
							t.errs = append(t.errs, "handshake retried: "+err.Error())
						}
						t.mu.Unlock()
						time.Sleep(time.Duration(attempt) * time.Second)
					}
					if _, err = t.dial(gctx, u, (u+d)%len(t.insts), true); err == nil {
						return nil
					}
				}
				return fmt.Errorf("dial user %d device %d: %w", u, d, err)
			})
		}
	}
	return g.Wait()
}

// closeAll disconnects every kept socket.
func (t *traffic) closeAll() {
	for _, s := range t.socks {
		s.conn.Close()
	}
}

// makeChats creates the run's groups (size members, consecutive users of
// the first n, wrapping) and direct chats (user 2k with 2k+1), each by its
// first member.
func (t *traffic) makeChats(ctx context.Context, n, groups, size, directs int) ([]*chatRec, error) {
	var chats []*chatRec
	for g := range groups {
		var members []int
		for j := range size {
			members = append(members, (g*size+j)%n)
		}
		chats = append(chats, &chatRec{members: members})
	}
	for d := range directs {
		chats = append(chats, &chatRec{members: []int{(2 * d) % n, (2*d + 1) % n}})
	}
	eg, gctx := errgroup.WithContext(ctx)
	eg.SetLimit(16)
	for i, c := range chats {
		eg.Go(func() error {
			var ids []string
			for _, m := range c.members[1:] {
				ids = append(ids, t.users[m].UID)
			}
			body := map[string]any{"userIds": ids, "isGroup": i < groups}
			if i < groups {
				body["name"] = fmt.Sprintf("load %d", i)
			}
			var r struct{ ID string }
			if _, err := call(gctx, "POST", t.insts[c.members[0]%len(t.insts)].url+"/api/chats", t.users[c.members[0]].Token, body, &r, 0); err != nil {
				return err
			}
			c.id = r.ID
			return nil
		})
	}
	return chats, eg.Wait()
}

// send posts one message as a random member of c to that member's home
// instance, recording when it started and how it ended.
func (t *traffic) send(ctx context.Context, c *chatRec, seq int, rng *rand.Rand) {
	u := c.members[rng.IntN(len(c.members))]
	inst := u % len(t.insts)
	cmid := fmt.Sprintf("%s-%d", t.run, seq)
	snd := &sent{chat: c, inst: inst, start: time.Now()}
	t.sends.Store(cmid, snd)
	var m struct{ ID string }
	req := map[string]any{"content": fmt.Sprintf("load message %d", seq), "clientMessageId": cmid}
	status, err := call(ctx, "POST", t.insts[inst].url+"/api/chats/"+c.id+"/messages", t.users[u].Token, req, &m, http.StatusCreated)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.statuses[status]++
	if err != nil {
		if len(t.errs) < 5 && status != http.StatusTooManyRequests {
			t.errs = append(t.errs, err.Error())
		}
		return
	}
	snd.id = m.ID
	snd.acked.Store(true)
}

// sendLoop sends rate messages a second over chats (round robin) for d,
// at most maxInFlight at once; a tick with no free slot is counted as
// missed, so the offered rate is honest.
func (t *traffic) sendLoop(ctx context.Context, chats []*chatRec, rate float64, d time.Duration, progress func(sent int)) (offered, missed int) {
	const maxInFlight = 512
	slots := make(chan struct{}, maxInFlight)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	stop := time.After(d)
	report := time.NewTicker(time.Second)
	defer report.Stop()
	rng := rand.New(rand.NewPCG(1, 2))
	var wg sync.WaitGroup
	for seq := 0; ; {
		select {
		case <-ctx.Done():
			wg.Wait()
			return offered, missed
		case <-stop:
			wg.Wait()
			return offered, missed
		case <-report.C:
			progress(seq)
		case <-tick.C:
			offered++
			select {
			case slots <- struct{}{}:
			default:
				missed++
				continue
			}
			c := chats[seq%len(chats)]
			seq++
			r := rand.New(rand.NewPCG(rng.Uint64(), 0))
			wg.Add(1)
			go func(seq int) {
				defer wg.Done()
				defer func() { <-slots }()
				t.send(ctx, c, seq, r)
			}(seq)
		}
	}
}

// outcome is the exactly-once check over every acknowledged send and
// every socket of every member of its chat.
type outcome struct {
	acked, expected, delivered, lost, duplicated int
	recipients                                   int // (message, member) pairs: user-level deliveries
}

// cut lists the kept sockets the server closed before the tool did, with
// why: their deliveries are not owed (a real client would reconnect and
// catch up over REST), and the report counts them apart.
// The users are counted too: all of one user's sockets cut at once points
// at the user (its token, its limit), a few users' at the network.
func (t *traffic) cut() (n, users int, reasons map[string]int) {
	reasons = map[string]int{}
	uids := map[string]bool{}
	for _, s := range t.socks {
		select {
		case <-s.conn.Done():
			s.gone = true
			n++
			uids[s.uid] = true
			reasons[s.conn.Reason()]++
		default:
		}
	}
	return n, len(uids), reasons
}

func (t *traffic) check() outcome {
	var o outcome
	t.sends.Range(func(_, v any) bool {
		snd := v.(*sent)
		if !snd.acked.Load() {
			return true
		}
		o.acked++
		o.recipients += len(snd.chat.members)
		for _, u := range snd.chat.members {
			for _, s := range t.byUser[t.users[u].UID] {
				if s.gone {
					continue
				}
				o.expected++
				s.mu.Lock()
				n := s.got[snd.id]
				s.mu.Unlock()
				switch {
				case n == 0:
					o.lost++
				case n > 1:
					o.duplicated++
					o.delivered++
				default:
					o.delivered++
				}
			}
		}
		return true
	})
	return o
}

func (t *traffic) deliveredCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.delivered
}

// churn runs cycles connect/close cycles of pool users on instance 0 at
// rate per second, 64 at most at once, counting failures.
func (t *traffic) churn(ctx context.Context, pool []int, cycles int, rate float64, progress func(done int)) (failed int) {
	var done, bad atomic.Int64
	slots := make(chan struct{}, 64)
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	report := time.NewTicker(time.Second)
	defer report.Stop()
	var wg sync.WaitGroup
	for i := 0; i < cycles; {
		select {
		case <-ctx.Done():
			wg.Wait()
			return int(bad.Load())
		case <-report.C:
			progress(int(done.Load()))
		case <-tick.C:
			slots <- struct{}{}
			u := pool[i%len(pool)]
			i++
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				s, err := t.dial(ctx, u, 0, false)
				if err != nil {
					bad.Add(1)
				} else {
					s.conn.Close()
				}
				done.Add(1)
			}()
		}
	}
	wg.Wait()
	return int(bad.Load())
}
