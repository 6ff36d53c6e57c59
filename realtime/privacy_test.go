package realtime_test

import (
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/realtime"
)

// TestBlockNotices: a block or unblock between the user and another is one
// presence of the other, told once; flips of the other written before a
// block are not told after it.
func TestBlockNotices(t *testing.T) {
	seen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	notice := func(kind string, at int, bobVersion int64, online bool) realtime.Input {
		p := chat.Presence{UserID: "bob", Online: online}
		if online {
			p.LastSeen = &seen
		}
		return realtime.FlipInput(realtime.Flip{Notice: kind, Audience: []string{"bob", me}, At: t0.Add(time.Duration(at) * time.Second),
			Peers: map[string]realtime.Peer{"bob": {Presence: p, Version: bobVersion}, me: {Presence: chat.Presence{UserID: me}, Version: 1}}})
	}
	flip := func(v int64) realtime.Input {
		return realtime.FlipInput(realtime.Flip{Presence: chat.Presence{UserID: "bob", Online: true, LastSeen: &seen}, Version: v})
	}
	u := realtime.NewUserFeed(me)
	for _, tc := range []struct {
		name   string
		in     realtime.Input
		online []bool // the presence events' online, in order
	}{
		{"bob's flip", flip(4), []bool{true}},
		{"block: bob reads offline", notice("block", 1, 5, false), []bool{false}},
		{"the same notice again (a restart looks back)", notice("block", 1, 5, false), nil},
		{"a flip written before the block, delivered after it", flip(5), nil},
		{"unblock: bob as he is", notice("unblock", 2, 5, true), []bool{true}},
		{"bob's next flip", flip(6), []bool{true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, need := u.Step(tc.in, nil)
			if need != nil || len(evs) != len(tc.online) {
				t.Fatalf("events %+v, reads %v; want %d", evs, need, len(tc.online))
			}
			for i, e := range evs {
				if e.Kind != chat.EventPresence || e.UserID != me || e.Presence.UserID != "bob" || e.Presence.Online != tc.online[i] {
					t.Fatalf("event %+v", e)
				}
				if !e.Presence.Online && e.Presence.LastSeen != nil {
					t.Fatalf("a blocked user's lastSeen shown: %v", e.Presence.LastSeen)
				}
			}
		})
	}
}

// TestMuteRule: a change of the user's mute of a chat is chatMuted to them;
// other membership changes are not, and the baseline tells nothing.
func TestMuteRule(t *testing.T) {
	until := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	u := realtime.NewUserFeed(me)
	if evs, _ := u.Step(realtime.MemberSetInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 1, MetaVersion: 1, MutedUntil: &until}), nil); len(evs) != 0 {
		t.Fatalf("baseline told %v", describe(evs))
	}
	later := until.Add(time.Hour)
	for _, tc := range []struct {
		name string
		mute *time.Time
		want *time.Time // nil with told false: no event
		told bool
	}{
		{"unchanged", &until, nil, false},
		{"muted longer", &later, &later, true},
		{"unmuted", nil, nil, true},
		{"still unmuted", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := u.Step(realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 1, MetaVersion: 1, MutedUntil: tc.mute}, false), nil)
			if !tc.told {
				if len(evs) != 0 {
					t.Fatalf("told %v", describe(evs))
				}
				return
			}
			if len(evs) != 1 || evs[0].Kind != chat.EventChatMuted || evs[0].Mute.ChatID != "c" ||
				(tc.want == nil) != (evs[0].Mute.Until == nil) || (tc.want != nil && !tc.want.Equal(*evs[0].Mute.Until)) {
				t.Fatalf("events %+v", evs)
			}
		})
	}
}

