package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// reactions counts the reactions a run made, by answer status.
type reactions struct {
	mu       sync.Mutex  // guards statuses
	statuses map[int]int // 0 = no answer
}

// reactLoop has the first n members of c put and take back a 👍 on the
// chat's newest acknowledged message, rate times a second each, for d:
// the reactions a busy chat takes while its sends go on
// (docs/performance.md).
func (t *traffic) reactLoop(ctx context.Context, c *chatRec, n int, rate float64, d time.Duration) *reactions {
	out := &reactions{statuses: map[int]int{}}
	if n <= 0 || rate <= 0 {
		return out
	}
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for _, u := range c.members[:min(n, len(c.members))] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each tick's call runs on its own, so the offered rate holds
			// whatever the answers' latency; PUT and DELETE alternate (a
			// DELETE of what is not there is answered 204 too).
			tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
			defer tick.Stop()
			var calls sync.WaitGroup
			defer calls.Wait()
			for n := 0; time.Now().Before(stop); n++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				mid := t.newestAcked(c)
				if mid == "" {
					continue
				}
				method := http.MethodPut
				if n%2 == 1 {
					method = http.MethodDelete
				}
				path := fmt.Sprintf("%s/api/chats/%s/messages/%s/reactions/%s", t.insts[u%len(t.insts)].url, c.id, mid, url.PathEscape("👍"))
				calls.Go(func() {
					status, _ := call(ctx, method, path, t.users[u].Token, nil, nil, http.StatusNoContent)
					out.mu.Lock()
					out.statuses[status]++
					out.mu.Unlock()
				})
			}
		}()
	}
	wg.Wait()
	return out
}

// newestAcked is the id of c's newest acknowledged send, "" before any.
func (t *traffic) newestAcked(c *chatRec) string {
	var best *sent
	t.sends.Range(func(_, v any) bool {
		s := v.(*sent)
		if s.chat == c && s.acked.Load() && (best == nil || s.start.After(best.start)) {
			best = s
		}
		return true
	})
	if best == nil {
		return ""
	}
	return best.id
}
