package firestore

import (
	"context"

	"cloud.google.com/go/firestore"
	gax "github.com/googleapis/gax-go/v2"
	"google.golang.org/grpc/codes"
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
// reads, without a transaction. The transaction reads the member document
// only: two opens racing cannot move the marker back, and the chat
// document — written by every send of a busy chat — is not locked against
// its senders; its last seq, read just before, is one the user has seen.
// A marker that moves is a receipt for the chat's room (receiptAt), unless
// the reader hides receipts; the members who block the reader, or whom
// the reader blocks, are named so that their sockets do not get it.
func (s *ChatService) markRead(ctx context.Context, chatID, uid string) error {
	d, m, err := s.db.member(ctx, nil, chatID, uid)
	if err != nil {
		return err
	}
	if m.ReadSeq >= d.LastSeq || d.LastMessage == nil {
		return nil
	}
	hide, except, err := s.db.keptFrom(ctx, uid, d.MemberIDs)
	if err != nil {
		return err
	}
	ups := []firestore.Update{{Path: "readSeq", Value: d.LastSeq}, {Path: "lastReadId", Value: d.LastMessage.ID},
		{Path: "lastReadAt", Value: firestore.ServerTimestamp}}
	if hide {
		ups = append(ups, firestore.Update{Path: "receiptAt", Value: firestore.Delete})
	} else {
		ups = append(ups, firestore.Update{Path: "receiptAt", Value: firestore.ServerTimestamp},
			firestore.Update{Path: "receiptExcept", Value: except})
	}
	return s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		m, _, err := getDoc[memberDoc](ctx, tx, s.db.memberRef(chatID, uid))
		if err != nil {
			return err
		}
		if m == nil {
			return errChatNotFound()
		}
		if m.ReadSeq >= d.LastSeq {
			return nil // nothing unread: no write, no event
		}
		return tx.Update(s.db.memberRef(chatID, uid), ups)
	})
}
