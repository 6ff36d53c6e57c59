package realtime_test

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/realtime"
)

const me = "me"

func msg(chatID string, seq int64, sender string) *chat.Message {
	return &chat.Message{ID: fmt.Sprintf("%012d", seq), ChatID: chatID, Seq: seq, SenderID: sender, Content: "m",
		Rev: chat.Rev(fmt.Sprintf("%04d", seq)), CreatedAt: t0.Add(time.Duration(seq) * time.Second)}
}

// t0 is when test messages are sent: message n at t0 + n s.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// changed returns m edited at rev: a later change than every message sent.
func changed(m *chat.Message, rev string) *chat.Message {
	m.Rev = chat.Rev(rev)
	m.Content = "edited"
	return m
}

func view(chatID string, lastSeq, meta int64, members ...string) *realtime.ChatView {
	c := &chat.Chat{ID: chatID, IsGroup: true, Name: "g"}
	for _, m := range members {
		c.Users = append(c.Users, &chat.ChatUser{UserID: m, ChatID: chatID, User: &chat.User{ID: m}})
	}
	for s := max(lastSeq-2, 1); s <= lastSeq; s++ {
		c.Messages = append(c.Messages, msg(chatID, s, "other"))
	}
	return &realtime.ChatView{Chat: c, LastSeq: lastSeq, MetaVersion: meta}
}

// describe renders events as short strings: kind:chat[:detail].
func describe(evs []chat.Event) []string {
	out := []string{}
	for _, e := range evs {
		s := e.Kind + ":" + e.ChatID
		switch e.Kind {
		case chat.EventNewMessage, chat.EventMessageUpdated:
			s += fmt.Sprintf(":%d", e.Message.Seq)
		case chat.EventChatSummary:
			s += fmt.Sprintf(":%d/%d", e.Summary.Message.Seq, e.Summary.UnreadCount)
		case chat.EventNewChat, chat.EventChatUpdated, chat.EventChatInfo:
			s += fmt.Sprintf(":unread=%d", e.Chat.UnreadCount)
		case chat.EventTyping, chat.EventStopTyping:
			s += ":" + e.Typing.UserID
		}
		out = append(out, s)
	}
	return out
}

// feedWith returns a user past their baseline, member of chat c with
// messages up to lastSeq delivered and read up to readSeq.
func feedWith(t *testing.T, lastSeq, readSeq int64) *realtime.UserFeed {
	t.Helper()
	u := realtime.NewUserFeed(me)
	mustStep(t, u, realtime.MemberSetInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: readSeq, MetaVersion: 1}), nil)
	if lastSeq > 0 {
		mustStep(t, u, realtime.PostedInput(msg("c", lastSeq, "other"), true), nil)
	}
	return u
}

// historyFeed returns a user whose feed began at t0 + 10 s (messages 1–9
// are history), member of chat c read up to readSeq, nothing delivered.
func historyFeed(t *testing.T, readSeq int64) *realtime.UserFeed {
	t.Helper()
	u := realtime.NewUserFeedSince(me, t0.Add(10*time.Second))
	mustStep(t, u, realtime.MemberSetInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: readSeq, MetaVersion: 1}), nil)
	return u
}

func mustStep(t *testing.T, u *realtime.UserFeed, in realtime.Input, got realtime.ReadResults) []string {
	t.Helper()
	evs, need := u.Step(in, got)
	if need != nil {
		t.Fatalf("step needs reads %v", need)
	}
	return describe(evs)
}

