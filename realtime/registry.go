package realtime

import (
	"sync"
	"time"
)

// Registry counts references to keys and keeps a key a while (Linger)
// after its last release, so that a page reload or a reconnect finds what
// the key opened still running. Users, rooms and, next, presence each use
// one.
//
// Open and Close run under the registry's lock: they must neither block
// nor do I/O (the engine's only post to a shard's mailbox).
type Registry[K comparable, V any] struct {
	linger time.Duration
	open   func(K) V
	close  func(K, V)

	mu      sync.Mutex // guards entries and closed
	entries map[K]*regEntry[V]
	closed  bool
}

type regEntry[V any] struct {
	v     V
	refs  int
	timer *time.Timer // running while refs is 0: the linger
}

// NewRegistry returns a registry that calls open on a key's first
// reference and close once it has had none for linger.
func NewRegistry[K comparable, V any](linger time.Duration, open func(K) V, close func(K, V)) *Registry[K, V] {
	return &Registry[K, V]{linger: linger, open: open, close: close, entries: map[K]*regEntry[V]{}}
}

// Acquire takes a reference to k, opening it if it has none. release drops
// the reference; calling it again does nothing. ok is false once the
// registry is closed.
func (r *Registry[K, V]) Acquire(k K) (v V, release func(), ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return v, func() {}, false
	}
	e := r.entries[k]
	if e == nil {
		e = &regEntry[V]{v: r.open(k)}
		r.entries[k] = e
	}
	e.refs++
	if e.timer != nil { // back within the linger
		e.timer.Stop()
		e.timer = nil
	}
	var once sync.Once
	return e.v, func() { once.Do(func() { r.release(k, e) }) }, true
}

func (r *Registry[K, V]) release(k K, e *regEntry[V]) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.refs--; e.refs > 0 || r.closed || r.entries[k] != e {
		return
	}
	if r.linger <= 0 {
		delete(r.entries, k)
		r.close(k, e.v)
		return
	}
	e.timer = time.AfterFunc(r.linger, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.entries[k] == e && e.refs == 0 && !r.closed {
			delete(r.entries, k)
			r.close(k, e.v)
		}
	})
}

// Len counts the keys open now, lingering ones included.
func (r *Registry[K, V]) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.entries)
}

// Close stops every linger timer; later Acquires fail. Close is not called
// for the keys still open: their owner is shutting down with the registry.
func (r *Registry[K, V]) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	for _, e := range r.entries {
		if e.timer != nil {
			e.timer.Stop()
		}
	}
}
