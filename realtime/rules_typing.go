package realtime

import (
	"maps"
	"slices"
	"time"

	"github.com/chatapp/chat"
)

// roomFeed is a chat whose room has sockets on this instance: who types in
// it, as this instance last announced. Pure state: its shard owns it and
// feeds it entries and the time.
type roomFeed struct {
	chatID string
	fresh  bool // first typing batch still to come: a baseline, not news
	typing map[string]TypingEntry
	reads  receiptFeed
}

func newRoomFeed(chatID string) *roomFeed {
	return &roomFeed{chatID: chatID, fresh: true, typing: map[string]TypingEntry{},
		reads: receiptFeed{chatID: chatID, fresh: true, readers: map[string]*reader{}}}
}

// seen records a live typing entry; a typist new to the room is announced.
// An entry already past its Until is an end of typing.
func (r *roomFeed) seen(e TypingEntry, now time.Time) []chat.Event {
	if !e.Until.After(now) {
		return r.gone(e.Typing.UserID)
	}
	old, was := r.typing[e.Typing.UserID]
	r.typing[e.Typing.UserID] = e
	t := e.Typing
	start := chat.Event{Kind: chat.EventTyping, ChatID: r.chatID, Typing: &t, Except: e.Except}
	switch {
	case !was:
		return []chat.Event{start}
	case !slices.Equal(old.Except, e.Except):
		// Who may see it changed (a block or unblock while typing): an
		// end for those who saw it, a start for those who now may.
		ot := old.Typing
		return []chat.Event{{Kind: chat.EventStopTyping, ChatID: r.chatID, Typing: &ot, Except: old.Except}, start}
	}
	return nil
}

// gone ends uid's typing.
func (r *roomFeed) gone(uid string) []chat.Event {
	e, ok := r.typing[uid]
	if !ok {
		return nil
	}
	delete(r.typing, uid)
	t := e.Typing
	return []chat.Event{{Kind: chat.EventStopTyping, ChatID: r.chatID, Typing: &t, Except: e.Except}}
}

// reconcile takes the whole set of the room's typing entries (a listener's
// first batch): a baseline for a new room, else the changes missed while
// the listener was replaced.
func (r *roomFeed) reconcile(set map[string]TypingEntry, now time.Time) []chat.Event {
	if r.fresh {
		r.fresh = false
		for uid, e := range set {
			if e.Until.After(now) {
				r.typing[uid] = e
			}
		}
		return nil
	}
	var evs []chat.Event
	for _, uid := range slices.Sorted(maps.Keys(r.typing)) {
		if _, ok := set[uid]; !ok {
			evs = append(evs, r.gone(uid)...)
		}
	}
	for _, uid := range slices.Sorted(maps.Keys(set)) {
		evs = append(evs, r.seen(set[uid], now)...)
	}
	return evs
}

// expire ends every typing whose Until has passed: an entry expires on
// every instance at its time whatever its writer does, so a typist whose
// instance died stops typing everywhere.
func (r *roomFeed) expire(now time.Time) []chat.Event {
	var evs []chat.Event
	for _, uid := range slices.Sorted(maps.Keys(r.typing)) {
		if !r.typing[uid].Until.After(now) {
			evs = append(evs, r.gone(uid)...)
		}
	}
	return evs
}

// next returns when the room has timed work next: the earliest Until,
// or a held receipt's turn; zero when there is none.
func (r *roomFeed) next() time.Time {
	t := r.reads.next()
	for _, e := range r.typing {
		if t.IsZero() || e.Until.Before(t) {
			t = e.Until
		}
	}
	return t
}
