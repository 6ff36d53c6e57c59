package realtime

import (
	"slices"
	"strconv"

	"github.com/chatapp/chat"
)

// The delivery rules for messages: new ones (newMessage, with gaps filled
// and repeats dropped by seq) and changed ones (messageUpdated, repeats
// dropped by rev), each followed by the member's chatSummary when it is
// the chat's newest. See docs/design.md, "Messages that change".

// stepPosted delivers a message: repeats (a restarted listener's overlap)
// are dropped by seq, a gap is filled first, and a chat the user was not
// known to be in is announced with newChat before its message.
func (u *userFeed) stepPosted(in input, got readResults) ([]chat.Event, []read) {
	msg := in.posted
	var evs []chat.Event
	cur := u.chats[msg.ChatID]
	if cur == nil {
		// The message listener ran ahead of the membership listener (a
		// chat created and written to at once), or the user left the chat.
		rc, rs := read{kind: readChat, chatID: msg.ChatID}, read{kind: readSeq, chatID: msg.ChatID}
		vc, okc := got[rc]
		vs, oks := got[rs]
		if !okc || !oks {
			return nil, missing(got, rc, rs)
		}
		view, _ := vc.(*ChatView)
		seq, _ := vs.(seqResult)
		if view == nil || !view.has(u.uid) || !seq.found {
			return nil, nil // not a member (any more): nothing to tell
		}
		cur = &membership{readSeq: seq.seq, metaVersion: view.MetaVersion, joinedAt: view.joinedAt(u.uid)}
		evs = append(evs, chat.Event{Kind: chat.EventNewChat, UserID: u.uid, ChatID: msg.ChatID, Chat: view.For(u.uid, seq.seq)})
	}
	if msg.Seq <= cur.lastSeq || (cur.lastSeq == 0 && u.history(in, cur)) {
		if in.changed {
			evs = append(evs, u.stepUpdated(in, cur)...)
		}
		u.chats[msg.ChatID] = cur
		return evs, nil
	}
	next := *cur
	next.lastRev = max(next.lastRev, msg.Rev)
	msgs := []*chat.Message{msg}
	if cur.lastSeq > 0 && msg.Seq > cur.lastSeq+1 {
		r := read{kind: readGap, chatID: msg.ChatID, from: cur.lastSeq, to: msg.Seq}
		v, ok := got[r]
		if !ok {
			return nil, []read{r}
		}
		gap, _ := v.([]*chat.Message)
		msgs = append(slices.Clone(gap), msg)
	}
	for _, m := range msgs {
		next.lastSeq, next.lastMsg = m.Seq, m
		evs = append(evs, chat.Event{Kind: chat.EventNewMessage, UserID: u.uid, ChatID: m.ChatID, Message: m})
		if m.SenderID == u.uid {
			next.readSeq = max(next.readSeq, m.Seq) // sending marks the chat read
		}
		if ev, ok := next.summarize(u.uid, m, m.Seq-next.readSeq); ok {
			evs = append(evs, ev)
		}
	}
	u.chats[msg.ChatID] = &next
	return evs, nil
}

// history tells whether a posted message is one the client knows from
// history rather than from this feed: changed since it was sent, and sent
// before the feed began or before the user joined the chat (cur, nil if
// not known yet).
func (u *userFeed) history(in input, cur *membership) bool {
	at := in.posted.CreatedAt
	return in.changed && (at.Before(u.since) || cur != nil && at.Before(cur.joinedAt))
}

// stepUpdated tells of a change to a message the user already has (by
// newMessage or by history): messageUpdated, and chatSummary again when
// it edited or deleted the chat's newest message (in.last). A change at
// or below the chat's last rev is a restarted listener's overlap, told
// already.
func (u *userFeed) stepUpdated(in input, cur *membership) []chat.Event {
	msg := in.posted
	if msg.Rev <= cur.lastRev {
		return nil
	}
	cur.lastRev = msg.Rev
	evs := []chat.Event{{Kind: chat.EventMessageUpdated, UserID: u.uid, ChatID: msg.ChatID, Message: msg}}
	if msg.Seq == cur.lastSeq {
		cur.lastMsg = msg
	}
	if in.last {
		if ev, ok := cur.summarize(u.uid, msg, msg.Seq-cur.readSeq); ok {
			evs = append(evs, ev)
		}
	}
	return evs
}

// summarize returns the chatSummary for msg unless the user was just told
// the same.
func (ms *membership) summarize(uid string, msg *chat.Message, unread int64) (chat.Event, bool) {
	unread = max(unread, 0)
	key := msg.ID + "/" + string(msg.Rev) + "/" + strconv.FormatInt(unread, 10)
	if ms.summary == key {
		return chat.Event{}, false
	}
	ms.summary = key
	return chat.Event{Kind: chat.EventChatSummary, UserID: uid, ChatID: msg.ChatID,
		Summary: &chat.ChatSummary{ChatID: msg.ChatID, UnreadCount: int(unread), Message: msg}}, true
}
