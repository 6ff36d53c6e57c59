package realtime

import (
	"maps"
	"slices"
	"time"

	"github.com/chatapp/chat"
)

// ReceiptEvery is the least time between two messagesRead of one reader
// in one chat on an instance: a client that reads as messages arrive
// moves its marker with every message of a busy chat.
const ReceiptEvery = time.Second

// receiptFeed is the read markers of a room's members as this instance
// last announced them. Pure state, owned by its shard.
type receiptFeed struct {
	chatID  string
	fresh   bool // first receipts batch still to come: a baseline
	readers map[string]*reader
}

// reader is one member's receipts in the room: the latest one seen, when
// one was last sent, and the one held back until its turn (the latest
// wins: none is lost at the end of a burst).
type reader struct {
	at   time.Time // the latest receipt seen (storage time)
	sent time.Time // when one was last emitted (local time)
	held *Receipt
}

// baseline records the receipts of a first batch: what the room's
// clients read with the chat, not news. A restarted listener's first
// batch is news where it is newer (reconcile).
func (f *receiptFeed) baseline(set []Receipt, now time.Time) []chat.Event {
	if !f.fresh {
		var evs []chat.Event
		for _, r := range set {
			evs = append(evs, f.seen(r, now)...)
		}
		return evs
	}
	f.fresh = false
	for _, r := range set {
		rd := f.reader(r.Mark.UserID)
		if r.At.After(rd.at) {
			rd.at = r.At
		}
	}
	return nil
}

// seen applies a receipt: emitted now unless one of the same reader went
// out less than ReceiptEvery ago, then held for its turn.
func (f *receiptFeed) seen(r Receipt, now time.Time) []chat.Event {
	rd := f.reader(r.Mark.UserID)
	if !r.At.After(rd.at) {
		return nil // seen already (a restart looks back), or older
	}
	rd.at = r.At
	if now.Sub(rd.sent) < ReceiptEvery {
		rd.held = &r
		return nil
	}
	rd.sent, rd.held = now, nil
	return []chat.Event{receiptEvent(r)}
}

// flush emits the held receipts whose turn has come.
func (f *receiptFeed) flush(now time.Time) []chat.Event {
	var evs []chat.Event
	for _, uid := range slices.Sorted(maps.Keys(f.readers)) {
		rd := f.readers[uid]
		if rd.held != nil && now.Sub(rd.sent) >= ReceiptEvery {
			evs = append(evs, receiptEvent(*rd.held))
			rd.sent, rd.held = now, nil
		}
	}
	return evs
}

// next is when the earliest held receipt is due, zero if none.
func (f *receiptFeed) next() time.Time {
	var t time.Time
	for _, rd := range f.readers {
		if rd.held != nil {
			if due := rd.sent.Add(ReceiptEvery); t.IsZero() || due.Before(t) {
				t = due
			}
		}
	}
	return t
}

func (f *receiptFeed) reader(uid string) *reader {
	rd := f.readers[uid]
	if rd == nil {
		rd = &reader{}
		f.readers[uid] = rd
	}
	return rd
}

func receiptEvent(r Receipt) chat.Event {
	m := r.Mark
	return chat.Event{Kind: chat.EventMessagesRead, ChatID: m.ChatID, Read: &m, Except: r.Except}
}
