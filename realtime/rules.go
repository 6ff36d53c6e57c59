package realtime

import (
	"maps"
	"slices"
	"time"

	"github.com/chatapp/chat"
)

// This file holds the delivery rules for a served user as pure code: from
// the user's state and one input (a decoded change) to the events to emit
// and the new state, or to the reads still needed. When reads are needed
// the state is left as it was; the shard does the reads and steps the same
// input again with their results. State therefore advances only once every
// read an input needs has succeeded, and nothing is emitted twice or lost
// when a read fails.

// input is one thing that happened to a user, queued in arrival order.
type input struct {
	// member is a membership added, changed or (removed) gone.
	member  *Membership
	removed bool
	// memberSet is every membership of the user: a listener's first batch.
	memberSet map[string]Membership
	// posted is a message addressed to the user; baseline marks one from a
	// new user's first batch: known, not emitted.
	posted   *chat.Message
	baseline bool
	// changed marks a posted message edited or deleted since it was sent;
	// last, one that was its chat's newest when that happened.
	changed, last bool
	// flip is a co-member's online status changing.
	flip *Flip
}

// readKind is what a read fetches.
type readKind int

const (
	readChat readKind = iota // the chat as a ChatView
	readGap                  // messages with seq in (from, to) for the user
	readSeq                  // the user's read marker
)

// read is one read a rule needs; comparable, so results are keyed by it.
type read struct {
	kind     readKind
	chatID   string
	from, to int64
}

// readResults holds the results of reads, by read.
type readResults map[read]any

// seqResult is the result of a readSeq.
type seqResult struct {
	seq   int64
	found bool
}

// userFeed is what the engine knows of a served user.
type userFeed struct {
	uid string
	// since is when the user's feed began, less the listeners' margin: a
	// message sent before it is history the client reads over REST, so
	// its changes are news as messageUpdated, never as newMessage.
	since time.Time
	// freshMembers: the user's first membership batch is still to come;
	// it is a baseline, not news. (The shard tracks the same for messages.)
	freshMembers bool
	chats        map[string]*membership
	// flips is the version of each co-member's last flip told, so a flip
	// seen twice (listener restarts look back) is told once, and an older
	// one never after a newer.
	flips map[string]int64
	// notices is the time of the last block notice told per other user.
	notices map[string]time.Time
}

// membership is one chat of a served user as the user was last told.
type membership struct {
	readSeq     int64
	metaVersion int64
	lastSeq     int64         // seq of the last newMessage emitted; 0 none yet
	lastMsg     *chat.Message // that message, as last told
	// lastRev is the greatest rev a listener delivered in the chat (reads
	// that fill gaps do not count): a change at or below it is a repeat.
	lastRev chat.Rev
	// joinedAt is when the user joined the chat: a message sent before is
	// one the client has from the chat's view or history.
	joinedAt time.Time
	summary  string // the last chatSummary emitted, to skip repeats
	// mutedUntil is the user's mute of the chat as last told.
	mutedUntil *time.Time
}

// hasMembers tells whether the user's first membership set was applied:
// before it, single membership changes are left to that baseline.
func (u *userFeed) hasMembers() bool { return !u.freshMembers }

func newUserFeed(uid string, since time.Time) *userFeed {
	return &userFeed{uid: uid, since: since, freshMembers: true, chats: map[string]*membership{}}
}

// step applies in. It returns the events to emit and nil, having updated u;
// or the reads still missing from got, having changed nothing.
func (u *userFeed) step(in input, got readResults) ([]chat.Event, []read) {
	switch {
	case in.memberSet != nil:
		return u.stepMemberSet(in.memberSet, got)
	case in.member != nil && in.removed:
		return u.stepRemoved(in.member.ChatID), nil
	case in.member != nil:
		ms, evs, need := u.memberChanged(*in.member, u.chats[in.member.ChatID], got)
		if need != nil {
			return nil, need
		}
		if ms != nil {
			u.chats[in.member.ChatID] = ms
		}
		return evs, nil
	case in.posted != nil && in.baseline:
		ms := u.chats[in.posted.ChatID]
		if ms == nil || u.history(in, ms) {
			return nil, nil
		}
		ms.lastRev = max(ms.lastRev, in.posted.Rev)
		if in.posted.Seq > ms.lastSeq {
			ms.lastSeq, ms.lastMsg = in.posted.Seq, in.posted
		}
		return nil, nil
	case in.posted != nil:
		return u.stepPosted(in, got)
	case in.flip != nil:
		return u.stepFlip(in.flip), nil
	}
	return nil, nil
}

