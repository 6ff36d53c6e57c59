package realtime

import "time"

// router is what a shard delivers for: the events of its users
// (userRouter) or the typing of its chat rooms (roomRouter). The shard
// owns the listeners and their generations; the router owns what the
// batches are applied to. Both run on the shard's goroutine only.
type router interface {
	// kinds are the listeners each generation starts over the keys.
	kinds() []Kind
	// add serves a key placed in the shard, from the next generation's
	// baseline; remove stops serving it.
	add(key string)
	remove(key string)
	// apply applies a batch of the running generation g; first marks the
	// generation's first batch of that kind (the baseline).
	apply(g *generation, kind Kind, b Batch, first bool)
	// resyncAll drops what is kept for every key: batches were shed.
	resyncAll()
	// due is when timed work is next due (zero: none); tick does it.
	due() time.Time
	tick(now time.Time)
	// close ends the router's reads: the node is closing.
	close()
}
