package realtime

import (
	"context"
	"maps"
	"slices"
	"time"
)

// generation is one start of the shard's listeners over a set of keys.
//
// Generations replace each other make-before-break: a new one (sh.next)
// starts while the running one (sh.gen) goes on delivering messages, and
// its batches wait in its buffer until every kind has had its first; then
// it is promoted: the old one stops and the buffer is applied in arrival
// order. Messages may come from both meanwhile: the rules drop repeats by
// seq. The old generation stops its other listeners when the new one
// starts: memberships and typing are snapshots that must not go back in
// time, and presence can wait; their changes come with the new one's
// first batch, as a restart always made them wait. Every listener costs
// the store work on every write, so the overlap is kept to messages.
type generation struct {
	id      int64
	keys    map[string]bool
	kinds   []Kind
	stops   map[Kind]context.CancelFunc // the kinds still listening
	started time.Time
	waiting map[Kind]bool      // kinds whose first batch has not arrived
	pending map[Kind]bool      // kinds whose first batch is not applied
	beats   map[Kind]time.Time // last heartbeat per kind
	buffer  []batchMsg         // batches that arrived before promotion
	// chainStart is when the first of the starting generations that
	// replaced one another started.
	chainStart time.Time
	// held keeps messages batches until the members' first batch is
	// applied, so a new user's memberships are known before their messages.
	held []Batch
	// retainedDocs and retainedBytes estimate the messages listener's
	// result set, which the client library keeps in memory.
	retainedDocs, retainedBytes int
}

func newGeneration(id int64, keys []string, kinds []Kind, now time.Time) *generation {
	g := &generation{id: id, keys: map[string]bool{}, kinds: kinds, stops: map[Kind]context.CancelFunc{}, started: now, chainStart: now,
		waiting: map[Kind]bool{}, pending: map[Kind]bool{}, beats: map[Kind]time.Time{}}
	for _, k := range keys {
		g.keys[k] = true
	}
	for _, kind := range kinds {
		g.waiting[kind], g.pending[kind] = true, true
	}
	return g
}

// stop ends the generation's listeners of the given kinds (all if none).
func (g *generation) stop(kinds ...Kind) {
	if len(kinds) == 0 {
		kinds = slices.Collect(maps.Keys(g.stops))
	}
	for _, k := range kinds {
		if cancel := g.stops[k]; cancel != nil {
			cancel()
			delete(g.stops, k)
		}
	}
}

// retain counts a messages batch's documents against the listener's bound.
func (g *generation) retain(b Batch) {
	for _, c := range b.Changes {
		if c.Posted != nil && !c.Removed {
			g.retainedDocs++
			g.retainedBytes += retainedSize(c.Posted)
		}
	}
}

// due says why the running generation should be replaced now, "" if it
// should not: rollover, its retained set past the bounds, or a kind it
// still listens to without a heartbeat for StallTimeout.
func (g *generation) due(o Options, now time.Time) string {
	switch {
	case now.Sub(g.started) > o.Rollover:
		return "rollover"
	case (g.retainedDocs > o.MaxRetainedDocs || g.retainedBytes > o.MaxRetainedBytes) && now.Sub(g.started) > 2*o.Margin:
		return "retained past its bound"
	}
	for _, k := range g.kinds {
		last := g.beats[k]
		if last.Before(g.started) {
			last = g.started
		}
		if _, live := g.stops[k]; live && now.Sub(last) > o.StallTimeout {
			return "stalled: no heartbeat on " + k.String()
		}
	}
	return ""
}
