package realtime

import (
	"maps"
	"slices"
	"time"
)

// roomRouter applies typing and read receipts to the chat rooms of a
// room shard.
type roomRouter struct {
	sh    *shard
	rooms map[string]*roomFeed
}

func newRoomRouter(sh *shard) *roomRouter { return &roomRouter{sh: sh, rooms: map[string]*roomFeed{}} }

func (r *roomRouter) kinds() []Kind        { return []Kind{Typing, Receipts} }
func (r *roomRouter) add(chatID string)    { r.rooms[chatID] = newRoomFeed(chatID) }
func (r *roomRouter) remove(chatID string) { delete(r.rooms, chatID) }
func (r *roomRouter) close()               {}
func (r *roomRouter) tick(now time.Time)   { r.expire(now) }

// applyReceipts applies read markers to the shard's rooms; a first batch
// is each room's baseline.
func (r *roomRouter) applyReceipts(g *generation, b Batch, first bool, now time.Time) {
	if first {
		sets := map[string][]Receipt{}
		for _, c := range b.Changes {
			if rc := c.Receipt; rc != nil && !c.Removed {
				sets[rc.Mark.ChatID] = append(sets[rc.Mark.ChatID], *rc)
			}
		}
		for _, cid := range slices.Sorted(maps.Keys(g.keys)) {
			if room := r.rooms[cid]; room != nil {
				r.sh.deliver(room.reads.baseline(sets[cid], now))
			}
		}
		return
	}
	for _, c := range b.Changes {
		rc := c.Receipt
		if rc == nil || c.Removed {
			continue
		}
		if room := r.rooms[rc.Mark.ChatID]; room != nil && !room.reads.fresh && g.keys[room.chatID] {
			r.sh.deliver(room.reads.seen(*rc, now))
		}
	}
}

// resyncAll starts every room afresh: the next generation's first batch
// reconciles what is typing now.
func (r *roomRouter) resyncAll() {
	for cid := range r.rooms {
		r.rooms[cid] = newRoomFeed(cid)
	}
}

// apply applies typing entries or receipts to the shard's rooms.
func (r *roomRouter) apply(g *generation, kind Kind, b Batch, first bool) {
	now := time.Now()
	if kind == Receipts {
		r.applyReceipts(g, b, first, now)
		return
	}
	if first {
		sets := map[string]map[string]TypingEntry{}
		for _, c := range b.Changes {
			if t := c.Typing; t != nil && !c.Removed {
				if sets[t.Typing.ChatID] == nil {
					sets[t.Typing.ChatID] = map[string]TypingEntry{}
				}
				sets[t.Typing.ChatID][t.Typing.UserID] = *t
			}
		}
		for _, cid := range slices.Sorted(maps.Keys(g.keys)) {
			if room := r.rooms[cid]; room != nil {
				r.sh.deliver(room.reconcile(sets[cid], now))
			}
		}
		return
	}
	for _, c := range b.Changes {
		t := c.Typing
		if t == nil {
			continue
		}
		room := r.rooms[t.Typing.ChatID]
		if room == nil || room.fresh || !g.keys[room.chatID] {
			continue
		}
		if c.Removed {
			r.sh.deliver(room.gone(t.Typing.UserID))
		} else {
			r.sh.deliver(room.seen(*t, now))
		}
	}
}

func (r *roomRouter) expire(now time.Time) {
	for _, cid := range slices.Sorted(maps.Keys(r.rooms)) {
		r.sh.deliver(r.rooms[cid].expire(now))
		r.sh.deliver(r.rooms[cid].reads.flush(now))
	}
}

func (r *roomRouter) due() time.Time {
	var t time.Time
	for _, room := range r.rooms {
		if nx := room.next(); !nx.IsZero() && (t.IsZero() || nx.Before(t)) {
			t = nx
		}
	}
	return t
}
