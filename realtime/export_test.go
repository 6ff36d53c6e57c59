package realtime

import (
	"time"

	"github.com/chatapp/chat"
)

// The delivery rules are unexported: the engine is their only caller. These
// aliases let the external tests drive them as the pure functions they are.

type (
	UserFeed    = userFeed
	Input       = input
	Read        = read
	ReadResults = readResults
	SeqResult   = seqResult
	RoomFeed    = roomFeed
)

const (
	ReadChat = readChat
	ReadGap  = readGap
	ReadSeq  = readSeq
)

func NewUserFeed(uid string) *UserFeed { return newUserFeed(uid, time.Time{}) }
func NewUserFeedSince(uid string, since time.Time) *UserFeed {
	return newUserFeed(uid, since)
}
func NewRoomFeed(chatID string) *RoomFeed { return newRoomFeed(chatID) }

func (u *userFeed) Step(in Input, got ReadResults) ([]chat.Event, []Read) { return u.step(in, got) }
func (u *userFeed) LastSeq(chatID string) int64 {
	if ms := u.chats[chatID]; ms != nil {
		return ms.lastSeq
	}
	return -1
}

func MemberInput(m Membership, removed bool) Input { return input{member: &m, removed: removed} }
func MemberSetInput(ms ...Membership) Input {
	set := map[string]Membership{}
	for _, m := range ms {
		set[m.ChatID] = m
	}
	return input{memberSet: set}
}
func PostedInput(m *chat.Message, baseline bool) Input { return input{posted: m, baseline: baseline} }
func ChangedInput(m *chat.Message, baseline, last bool) Input {
	return input{posted: m, baseline: baseline, changed: true, last: last}
}
func ChatRead(chatID string) Read { return read{kind: readChat, chatID: chatID} }
func GapRead(chatID string, from, to int64) Read {
	return read{kind: readGap, chatID: chatID, from: from, to: to}
}
func SeqRead(chatID string) Read { return read{kind: readSeq, chatID: chatID} }

func (r *roomFeed) Seen(e TypingEntry, now time.Time) []chat.Event { return r.seen(e, now) }
func (r *roomFeed) Gone(uid string) []chat.Event                   { return r.gone(uid) }
func (r *roomFeed) Reconcile(set map[string]TypingEntry, now time.Time) []chat.Event {
	return r.reconcile(set, now)
}
func (r *roomFeed) Expire(now time.Time) []chat.Event { return r.expire(now) }
func (r *roomFeed) Next() time.Time                   { return r.next() }

func Seq(n int64, found bool) SeqResult { return seqResult{seq: n, found: found} }

func FlipInput(f Flip) Input { return input{flip: &f} }

func (r *roomFeed) Receipt(rc Receipt, now time.Time) []chat.Event { return r.reads.seen(rc, now) }
func (r *roomFeed) ReceiptBaseline(set []Receipt, now time.Time) []chat.Event {
	return r.reads.baseline(set, now)
}
func (r *roomFeed) FlushReceipts(now time.Time) []chat.Event { return r.reads.flush(now) }
