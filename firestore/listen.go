package firestore

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/realtime"
)

var (
	_ realtime.Source = (*Listener)(nil)
	_ realtime.Reader = (*Reader)(nil)
)

// Listener implements realtime.Source with Firestore snapshot listeners:
// the only code that knows Firestore's listener API. Each query also
// matches this instance's heartbeat documents, which Beat rewrites, so a
// listener that stops delivering is noticed by the engine.
type Listener struct {
	db    *DB
	inst  *firestore.DocumentRef
	hbKey string
}

// NewListener returns the listener layer of the instance named instanceID.
func NewListener(db *DB, instanceID string) *Listener {
	return &Listener{db: db, inst: db.client.Collection("instances").Doc(instanceID), hbKey: "~hb~" + instanceID}
}

// Listen implements realtime.Source.
func (l *Listener) Listen(ctx context.Context, q realtime.Query, emit func(realtime.Batch)) error {
	keys := append(slices.Clone(q.Keys), l.hbKey)
	var fq firestore.Query
	switch q.Kind {
	case realtime.Members:
		fq = l.db.query(qMembershipsOfUsers, nil, keys)
	case realtime.Messages:
		fq = l.db.query(qMessagesToUsers, nil, keys, q.Since)
	case realtime.Typing:
		fq = l.db.query(qTypingInChats, nil, keys)
	case realtime.Flips:
		fq = l.db.query(qPresenceToUsers, nil, keys, q.Since)
	case realtime.Receipts:
		fq = l.db.query(qReceiptsInChats, nil, keys, q.Since)
	}
	it := fq.Snapshots(ctx)
	defer it.Stop()
	for first := true; ; first = false {
		snap, err := it.Next()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		changes := snap.Changes
		if first {
			// The first batch is the whole result set: read it as such.
			changes = nil
			for {
				d, err := snap.Documents.Next()
				if err != nil {
					break
				}
				changes = append(changes, firestore.DocumentChange{Kind: firestore.DocumentAdded, Doc: d})
			}
		}
		emit(decodeBatch(q.Kind, snap.ReadTime, changes))
	}
}

// decodeBatch turns a snapshot's changes into domain changes. Documents
// that do not decode are skipped; the heartbeat becomes a flag.
func decodeBatch(kind realtime.Kind, readTime time.Time, changes []firestore.DocumentChange) realtime.Batch {
	b := realtime.Batch{ReadTime: readTime}
	for _, ch := range changes {
		ref := ch.Doc.Ref
		if ref.ID == "hb" && ref.Parent.Parent != nil && ref.Parent.Parent.Parent.ID == "instances" {
			b.Heartbeat = true
			continue
		}
		c := realtime.Change{Removed: ch.Kind == firestore.DocumentRemoved}
		switch kind {
		case realtime.Members:
			var m memberDoc
			if ch.Doc.DataTo(&m) != nil || m.ChatID == "" || m.UserID == "" {
				continue
			}
			c.Membership = &realtime.Membership{UserID: m.UserID, ChatID: m.ChatID, ReadSeq: m.ReadSeq, MetaVersion: m.MetaVersion,
				JoinedAt: m.JoinedAt, MutedUntil: utc(m.MutedUntil)}
		case realtime.Receipts:
			var m memberDoc
			if ch.Kind == firestore.DocumentRemoved || ch.Doc.DataTo(&m) != nil || m.ChatID == "" || m.ReceiptAt == nil {
				continue // left the chat, or hides receipts now: nothing to tell
			}
			c.Receipt = &realtime.Receipt{At: *m.ReceiptAt, Except: m.ReceiptExcept, Mark: chat.ReadMark{
				ChatID: m.ChatID, UserID: m.UserID, LastReadMessageID: m.LastReadID, LastReadAt: utc(m.LastReadAt)}}
		case realtime.Messages:
			var m messageDoc
			if ch.Kind == firestore.DocumentRemoved || ch.Doc.DataTo(&m) != nil || m.ChatID == "" || m.Seq == 0 {
				continue // gone from the set: readdressed without the user, or the chat deleted
			}
			c.Posted = &realtime.Posted{Message: m.toMessage(ref.ID), MemberIDs: m.MemberIDs, Changed: m.Changes > 0, Last: m.WasLast}
		case realtime.Typing:
			var t typingDoc
			if ch.Doc.DataTo(&t) != nil || t.UserID == "" || t.ChatID == "" {
				continue
			}
			c.Typing = &realtime.TypingEntry{Typing: chat.Typing{ChatID: t.ChatID, UserID: t.UserID, Username: t.Username},
				Until: t.Until, Except: t.Except}
		case realtime.Flips:
			if ch.Kind != firestore.DocumentAdded {
				continue // flips and notices never change once written
			}
			if _, ok := ch.Doc.Data()["notice"]; ok {
				if c.Flip = decodeNotice(ch.Doc); c.Flip == nil {
					continue
				}
				break
			}
			var p presenceDoc
			if ch.Doc.DataTo(&p) != nil || p.UserID == "" || p.Version == 0 {
				continue
			}
			seen := p.LastSeen.UTC()
			c.Flip = &realtime.Flip{Presence: chat.Presence{UserID: p.UserID, Online: p.Online, LastSeen: &seen},
				Version: p.Version, Audience: p.Audience}
		}
		b.Changes = append(b.Changes, c)
	}
	if kind == realtime.Messages {
		// Each chat's changes in the order they committed (rev order): a
		// snapshot lists added and modified documents apart.
		slices.SortStableFunc(b.Changes, func(x, y realtime.Change) int {
			mx, my := x.Posted.Message, y.Posted.Message
			return cmp.Or(strings.Compare(mx.ChatID, my.ChatID), strings.Compare(string(mx.Rev), string(my.Rev)))
		})
	}
	return b
}