func (u *userFeed) stepFlip(f *Flip) []chat.Event {
	if f.Notice != "" {
		return u.stepNotice(f)
	}
	who := f.Presence.UserID
	if who == u.uid || f.Version <= u.flips[who] {
		return nil
	}
	if u.flips == nil {
		u.flips = map[string]int64{}
	}
	u.flips[who] = f.Version
	p := f.Presence
	return []chat.Event{{Kind: chat.EventPresence, UserID: u.uid, Presence: &p}}
}

func (u *userFeed) stepRemoved(chatID string) []chat.Event {
	if _, ok := u.chats[chatID]; !ok {
		return nil
	}
	delete(u.chats, chatID)
	return []chat.Event{{Kind: chat.EventChatDeleted, UserID: u.uid, ChatID: chatID}}
}

// stepMemberSet reconciles the user's chats with the whole set of their
// memberships: the first batch of a (re)started listener. For a new user it
// is the baseline; otherwise chats gained or lost, renamed or read while
// the listener was being replaced yield their events now.
func (u *userFeed) stepMemberSet(set map[string]Membership, got readResults) ([]chat.Event, []read) {
	if u.freshMembers {
		for _, m := range set {
			u.chats[m.ChatID] = &membership{readSeq: m.ReadSeq, metaVersion: m.MetaVersion, joinedAt: m.JoinedAt, mutedUntil: m.MutedUntil}
		}
		u.freshMembers = false
		return nil, nil
	}
	var evs []chat.Event
	var need []read
	next := maps.Clone(u.chats)
	for _, cid := range slices.Sorted(maps.Keys(u.chats)) {
		if _, ok := set[cid]; ok {
			continue
		}
		// Gone from the set: removed while the listener was replaced, or
		// missing from a first snapshot (the emulator has been seen to
		// leave out a document being written). The membership itself says.
		r := read{kind: readSeq, chatID: cid}
		v, ok := got[r]
		if !ok {
			need = append(need, r)
			continue
		}
		if seq, _ := v.(seqResult); !seq.found {
			delete(next, cid)
			evs = append(evs, chat.Event{Kind: chat.EventChatDeleted, UserID: u.uid, ChatID: cid})
		}
	}
	for _, cid := range slices.Sorted(maps.Keys(set)) {
		ms, e, n := u.memberChanged(set[cid], u.chats[cid], got)
		need = append(need, n...)
		evs = append(evs, e...)
		if ms != nil {
			next[cid] = ms
		}
	}
	if need != nil {
		return nil, need
	}
	u.chats = next
	return evs, nil
}

// memberChanged compares a membership with what the user was last told
// (cur, nil for a chat new to them). It returns the membership's new state
// (nil: unchanged) and the events, or the reads needed.
func (u *userFeed) memberChanged(m Membership, cur *membership, got readResults) (*membership, []chat.Event, []read) {
	if cur == nil {
		r := read{kind: readChat, chatID: m.ChatID}
		v, ok := got[r]
		if !ok {
			return nil, nil, []read{r}
		}
		view, _ := v.(*ChatView)
		if view == nil || !view.has(u.uid) {
			return nil, nil, nil // gone already: its removal follows
		}
		// Messages sent to the user still come as newMessage, also those
		// the view already holds: clients count on one newMessage per message.
		ms := &membership{readSeq: m.ReadSeq, metaVersion: max(m.MetaVersion, view.MetaVersion), joinedAt: m.JoinedAt, mutedUntil: m.MutedUntil}
		return ms, []chat.Event{{Kind: chat.EventNewChat, UserID: u.uid, ChatID: m.ChatID, Chat: view.For(u.uid, m.ReadSeq)}}, nil
	}
	next := *cur
	var evs []chat.Event
	var view *ChatView
	if m.MetaVersion > cur.metaVersion || (m.ReadSeq > cur.readSeq && cur.lastMsg == nil) {
		r := read{kind: readChat, chatID: m.ChatID}
		v, ok := got[r]
		if !ok {
			return nil, nil, []read{r}
		}
		view, _ = v.(*ChatView)
	}
	if m.MetaVersion > cur.metaVersion {
		next.metaVersion = m.MetaVersion
		if view != nil && view.has(u.uid) {
			c := view.For(u.uid, m.ReadSeq)
			info := *c
			info.Messages = []*chat.Message{}
			evs = append(evs, chat.Event{Kind: chat.EventChatUpdated, UserID: u.uid, ChatID: m.ChatID, Chat: c},
				chat.Event{Kind: chat.EventChatInfo, UserID: u.uid, ChatID: m.ChatID, Chat: &info})
		}
	}
	evs = append(evs, u.muteChanged(m, &next)...)
	if m.ReadSeq > cur.readSeq {
		next.readSeq = m.ReadSeq
		last, lastSeq := cur.lastMsg, cur.lastSeq
		if last == nil && view != nil {
			if n := len(view.Chat.Messages); n > 0 {
				// The message's own seq, not the view's lastSeq: the view
				// reads the chat and its messages one after the other, and
				// a send between the two makes them disagree.
				last = view.Chat.Messages[n-1]
				lastSeq = last.Seq
			}
		}
		if last != nil {
			if ev, ok := next.summarize(u.uid, last, lastSeq-m.ReadSeq); ok {
				evs = append(evs, ev)
			}
		}
	}
	return &next, evs, nil
}