// TestReceiptThrottle: at most one messagesRead per reader and chat each
// ReceiptEvery; the latest of a burst goes out at its turn, none after it
// is lost, and repeats are dropped.
func TestReceiptThrottle(t *testing.T) {
	r := realtime.NewRoomFeed("c")
	rc := func(uid string, n int) realtime.Receipt {
		at := t0.Add(time.Duration(n) * time.Millisecond)
		return realtime.Receipt{At: at, Except: []string{"eve"},
			Mark: chat.ReadMark{ChatID: "c", UserID: uid, LastReadMessageID: string(rune('a' + n)), LastReadAt: &at}}
	}
	now := t0.Add(time.Hour)
	if evs := r.ReceiptBaseline([]realtime.Receipt{rc("bob", 0)}, now); len(evs) != 0 {
		t.Fatalf("baseline told %d", len(evs))
	}
	var got []chat.Event
	for i := 1; i <= 20; i++ { // a burst of 20 reads within 200 ms
		got = append(got, r.Receipt(rc("bob", i), now.Add(time.Duration(i)*10*time.Millisecond))...)
	}
	got = append(got, r.Receipt(rc("ann", 1), now)...) // another reader is not held back by bob
	if len(got) != 2 || got[0].Read.LastReadMessageID != string(rune('a'+1)) || got[1].Read.UserID != "ann" {
		t.Fatalf("burst gave %+v", got)
	}
	if next := r.Next(); next.IsZero() || next.After(now.Add(realtime.ReceiptEvery+20*time.Millisecond)) {
		t.Fatalf("held receipt due %v", next)
	}
	if evs := r.FlushReceipts(now.Add(500 * time.Millisecond)); len(evs) != 0 {
		t.Fatalf("flushed before its turn: %d", len(evs))
	}
	evs := r.FlushReceipts(now.Add(2 * time.Second))
	if len(evs) != 1 || evs[0].Kind != chat.EventMessagesRead || evs[0].Read.LastReadMessageID != string(rune('a'+20)) ||
		len(evs[0].Except) != 1 || evs[0].Except[0] != "eve" {
		t.Fatalf("end of burst gave %+v", evs)
	}
	if evs := r.Receipt(rc("bob", 20), now.Add(5*time.Second)); len(evs) != 0 {
		t.Fatalf("a repeat told again")
	}
	if !r.Next().IsZero() {
		t.Fatalf("nothing held, yet due %v", r.Next())
	}
}

// TestTypingVisibilityChanges: a typist whose entry is rewritten with
// other members kept from it (a block or unblock while typing) is an end
// for those who saw it and a start for those who now may.
func TestTypingVisibilityChanges(t *testing.T) {
	r := realtime.NewRoomFeed("c")
	now := t0
	entry := func(except ...string) realtime.TypingEntry {
		return realtime.TypingEntry{Typing: chat.Typing{ChatID: "c", UserID: "bob"}, Until: now.Add(time.Minute), Except: except}
	}
	if evs := r.Seen(entry("ana"), now); len(evs) != 1 || evs[0].Kind != chat.EventTyping || len(evs[0].Except) != 1 {
		t.Fatalf("start %+v", evs)
	}
	if evs := r.Seen(entry("ana"), now); len(evs) != 0 {
		t.Fatalf("a refresh told %+v", evs)
	}
	evs := r.Seen(entry(), now)
	if len(evs) != 2 || evs[0].Kind != chat.EventStopTyping || evs[0].Except[0] != "ana" || evs[1].Kind != chat.EventTyping || len(evs[1].Except) != 0 {
		t.Fatalf("unblocked while typing: %+v", evs)
	}
}

// TestAccountDeletedNotice: the notice of a deleted account disconnects
// that account's own sockets (EventAccountDeleted), and nobody else's.
func TestAccountDeletedNotice(t *testing.T) {
	gone := realtime.FlipInput(realtime.Flip{Notice: realtime.NoticeDeleted, Audience: []string{me}, At: t0})
	for _, tc := range []struct {
		name string
		feed string
		want []chat.Event
	}{
		{"the account's own feed", me, []chat.Event{{Kind: chat.EventAccountDeleted, UserID: me}}},
		{"another user's feed", "bob", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, need := realtime.NewUserFeed(tc.feed).Step(gone, nil)
			if need != nil || len(evs) != len(tc.want) || (len(evs) == 1 && (evs[0].Kind != tc.want[0].Kind || evs[0].UserID != tc.want[0].UserID)) {
				t.Fatalf("events %+v, reads %v; want %+v", evs, need, tc.want)
			}
		})
	}
}
