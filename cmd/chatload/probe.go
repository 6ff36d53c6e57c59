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
	ready   chan struct{}
}

func newProbe(ctx context.Context, run string) (*probe, error) {
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	if os.Getenv("FIRESTORE_EMULATOR_HOST") == "" || project == "" {
		return nil, fmt.Errorf("the probe needs FIRESTORE_EMULATOR_HOST and GOOGLE_CLOUD_PROJECT (dev/with-emulators.sh)")
	}
	c, err := firestore.NewClient(ctx, project)
	if err != nil {
		return nil, err
	}
	return &probe{client: c, run: run, started: map[string]time.Time{}, ready: make(chan struct{})}, nil
}

// listen runs the listener until ctx ends.
func (p *probe) listen(ctx context.Context) error {
	// A collection of this run's own: its listener needs no query (and no
	// index), and sees only the probe's documents.
	it := p.client.Collection("loadprobe_" + p.run).Snapshots(ctx)
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
			close(p.ready)
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

// write creates probe document seq.
func (p *probe) write(ctx context.Context, seq int) {
	id := fmt.Sprintf("%s-%06d", p.run, seq)
	p.mu.Lock()
	p.started[id] = time.Now()
	p.mu.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _ = p.client.Collection("loadprobe_"+p.run).Doc(id).Create(wctx, map[string]any{"seq": seq})
}

// loop writes rate documents a second for d.
func (p *probe) loop(ctx context.Context, rate float64, d time.Duration) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	stop := time.After(d)
	var wg sync.WaitGroup
	defer wg.Wait()
	for seq := 0; ; seq++ {
		select {
		case <-ctx.Done():
			return
		case <-stop:
			return
		case <-tick.C:
			wg.Add(1)
			go func() { defer wg.Done(); p.write(ctx, seq) }()
		}
	}
}

func (p *probe) latencies() []time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]time.Duration(nil), p.lat...)
}
