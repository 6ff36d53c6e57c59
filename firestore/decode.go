package firestore

import (
	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/realtime"
)

// decodeChange reads one listener change as the domain change of the
// listener's kind; false for a document that does not decode or is no
// news of that kind.
func decodeChange(kind realtime.Kind, ch firestore.DocumentChange) (realtime.Change, bool) {
	c := realtime.Change{Removed: ch.Kind == firestore.DocumentRemoved}
	switch kind {
	case realtime.Members:
		c.Membership = decodeMembership(ch)
		return c, c.Membership != nil
	case realtime.Receipts:
		c.Receipt = decodeReceipt(ch)
		return c, c.Receipt != nil
	case realtime.Messages:
		var m messageDoc
		if ch.Kind == firestore.DocumentRemoved || ch.Doc.DataTo(&m) != nil || m.ChatID == "" || m.Seq == 0 {
			return c, false // gone from the set: readdressed without the user, or the chat deleted
		}
		c.Posted = &realtime.Posted{Message: m.toMessage(ch.Doc.Ref.ID), MemberIDs: m.MemberIDs, Changed: m.Changes > 0, Last: m.WasLast}
	case realtime.Typing:
		var t typingDoc
		if ch.Doc.DataTo(&t) != nil || t.UserID == "" || t.ChatID == "" {
			return c, false
		}
		c.Typing = &realtime.TypingEntry{Typing: chat.Typing{ChatID: t.ChatID, UserID: t.UserID, Username: t.Username},
			Until: t.Until, Except: t.Except}
	case realtime.Flips:
		c.Flip = decodeFlip(ch)
		return c, c.Flip != nil
	}
	return c, true
}

func decodeMembership(ch firestore.DocumentChange) *realtime.Membership {
	var m memberDoc
	if ch.Doc.DataTo(&m) != nil || m.ChatID == "" || m.UserID == "" {
		return nil
	}
	return &realtime.Membership{UserID: m.UserID, ChatID: m.ChatID, ReadSeq: m.ReadSeq, MetaVersion: m.MetaVersion,
		JoinedAt: m.JoinedAt, MutedUntil: utc(m.MutedUntil)}
}

// decodeReceipt reads a membership as the receipts listener sees it.
func decodeReceipt(ch firestore.DocumentChange) *realtime.Receipt {
	var m memberDoc
	if ch.Kind == firestore.DocumentRemoved || ch.Doc.DataTo(&m) != nil || m.ChatID == "" || m.ReceiptAt == nil {
		return nil // left the chat, or hides receipts now: nothing to tell
	}
	return &realtime.Receipt{At: *m.ReceiptAt, Except: m.ReceiptExcept, Mark: chat.ReadMark{
		ChatID: m.ChatID, UserID: m.UserID, LastReadMessageID: m.LastReadID, LastReadAt: utc(m.LastReadAt)}}
}

// decodeFlip reads a presence flip, or a block notice (block.go).
func decodeFlip(ch firestore.DocumentChange) *realtime.Flip {
	if ch.Kind != firestore.DocumentAdded {
		return nil // flips and notices never change once written
	}
	if _, ok := ch.Doc.Data()["notice"]; ok {
		return decodeNotice(ch.Doc)
	}
	var p presenceDoc
	if ch.Doc.DataTo(&p) != nil || p.UserID == "" || p.Version == 0 {
		return nil
	}
	seen := p.LastSeen.UTC()
	return &realtime.Flip{Presence: chat.Presence{UserID: p.UserID, Online: p.Online, LastSeen: &seen}, Version: p.Version, Audience: p.Audience}
}

// decodeNotice reads a block notice (block.go), or the notice of an
// account deleted (accountleave.go), as a Flip with Notice set; nil when
// it does not decode.
func decodeNotice(d *firestore.DocumentSnapshot) *realtime.Flip {
	var n noticeDoc
	switch {
	case d.DataTo(&n) != nil:
		return nil
	case n.Notice == noticeDeleted && len(n.Audience) == 1:
		return &realtime.Flip{Notice: n.Notice, Audience: n.Audience, At: n.At}
	case len(n.Audience) != 2 || len(n.Seen) != 2:
		return nil
	}
	f := &realtime.Flip{Notice: n.Notice, Audience: n.Audience, At: n.At, Peers: map[string]realtime.Peer{}}
	for uid, s := range n.Seen {
		f.Peers[uid] = realtime.Peer{Presence: chat.Presence{UserID: uid, Online: s.Online, LastSeen: utc(s.LastSeen)}, Version: s.Version}
	}
	return f
}