func TestUserRules(t *testing.T) {
	tests := []struct {
		name    string
		feed    func(t *testing.T) *realtime.UserFeed
		in      realtime.Input
		needs   []realtime.Read // reads the first step asks for
		got     realtime.ReadResults
		want    []string
		lastSeq int64 // the chat's last delivered seq afterwards (-1: not a member)
	}{
		{
			name: "BaselineMembersEmitNothing",
			feed: func(t *testing.T) *realtime.UserFeed { return realtime.NewUserFeed(me) },
			in:   realtime.MemberSetInput(realtime.Membership{UserID: me, ChatID: "c", MetaVersion: 3}),
			want: []string{}, lastSeq: 0,
		},
		{
			name: "BaselineMessageEmitsNothing",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 0, 0) },
			in:   realtime.PostedInput(msg("c", 7, "other"), true),
			want: []string{}, lastSeq: 7,
		},
		{
			name: "NextMessageAfterBaseline",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 7, 7) },
			in:   realtime.PostedInput(msg("c", 8, "other"), false),
			want: []string{"newMessage:c:8", "chatSummary:c:8/1"}, lastSeq: 8,
		},
		{
			name: "RestartOverlapDroppedBySeq",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 7, 0) },
			in:   realtime.PostedInput(msg("c", 6, "other"), false),
			want: []string{}, lastSeq: 7,
		},
		{
			name:  "GapFilledInOrder",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 3, 3) },
			in:    realtime.PostedInput(msg("c", 6, "other"), false),
			needs: []realtime.Read{realtime.GapRead("c", 3, 6)},
			got:   realtime.ReadResults{realtime.GapRead("c", 3, 6): []*chat.Message{msg("c", 4, "other"), msg("c", 5, "other")}},
			want: []string{"newMessage:c:4", "chatSummary:c:4/1", "newMessage:c:5", "chatSummary:c:5/2",
				"newMessage:c:6", "chatSummary:c:6/3"},
			lastSeq: 6,
		},
		{
			name: "EditOfDeliveredMessage",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 7, 7) },
			in:   realtime.ChangedInput(changed(msg("c", 5, "other"), "0100"), false, false),
			want: []string{"messageUpdated:c:5"}, lastSeq: 7,
		},
		{
			name: "EditOfLastMessageSummarizesAgain",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 7, 6) },
			in:   realtime.ChangedInput(changed(msg("c", 7, "other"), "0100"), false, true),
			want: []string{"messageUpdated:c:7", "chatSummary:c:7/1"}, lastSeq: 7,
		},
		{
			name: "ReactionToLastMessageNoSummary",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 7, 6) },
			in:   realtime.ChangedInput(changed(msg("c", 7, "other"), "0100"), false, false),
			want: []string{"messageUpdated:c:7"}, lastSeq: 7,
		},
		{
			name: "ChangeAtOrBelowLastRevIsARepeat",
			feed: func(t *testing.T) *realtime.UserFeed {
				u := feedWith(t, 7, 7)
				mustStep(t, u, realtime.ChangedInput(changed(msg("c", 5, "other"), "0100"), false, false), nil)
				return u
			},
			in:   realtime.ChangedInput(changed(msg("c", 5, "other"), "0100"), false, false),
			want: []string{}, lastSeq: 7,
		},
		{
			name: "EditOfHistoryIsAnUpdate",
			feed: func(t *testing.T) *realtime.UserFeed { return historyFeed(t, 2) },
			in:   realtime.ChangedInput(changed(msg("c", 3, "other"), "0100"), false, false),
			want: []string{"messageUpdated:c:3"}, lastSeq: 0,
		},
		{
			name: "EditOfHistoryLastMessageSummarizes",
			feed: func(t *testing.T) *realtime.UserFeed { return historyFeed(t, 2) },
			in:   realtime.ChangedInput(changed(msg("c", 3, "other"), "0100"), false, true),
			want: []string{"messageUpdated:c:3", "chatSummary:c:3/1"}, lastSeq: 0,
		},
		{
			name: "MessageEditedBeforeItsNewMessageIsNew",
			feed: func(t *testing.T) *realtime.UserFeed { return historyFeed(t, 2) },
			in:   realtime.ChangedInput(changed(msg("c", 30, "other"), "0100"), false, true),
			want: []string{"newMessage:c:30", "chatSummary:c:30/28"}, lastSeq: 30,
		},
		{
			name: "EditOfMessageSentBeforeJoiningIsAnUpdate",
			feed: func(t *testing.T) *realtime.UserFeed {
				u := realtime.NewUserFeed(me)
				mustStep(t, u, realtime.MemberSetInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 3, MetaVersion: 1, JoinedAt: t0.Add(20 * time.Second)}), nil)
				return u
			},
			in:   realtime.ChangedInput(changed(msg("c", 3, "other"), "0100"), false, false),
			want: []string{"messageUpdated:c:3"}, lastSeq: 0,
		},
		{
			name: "BaselineChangeOfHistoryLeavesLastSeq",
			feed: func(t *testing.T) *realtime.UserFeed { return historyFeed(t, 2) },
			in:   realtime.ChangedInput(changed(msg("c", 3, "other"), "0100"), true, false),
			want: []string{}, lastSeq: 0,
		},
		{
			name: "SendersSummaryIsZero",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 4, 0) },
			in:   realtime.PostedInput(msg("c", 5, me), false),
			want: []string{"newMessage:c:5", "chatSummary:c:5/0"}, lastSeq: 5,
		},
		{
			name:  "MemberAddedDuringStall",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 2, 2) },
			in:    realtime.MemberSetInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 2, MetaVersion: 1}, realtime.Membership{UserID: me, ChatID: "d", ReadSeq: 1, MetaVersion: 1}),
			needs: []realtime.Read{realtime.ChatRead("d")},
			got:   realtime.ReadResults{realtime.ChatRead("d"): view("d", 4, 1, me, "other")},
			want:  []string{"newChat:d:unread=3"}, lastSeq: 2,
		},
		{
			name:  "MemberRemovedDuringStall",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 2, 2) },
			in:    realtime.MemberSetInput(),
			needs: []realtime.Read{realtime.SeqRead("c")},
			got:   realtime.ReadResults{realtime.SeqRead("c"): realtime.Seq(0, false)},
			want:  []string{"chatDeleted:c"}, lastSeq: -1,
		},
		{
			name:  "MembershipMissingFromAFirstSnapshotIsKept",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 2, 2) },
			in:    realtime.MemberSetInput(),
			needs: []realtime.Read{realtime.SeqRead("c")},
			got:   realtime.ReadResults{realtime.SeqRead("c"): realtime.Seq(2, true)},
			want:  []string{}, lastSeq: 2,
		},
		{
			name:  "Renamed",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 5, 3) },
			in:    realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 3, MetaVersion: 2}, false),
			needs: []realtime.Read{realtime.ChatRead("c")},
			got:   realtime.ReadResults{realtime.ChatRead("c"): view("c", 5, 2, me, "other")},
			want:  []string{"chatUpdated:c:unread=2", "chatInfo:c:unread=2"}, lastSeq: 5,
		},
		{
			// LoadChat reads the chat, then its messages: a send between the
			// two gives a view whose last message is newer than its lastSeq.
			// The unread count follows the message shown.
			name:  "ReadMarkerWithATornView",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 0, 0) },
			in:    realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 1, MetaVersion: 1}, false),
			needs: []realtime.Read{realtime.ChatRead("c")},
			got: realtime.ReadResults{realtime.ChatRead("c"): func() *realtime.ChatView {
				v := view("c", 2, 1, me, "other")
				v.LastSeq = 1
				return v
			}()},
			want: []string{"chatSummary:c:2/1"}, lastSeq: 0,
		},
		{
			name: "RenameSeenByAnotherMemberOnly",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 5, 3) },
			in:   realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 3, MetaVersion: 1}, false),
			want: []string{}, lastSeq: 5,
		},
		{
			name: "ReadClearsUnread",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 5, 3) },
			in:   realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 5, MetaVersion: 1}, false),
			want: []string{"chatSummary:c:5/0"}, lastSeq: 5,
		},
		{
			name: "Removed",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 5, 3) },
			in:   realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "c"}, true),
			want: []string{"chatDeleted:c"}, lastSeq: -1,
		},
		{
			name: "RemovedUnknownChatIsSilent",
			feed: func(t *testing.T) *realtime.UserFeed { return feedWith(t, 5, 3) },
			in:   realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "zz"}, true),
			want: []string{}, lastSeq: 5,
		},
		{
			name:  "MessageBeforeItsMembershipAnnouncesTheChat",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 0, 0) },
			in:    realtime.PostedInput(msg("d", 4, "other"), false),
			needs: []realtime.Read{realtime.ChatRead("d"), realtime.SeqRead("d")},
			got: realtime.ReadResults{realtime.ChatRead("d"): view("d", 3, 1, me, "other"),
				realtime.SeqRead("d"): realtime.Seq(0, true)},
			want: []string{"newChat:d:unread=3", "newMessage:d:4", "chatSummary:d:4/4"},
		},
		{
			name:  "MessageOfAChatLeftIsDropped",
			feed:  func(t *testing.T) *realtime.UserFeed { return feedWith(t, 0, 0) },
			in:    realtime.PostedInput(msg("d", 4, "other"), false),
			needs: []realtime.Read{realtime.ChatRead("d"), realtime.SeqRead("d")},
			got: realtime.ReadResults{realtime.ChatRead("d"): view("d", 4, 1, "other"),
				realtime.SeqRead("d"): realtime.Seq(0, false)},
			want: []string{}, lastSeq: 0,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := tc.feed(t)
			before := u.LastSeq("c")
			evs, need := u.Step(tc.in, nil)
			if tc.needs != nil {
				if len(evs) != 0 || !sameReads(need, tc.needs) {
					t.Fatalf("first step: events %v needs %v, want no events and needs %v", describe(evs), need, tc.needs)
				}
				// Nothing moved while reads are missing: stepping again
				// asks for the same.
				if u.LastSeq("c") != before {
					t.Fatalf("state advanced before its reads: lastSeq %d → %d", before, u.LastSeq("c"))
				}
				_, again := u.Step(tc.in, nil)
				if !sameReads(again, tc.needs) {
					t.Fatalf("second step needs %v, want %v", again, tc.needs)
				}
				evs, need = u.Step(tc.in, tc.got)
			}
			if need != nil {
				t.Fatalf("still needs %v", need)
			}
			if got := describe(evs); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("events\n got %v\nwant %v", got, tc.want)
			}
			if got := u.LastSeq("c"); got != tc.lastSeq {
				t.Fatalf("lastSeq %d, want %d", got, tc.lastSeq)
			}
		})
	}
}

