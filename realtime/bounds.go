package realtime

import (
	"context"
	"maps"
	"slices"

	"github.com/chatapp/chat"
)

// What the engine keeps is bounded (Options.MaxPendingEvents, ReadFailFor,
// MaxMailbox). A user whose events cannot be kept is resynced: their queue
// is dropped, they are taken out of the running listeners' keys so that
// the next generation gives them a fresh baseline, and the sink is told to
// disconnect their sockets here; their clients reconnect and catch up from
// storage (the contract's `?after=`), so nothing is lost, only delayed.

// newQueue is a fresh queue for a served user, waiting for its baseline.
func (sh *shard) newQueue(uid string) *userQueue {
	ctx, cancel := context.WithCancel(sh.n.ctx)
	return &userQueue{uid: uid, feed: newUserFeed(uid), ctx: ctx, cancel: cancel}
}

// resync drops what the shard holds for uid and has its sockets here
// disconnected. err, if any, is the failure that caused it.
func (sh *shard) resync(uid, reason string, err error) {
	old := sh.queues[uid]
	if old == nil {
		return
	}
	old.cancel()
	sh.queues[uid] = sh.newQueue(uid)
	for _, g := range []*generation{sh.gen, sh.next} {
		if g != nil {
			delete(g.keys, uid)
		}
	}
	sh.dirty = true
	sh.n.resyncs.Add(1)
	attrs := []any{"user", uid, "reason", reason, "pending", len(old.inbox)}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	sh.n.log.Warn("user's events dropped; disconnecting their sockets to resync", attrs...)
	sh.n.sink.Deliver(chat.Event{Kind: chat.EventResync, UserID: uid})
}

// behind handles shed listener batches: what they carried is lost to this
// shard, so every served user resyncs and the listeners start over (their
// first batches rebuild rooms' typing state).
func (sh *shard) behind() {
	sh.n.log.Warn("shard fell behind its listeners; batches shed", "users", len(sh.queues), "rooms", len(sh.rooms))
	for _, uid := range slices.Sorted(maps.Keys(sh.queues)) {
		sh.resync(uid, "engine behind", nil)
	}
	for _, g := range []*generation{sh.gen, sh.next} {
		if g != nil {
			clear(g.keys)
		}
	}
	sh.dirty = true
}
