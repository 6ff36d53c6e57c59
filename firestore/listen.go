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
		if c, ok := decodeChange(kind, ch); ok {
			b.Changes = append(b.Changes, c)
		}
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
	docs := map[string]any{
		"messages": map[string]any{"memberIds": []string{l.hbKey}, "revAt": now, "expireAt": expire},
		"members":  map[string]any{"userId": l.hbKey, "chatId": l.hbKey, "receiptAt": now, "beat": now, "expireAt": expire},
		"typing":   map[string]any{"chatId": l.hbKey, "until": expire},
		"presence": map[string]any{"audience": []string{l.hbKey}, "at": now, "expireAt": expire},
	}
	var refs []*firestore.DocumentRef
	for _, col := range []string{"messages", "members", "typing", "presence"} {
		refs = append(refs, l.inst.Collection(col).Doc("hb"))
	}
	return l.db.bulk(ctx, refs, func(bw *firestore.BulkWriter, ref *firestore.DocumentRef) (*firestore.BulkWriterJob, error) {
		return bw.Set(ref, docs[ref.Parent.ID])
	})
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
	chat.MaskDeleted(msgs, doc.DeletedUsers)
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