// muteChanged tells the user's devices of a change of their mute of the
// chat (chatMuted) and records it in next.
func (u *userFeed) muteChanged(m Membership, next *membership) []chat.Event {
	if sameTime(m.MutedUntil, next.mutedUntil) {
		return nil
	}
	next.mutedUntil = m.MutedUntil
	return []chat.Event{{Kind: chat.EventChatMuted, UserID: u.uid, ChatID: m.ChatID, Mute: &chat.Mute{ChatID: m.ChatID, Until: m.MutedUntil}}}
}

// sameTime tells whether two optional times are the same.
func sameTime(a, b *time.Time) bool {
	return (a == nil) == (b == nil) && (a == nil || a.Equal(*b))
}

// missing returns those of rs that got lacks.
func missing(got readResults, rs ...read) []read {
	var out []read
	for _, r := range rs {
		if _, ok := got[r]; !ok {
			out = append(out, r)
		}
	}
	return out
}

// joinedAt returns when uid joined the viewed chat (zero if not a member).
func (v *ChatView) joinedAt(uid string) time.Time {
	if cu := v.member(uid); cu != nil {
		return cu.JoinedAt
	}
	return time.Time{}
}

// has tells whether uid is a member of the viewed chat.
func (v *ChatView) has(uid string) bool { return v.member(uid) != nil }

// member is uid's entry in the viewed chat, nil if uid is not a member.
func (v *ChatView) member(uid string) *chat.ChatUser {
	for _, cu := range v.Chat.Users {
		if cu.UserID == uid {
			return cu
		}
	}
	return nil
}

// For renders the chat for viewer, whose read marker is readSeq: the
// contract's unreadCount and mutedUntil are the receiving user's own, and
// what members keep from the viewer (blocks, hidden receipts) is taken out.
func (v *ChatView) For(viewer string, readSeq int64) *chat.Chat {
	c := *v.Chat
	c.UnreadCount = int(max(v.LastSeq-readSeq, 0))
	c.MutedUntil = chat.MuteValue(v.Muted[viewer], time.Now())
	c.Users = make([]*chat.ChatUser, len(v.Chat.Users))
	for i, cu := range v.Chat.Users {
		cp := *cu
		cp.UnreadCount = 0
		if cu.UserID == viewer {
			cp.UnreadCount = c.UnreadCount
		}
		c.Users[i] = &cp
	}
	c.HideFor(viewer)
	return &c
}

// stepNotice tells the user of a block with another changing: one
// presence of the other as the user may see it from now on (offline and
// no lastSeen after a block). Flips of the other up to the notice's
// version are dropped from then on: one written before a block and
// delivered after it must not show what the block hides.
func (u *userFeed) stepNotice(f *Flip) []chat.Event {
	if f.Notice == NoticeDeleted {
		if slices.Equal(f.Audience, []string{u.uid}) {
			return []chat.Event{{Kind: chat.EventAccountDeleted, UserID: u.uid}}
		}
		return nil
	}
	var other string
	for _, uid := range f.Audience {
		if uid != u.uid {
			other = uid
		}
	}
	p, ok := f.Peers[other]
	if other == "" || !ok || !f.At.After(u.notices[other]) {
		return nil // not for this user, or told already (a restart looks back)
	}
	if u.flips == nil {
		u.flips = map[string]int64{}
	}
	if u.notices == nil {
		u.notices = map[string]time.Time{}
	}
	u.notices[other] = f.At
	u.flips[other] = max(u.flips[other], p.Version)
	pr := p.Presence
	return []chat.Event{{Kind: chat.EventPresence, UserID: u.uid, Presence: &pr}}
}
