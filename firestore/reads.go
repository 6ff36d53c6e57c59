package firestore

import (
	"context"
	"slices"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// The reads every service (and the realtime reader) shares are functions of
// the storage handle, not of one service.

// get reads a document in tx, or outside any transaction when tx is nil.
func get(ctx context.Context, tx *firestore.Transaction, ref *firestore.DocumentRef) (*firestore.DocumentSnapshot, error) {
	if tx != nil {
		return tx.Get(ref)
	}
	return ref.Get(ctx)
}

// getDoc reads a document (in tx when not nil) into a T: nil and no error
// when it does not exist. The snapshot is for its update time.
func getDoc[T any](ctx context.Context, tx *firestore.Transaction, ref *firestore.DocumentRef) (*T, *firestore.DocumentSnapshot, error) {
	snap, err := get(ctx, tx, ref)
	if isNotFound(err) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	v := new(T)
	if err := snap.DataTo(v); err != nil {
		return nil, nil, err
	}
	return v, snap, nil
}

// chatOf reads a chat the caller is a member of (by the chat's member
// list), ENOTFOUND for a chat that does not exist or that the caller is not
// in: no existence leak.
func (db *DB) chatOf(ctx context.Context, tx *firestore.Transaction, chatID, uid string) (*chatDoc, error) {
	doc, _, err := getDoc[chatDoc](ctx, tx, db.chatRef(chatID))
	if err != nil {
		return nil, err
	}
	if doc == nil || !slices.Contains(doc.MemberIDs, uid) {
		return nil, errChatNotFound()
	}
	return doc, nil
}

// member is chatOf plus the caller's membership document (read marker).
func (db *DB) member(ctx context.Context, tx *firestore.Transaction, chatID, uid string) (*chatDoc, *memberDoc, error) {
	doc, err := db.chatOf(ctx, tx, chatID, uid)
	if err != nil {
		return nil, nil, err
	}
	m, _, err := getDoc[memberDoc](ctx, tx, db.memberRef(chatID, uid))
	if err != nil {
		return nil, nil, err
	}
	if m == nil {
		return nil, nil, errChatNotFound()
	}
	return doc, m, nil
}

// lastMessages returns the newest n messages, oldest first.
func (db *DB) lastMessages(ctx context.Context, chatID string, n int) ([]*chat.Message, error) {
	docs, err := db.query(qMessagesLatest, db.chatRef(chatID)).Limit(n).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	out := make([]*chat.Message, len(docs))
	for i, d := range docs {
		var m messageDoc
		if err := d.DataTo(&m); err != nil {
			return nil, err
		}
		out[len(docs)-1-i] = m.toMessage(d.Ref.ID)
	}
	return out, nil
}

// getUsers reads profiles by id in one call; missing ones are absent from
// the map.
func (db *DB) getUsers(ctx context.Context, ids []string) (map[string]*chat.User, error) {
	refs := make([]*firestore.DocumentRef, 0, len(ids))
	seen := map[string]bool{}
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			refs = append(refs, db.userRef(id))
		}
	}
	out := make(map[string]*chat.User, len(refs))
	err := db.getEach(ctx, refs, func(snap *firestore.DocumentSnapshot) {
		out[snap.Ref.ID] = toUser(snap, snap.Ref.ID)
	})
	return out, err
}

// getEach reads refs in one call (none when there are none) and hands
// each document that exists to use.
func (db *DB) getEach(ctx context.Context, refs []*firestore.DocumentRef, use func(*firestore.DocumentSnapshot)) error {
	if len(refs) == 0 {
		return nil
	}
	snaps, err := db.client.GetAll(ctx, refs)
	if err != nil {
		return err
	}
	for _, snap := range snaps {
		if snap.Exists() {
			use(snap)
		}
	}
	return nil
}

// Presence's audience is bounded whatever a user's chats: anyone can add
// anyone to groups, and reading every chat of a user in 10,000 of them on
// each flip and search (and writing that audience into one document, past
// Firestore's 20,000 index entries) would let others set a user's costs.
const (
	// audienceChats is how many of a user's chats, the most recently
	// active, make their presence audience.
	audienceChats = 100
	// maxAudience caps the audience written on a flip (≤ 2,000 index
	// entries, ≤ ~130 KB).
	maxAudience = 2000
)

// coMembers returns who shares one of uid's audienceChats most recently
// active chats with uid, uid excluded, at most maxAudience of them (those
// of the most active chats first): at most audienceChats reads. It is a
// flip's audience, and whose presence uid may see. A co-member met only
// in older chats gets no live presence events and sees uid's presence
// only on reads of a chat they share (design.md, "Presence").
func (db *DB) coMembers(ctx context.Context, uid string) ([]string, error) {
	snaps, err := db.query(qChatsOfUser, nil, uid).Select("memberIds").Limit(audienceChats).Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{uid: true}
	var out []string
	for _, snap := range snaps {
		ids, _ := snap.Data()["memberIds"].([]any)
		for _, id := range ids {
			if m, ok := id.(string); ok && !seen[m] && len(out) < maxAudience {
				seen[m] = true
				out = append(out, m)
			}
		}
	}
	return out, nil
}

// bulk writes to every ref in one BulkWriter, write naming each one's
// write, and returns the first failure; a document not found counts as
// written (deleting or renaming what is gone already).
func (db *DB) bulk(ctx context.Context, refs []*firestore.DocumentRef, write func(*firestore.BulkWriter, *firestore.DocumentRef) (*firestore.BulkWriterJob, error)) error {
	bw := db.client.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, 0, len(refs))
	for _, ref := range refs {
		j, err := write(bw, ref)
		if err != nil {
			bw.End()
			return err
		}
		jobs = append(jobs, j)
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil && !isNotFound(err) {
			return err
		}
	}
	return nil
}

// deleteAll deletes what q finds, a page at a time.
func (db *DB) deleteAll(ctx context.Context, q firestore.Query) error {
	for {
		snaps, err := q.Select().Limit(400).Documents(ctx).GetAll()
		if err != nil || len(snaps) == 0 {
			return err
		}
		refs := make([]*firestore.DocumentRef, len(snaps))
		for i, snap := range snaps {
			refs[i] = snap.Ref
		}
		if err := db.bulk(ctx, refs, func(bw *firestore.BulkWriter, ref *firestore.DocumentRef) (*firestore.BulkWriterJob, error) {
			return bw.Delete(ref)
		}); err != nil {
			return err
		}
	}
}
