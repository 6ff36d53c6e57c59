package firestore

import (
	"context"

	"cloud.google.com/go/firestore"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"

	"github.com/chatapp/chat"
)

// MarkRead implements chat.ChatService.
func (s *ChatService) MarkRead(ctx context.Context, chatID string) error {
	uid, err := callerIn(ctx, chatID)
	if err != nil {
		return err
	}
	// Moving the marker is idempotent, so a call the server cancelled or
	// could not serve is tried again (gax: backoff until ctx's deadline).
	err = gax.Invoke(ctx, func(ctx context.Context, _ gax.CallSettings) error { return s.markRead(ctx, chatID, uid) },
		gax.WithRetry(func() gax.Retryer {
			return gax.OnCodes([]codes.Code{codes.Unavailable, codes.Canceled}, gax.Backoff{Initial: retryInitial, Max: retryMax})
		}))
	return translate(err)
}

// markRead moves the user's marker to the chat's last seq, never back.
// Most opens of a chat find nothing unread: those are answered from plain
// reads. A move is an update of the membership conditional on the version
// read (no transaction: a client reading as messages arrive sends many at
// once, and locks would make them time out): of two racing moves one
// commits and the other reads again, finding the marker moved (nothing to
// do) or still behind a newer message. The chat document — written by
// every send of a busy chat — is only read; its last seq is one the user
// has seen. A marker that moves is a receipt for the chat's room
// (receiptAt), unless the reader hides receipts; the members who block
// the reader, or whom the reader blocks, are named so that their sockets
// do not get it.
func (s *ChatService) markRead(ctx context.Context, chatID, uid string) error {
	d, err := s.db.chatOf(ctx, nil, chatID, uid)
	if err != nil {
		return err
	}
	var ups []firestore.Update
	for attempt := 0; attempt < txAttempts; attempt++ {
		m, snap, err := getDoc[memberDoc](ctx, nil, s.db.memberRef(chatID, uid))
		if err != nil {
			return err
		}
		if m == nil {
			return errChatNotFound()
		}
		if m.ReadSeq >= d.LastSeq || d.LastMessage == nil {
			return nil // nothing unread: no write, no event
		}
		if ups == nil {
			if ups, err = s.readUpdates(ctx, uid, d); err != nil {
				return err
			}
		}
		_, err = s.db.memberRef(chatID, uid).Update(ctx, ups, firestore.LastUpdateTime(snap.UpdateTime))
		if !isFailedPrecondition(err) {
			return err
		}
	}
	return chat.Errorf(chat.ERATELIMITED, "This chat is being read too often at once; retry in a moment.")
}

// readUpdates are the writes of a read marker moved to d's newest
// message by uid: with a receipt unless uid hides them (two reads: the
// profile, the blockers).
func (s *ChatService) readUpdates(ctx context.Context, uid string, d *chatDoc) ([]firestore.Update, error) {
	users, err := s.db.getUsers(ctx, []string{uid})
	if err != nil {
		return nil, err
	}
	me := users[uid]
	hide := me != nil && me.Privacy.HideReceipts
	except, err := s.db.keptFrom(ctx, uid, me, d.MemberIDs)
	if err != nil {
		return nil, err
	}
	ups := []firestore.Update{{Path: "readSeq", Value: d.LastSeq}, {Path: "lastReadId", Value: d.LastMessage.ID},
		{Path: "lastReadAt", Value: firestore.ServerTimestamp}}
	if hide {
		return append(ups, firestore.Update{Path: "receiptAt", Value: firestore.Delete}), nil
	}
	return append(ups, firestore.Update{Path: "receiptAt", Value: firestore.ServerTimestamp},
		firestore.Update{Path: "receiptExcept", Value: except}), nil
}