// decodeNotice reads a block notice (block.go) as a Flip with Notice
// set; nil when it does not decode.
func decodeNotice(d *firestore.DocumentSnapshot) *realtime.Flip {
	var n noticeDoc
	if d.DataTo(&n) != nil || len(n.Audience) != 2 || len(n.Seen) != 2 {
		return nil
	}
	f := &realtime.Flip{Notice: n.Notice, Audience: n.Audience, At: n.At, Peers: map[string]realtime.Peer{}}
	for uid, s := range n.Seen {
		f.Peers[uid] = realtime.Peer{Presence: chat.Presence{UserID: uid, Online: s.Online, LastSeen: utc(s.LastSeen)}, Version: s.Version}
	}
	return f
}

// heartbeatTTL is how long a heartbeat document outlives its last write
// before the TTL policy may delete it.
const heartbeatTTL = time.Hour

// Beat implements realtime.Source: one document in each listened
// collection group that every listener of this instance matches.
func (l *Listener) Beat(ctx context.Context) error {
	now := l.db.now()
	// expireAt lets Firestore's TTL policy (deploy/firestore.indexes.json)
	// remove the heartbeats of an instance that died without Close.
	expire := now.Add(heartbeatTTL)
	bw := l.db.client.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	for _, w := range []struct {
		col string
		doc any
	}{
		{"messages", map[string]any{"memberIds": []string{l.hbKey}, "revAt": now, "expireAt": expire}},
		{"members", map[string]any{"userId": l.hbKey, "chatId": l.hbKey, "receiptAt": now, "beat": now, "expireAt": expire}},
		{"typing", map[string]any{"chatId": l.hbKey, "until": expire}},
		{"presence", map[string]any{"audience": []string{l.hbKey}, "at": now, "expireAt": expire}},
	} {
		j, err := bw.Set(l.inst.Collection(w.col).Doc("hb"), w.doc)
		if err != nil {
			bw.End()
			return err
		}
		jobs = append(jobs, j)
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return err
		}
	}
	return nil
}

// Close removes the instance's heartbeat documents.
func (l *Listener) Close(ctx context.Context) {
	for _, c := range []string{"messages", "members", "typing", "presence"} {
		_, _ = l.inst.Collection(c).Doc("hb").Delete(ctx)
	}
}

// Reader implements realtime.Reader: the reads the delivery rules need.
type Reader struct{ db *DB }

// NewReader returns the engine's reader on db.
func NewReader(db *DB) *Reader { return &Reader{db: db} }

// LoadChat implements realtime.Reader.
func (r *Reader) LoadChat(ctx context.Context, chatID string) (*realtime.ChatView, error) {
	doc, _, err := getDoc[chatDoc](ctx, nil, r.db.chatRef(chatID))
	if err != nil || doc == nil {
		return nil, err
	}
	msgs, err := r.db.lastMessages(ctx, chatID, chat.ChatMessagesLen)
	if err != nil {
		return nil, err
	}
	members, err := r.db.memberDocs(ctx, map[string]*chatDoc{chatID: doc})
	if err != nil {
		return nil, err
	}
	users, err := r.db.getUsers(ctx, doc.MemberIDs)
	if err != nil {
		return nil, err
	}
	muted := map[string]*time.Time{}
	for uid, m := range members[chatID] {
		muted[uid] = m.MutedUntil
	}
	return &realtime.ChatView{Chat: render(chatID, doc, "", members[chatID], users, msgs, r.db.now()),
		LastSeq: doc.LastSeq, MetaVersion: doc.MetaVersion, Muted: muted}, nil
}

// MessagesBetween implements realtime.Reader.
func (r *Reader) MessagesBetween(ctx context.Context, chatID, uid string, from, to int64) ([]*chat.Message, error) {
	snaps, err := r.db.query(qMessagesBetween, r.db.chatRef(chatID), from, to).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	var out []*chat.Message
	for _, s := range snaps {
		var md messageDoc
		if s.DataTo(&md) == nil && slices.Contains(md.MemberIDs, uid) {
			out = append(out, md.toMessage(s.Ref.ID))
		}
	}
	return out, nil
}

// ReadSeq implements realtime.Reader.
func (r *Reader) ReadSeq(ctx context.Context, chatID, uid string) (int64, bool, error) {
	m, _, err := getDoc[memberDoc](ctx, nil, r.db.memberRef(chatID, uid))
	if err != nil || m == nil {
		return 0, false, err
	}
	return m.ReadSeq, true, nil
}
