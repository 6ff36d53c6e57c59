package main

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
)

// probe measures the emulator's own write→listener latency in the same
// run, as the yardstick for the service's send→newMessage latency: one
// listener on this run's probe documents, and a document created at the
// send rate; latency is from before the write to the listener's change.
type probe struct {
	client *firestore.Client
	run    string

	mu      sync.Mutex // guards started and lat
	started map[string]time.Time
	lat     []time.Duration
}

func newProbe(ctx context.Context, run string) (*probe, error) {
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	if os.Getenv("FIRESTORE_EMULATOR_HOST") == "" || project == "" {
		return nil, fmt.Errorf("the probe needs FIRESTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT (dev/with-emulators.sh)")
	}
	// The servers' database (FIRESTORE_DATABASE, as cmd/server reads it).
	database := os.Getenv("FIRESTORE_DATABASE")
	if database == "" {
		database = firestore.DefaultDatabaseID
	}
	c, err := firestore.NewClientWithDatabase(ctx, project, database)
	if err != nil {
		return nil, err
	}
	return &probe{client: c, run: run, started: map[string]time.Time{}}, nil
}

// probeWindow is how long the probe writes to one collection: the
// emulator re-sends a listener's whole result set on every change, so
// the probe's listener, like the servers' (LISTENER_ROLLOVER), is
// replaced to keep that set small.
const probeWindow = 10 * time.Second

func (p *probe) collection(window int) *firestore.CollectionRef {
	return p.client.Collection(fmt.Sprintf("loadprobe_%s_%d", p.run, window))
}

// listen listens to window's collection until ctx ends; ready is closed
// with the first snapshot.
func (p *probe) listen(ctx context.Context, window int, ready chan<- struct{}) error {
	// A collection of its own: its listener needs no query (and no
	// index), and sees only the probe's documents.
	it := p.collection(window).Snapshots(ctx)
	defer it.Stop()
	first := true
	for {
		snap, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		now := time.Now()
		if first {
			first = false
			close(ready)
			continue
		}
		p.mu.Lock()
		for _, ch := range snap.Changes {
			if ch.Kind != firestore.DocumentAdded {
				continue
			}
			if at, ok := p.started[ch.Doc.Ref.ID]; ok {
				p.lat = append(p.lat, now.Sub(at))
				delete(p.started, ch.Doc.Ref.ID)
			}
		}
		p.mu.Unlock()
	}
}

// write creates probe document seq in window's collection.
func (p *probe) write(ctx context.Context, window, seq int) {
	id := fmt.Sprintf("%s-%06d", p.run, seq)
	p.mu.Lock()
	p.started[id] = time.Now()
	p.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _ = p.collection(window).Doc(id).Create(wctx, map[string]any{"seq": seq})
}

// drive writes rate documents a second for d, each window's to a new
// collection whose listener started (and had its first snapshot) before
// the window's first write; the previous listener stops a window later.
func (p *probe) drive(ctx context.Context, rate float64, d time.Duration) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func(window int) (context.CancelFunc, error) {
		lctx, cancel := context.WithCancel(ctx)
		ready := make(chan struct{})
		errc := make(chan error, 1)
		wg.Add(1)
		go func() { defer wg.Done(); errc <- p.listen(lctx, window, ready) }()
		select {
		case <-ready:
			return cancel, nil
		case err := <-errc:
			cancel()
			return nil, fmt.Errorf("probe listener: %w", err)
		case <-time.After(30 * time.Second):
			cancel()
			return nil, fmt.Errorf("probe listener: no first snapshot in 30 s")
		}
	}
	window := 0
	stopCur, err := start(window)
	if err != nil {
		return err
	}
	stopPrev := func() {}
	defer func() { stopPrev(); stopCur() }()
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	end := time.After(d)
	windowStart := time.Now()
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			return nil
		case <-end:
			time.Sleep(2 * time.Second) // the last writes' changes
			return nil
		case <-tick.C:
		}
		if time.Since(windowStart) > probeWindow {
			next, err := start(window + 1)
			if err != nil {
				return err
			}
			stopPrev()
			stopPrev, stopCur = stopCur, next
			window++
			windowStart = time.Now()
		}
		wg.Add(1)
		go func(window, seq int) { defer wg.Done(); p.write(ctx, window, seq) }(window, seq)
	}
}

func (p *probe) latencies() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.lat...)
}