func sameReads(a, b []realtime.Read) bool {
	if len(a) != len(b) {
		return false
	}
	for _, r := range b {
		found := false
		for _, x := range a {
			found = found || x == r
		}
		if !found {
			return false
		}
	}
	return true
}

// TestUserRulesSequence replays a realistic run: baseline, a restart whose
// overlap repeats messages, a gap, and a summary not repeated.
func TestUserRulesSequence(t *testing.T) {
	u := feedWith(t, 2, 2)
	var all []string
	for _, s := range []int64{3, 2, 3, 4} {
		all = append(all, mustStep(t, u, realtime.PostedInput(msg("c", s, "other"), false), nil)...)
	}
	all = append(all, mustStep(t, u, realtime.MemberInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 4, MetaVersion: 1}, false), nil)...)
	// The same read marker again (a restart's reconciliation): no repeat.
	all = append(all, mustStep(t, u, realtime.MemberSetInput(realtime.Membership{UserID: me, ChatID: "c", ReadSeq: 4, MetaVersion: 1}), nil)...)
	want := []string{"newMessage:c:3", "chatSummary:c:3/1", "newMessage:c:4", "chatSummary:c:4/2", "chatSummary:c:4/0"}
	if !reflect.DeepEqual(all, want) {
		t.Fatalf("got %v\nwant %v", all, want)
	}
}

