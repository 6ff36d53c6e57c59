package handlers

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per user and kind of request
// (golang.org/x/time/rate: a maintained, well-tested token bucket). The
// limits are the contract's floor with headroom: a user who stays under
// them is never refused. Buckets are per instance; Cloud Run's session
// affinity keeps a user's traffic mostly on one instance, and a per-user
// Firestore counter would cost a write per request.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	last    time.Time
}

type bucket struct {
	lim  *rate.Limiter
	used time.Time
}

// Limits per user: messages 10/s with bursts of 30, other requests 50/s.
var limits = map[string]struct {
	rate  rate.Limit
	burst int
}{
	"message": {10, 30},
	"other":   {50, 100},
}

func newLimiter() *limiter { return &limiter{buckets: map[string]*bucket{}} }

// allow reports whether the user may proceed, and if not how long to wait.
func (l *limiter) allow(uid, kind string) (bool, time.Duration) {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.last) > time.Minute { // drop idle buckets, full ones only
		for k, b := range l.buckets {
			if now.Sub(b.used) > time.Minute {
				delete(l.buckets, k)
			}
		}
		l.last = now
	}
	key := kind + "\x00" + uid
	b, ok := l.buckets[key]
	if !ok {
		lim := limits[kind]
		b = &bucket{lim: rate.NewLimiter(lim.rate, lim.burst)}
		l.buckets[key] = b
	}
	b.used = now
	r := b.lim.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, time.Duration(math.Ceil(d.Seconds())) * time.Second
	}
	return true, 0
}
