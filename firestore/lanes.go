package firestore

import (
	"context"
	"sync"
)

// txAttempts is how often a send whose chat moved on between its read and
// its write is tried before the request fails: several instances may write
// one chat at once.
const txAttempts = 12

// lanes serialises work per key within the process: one goroutine at a
// time per key, the others waiting in line (or until their context ends).
type lanes struct {
	mu sync.Mutex
	m  map[string]*lane
}

type lane struct {
	ch    chan struct{}
	users int
}

func newLanes() *lanes { return &lanes{m: map[string]*lane{}} }

func (l *lanes) acquire(ctx context.Context, key string) (func(), error) {
	l.mu.Lock()
	ln := l.m[key]
	if ln == nil {
		ln = &lane{ch: make(chan struct{}, 1)}
		l.m[key] = ln
	}
	ln.users++
	l.mu.Unlock()
	done := func() {
		l.mu.Lock()
		if ln.users--; ln.users == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case ln.ch <- struct{}{}:
		return func() { <-ln.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, ctx.Err()
	}
}