func TestTypingRules(t *testing.T) {
	t0 := time.Unix(1000, 0)
	entry := func(uid string, until time.Time) realtime.TypingEntry {
		return realtime.TypingEntry{Typing: chat.Typing{ChatID: "c", UserID: uid, Username: uid}, Until: until}
	}
	t.Run("BaselineIsSilent", func(t *testing.T) {
		r := realtime.NewRoomFeed("c")
		if evs := r.Reconcile(map[string]realtime.TypingEntry{"a": entry("a", t0.Add(time.Second))}, t0); len(evs) != 0 {
			t.Fatalf("baseline emitted %v", describe(evs))
		}
		if got := describe(r.Expire(t0.Add(2 * time.Second))); !reflect.DeepEqual(got, []string{"stopTyping:c:a"}) {
			t.Fatalf("expiry of a baseline typist: %v", got)
		}
	})
	t.Run("OnlyChangesOfState", func(t *testing.T) {
		r := realtime.NewRoomFeed("c")
		r.Reconcile(nil, t0)
		var got []string
		got = append(got, describe(r.Seen(entry("a", t0.Add(8*time.Second)), t0))...)
		got = append(got, describe(r.Seen(entry("a", t0.Add(10*time.Second)), t0.Add(2*time.Second)))...)
		got = append(got, describe(r.Gone("a"))...)
		got = append(got, describe(r.Gone("a"))...)
		if want := []string{"typing:c:a", "stopTyping:c:a"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v want %v", got, want)
		}
	})
	t.Run("ExpiresAtUntil", func(t *testing.T) {
		r := realtime.NewRoomFeed("c")
		r.Reconcile(nil, t0)
		r.Seen(entry("a", t0.Add(8*time.Second)), t0)
		r.Seen(entry("b", t0.Add(9*time.Second)), t0)
		if !r.Next().Equal(t0.Add(8 * time.Second)) {
			t.Fatalf("next expiry %v", r.Next())
		}
		if evs := r.Expire(t0.Add(7 * time.Second)); len(evs) != 0 {
			t.Fatalf("expired early: %v", describe(evs))
		}
		if got := describe(r.Expire(t0.Add(8 * time.Second))); !reflect.DeepEqual(got, []string{"stopTyping:c:a"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("StaleEntryIsAStop", func(t *testing.T) {
		r := realtime.NewRoomFeed("c")
		r.Reconcile(nil, t0)
		r.Seen(entry("a", t0.Add(8*time.Second)), t0)
		if got := describe(r.Seen(entry("a", t0), t0.Add(time.Second))); !reflect.DeepEqual(got, []string{"stopTyping:c:a"}) {
			t.Fatalf("got %v", got)
		}
	})
	t.Run("ReconcileAfterRestart", func(t *testing.T) {
		r := realtime.NewRoomFeed("c")
		r.Reconcile(map[string]realtime.TypingEntry{"a": entry("a", t0.Add(8*time.Second))}, t0)
		got := describe(r.Reconcile(map[string]realtime.TypingEntry{"b": entry("b", t0.Add(8*time.Second))}, t0.Add(time.Second)))
		if want := []string{"stopTyping:c:a", "typing:c:b"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v want %v", got, want)
		}
	})
}
