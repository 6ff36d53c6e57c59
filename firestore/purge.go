package firestore

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// A deleted chat's messages, keys, typing entries and attachments are
// removed after the deletion has been answered: nothing reaches them once
// the chat is gone (every access checks membership first), so the caller
// need not wait, and a purge cut short leaves storage, not visible data.
// The deletion writes a to-do (purges/{chatId}) in its own transaction;
// the answering instance purges at once, and a purge cut off by a crash is
// finished by SweepPurges on any instance.

// Close stops the purges under way and waits for them to return.
func (s *ChatService) Close() {
	s.cancel()
	s.purges.Wait()
}

// purgeLater purges a chat just deleted in the background: the deletion is
// what the caller waits for; its messages and files cannot be reached
// from then on, so their removal need not hold the answer.
func (s *ChatService) purgeLater(chatID string) {
	s.purges.Go(func() {
		if err := s.purge(s.stop, chatID); err != nil && s.stop.Err() == nil {
			s.db.Log.Warn("purge failed; the sweeper will finish it", "chatId", chatID, "err", err.Error())
		}
	})
}

// purgeTimeout bounds a purge; it runs on a context of its own, so a
// client that goes away does not leave a chat's documents behind.
const purgeTimeout = 2 * time.Minute

// purge deletes what a deleted chat leaves below it: its attachments, then
// its documents in bounded batches. Nothing reaches them once the chat is
// gone (every access checks membership first), so a purge cut short leaves
// storage, not visible data. An upload racing the delete fails its commit
// (the chat is gone) and removes its own object.
func (s *ChatService) purge(ctx context.Context, chatID string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), purgeTimeout)
	defer cancel()
	if err := s.files.DeletePrefix(ctx, chat.FilePrefix(chatID)); err != nil {
		return err
	}
	for _, sub := range []string{"messages", "clientIds", "typing", "members"} {
		if err := s.db.deleteAll(ctx, s.db.chatRef(chatID).Collection(sub).Query); err != nil {
			return err
		}
	}
	_, err := s.db.purgeRef(chatID).Delete(ctx)
	return err
}

// purgeDoc is purges/{chatId}: a deleted chat whose documents are still
// being removed.
type purgeDoc struct {
	ChatID string    `firestore:"chatId"`
	At     time.Time `firestore:"at"`
}

func (db *DB) purgeRef(chatID string) *firestore.DocumentRef {
	return db.client.Collection("purges").Doc(chatID)
}

// SweepPurges finishes the purges of chats deleted more than olderThan ago
// that are still pending: work a crash cut off. Every instance runs it
// now and then; two doing the same purge at once is harmless.
func (s *ChatService) SweepPurges(ctx context.Context, olderThan time.Duration) (int, error) {
	snaps, err := s.db.query(qPurgesBefore, nil, s.db.now().Add(-olderThan)).Limit(100).Documents(ctx).GetAll()
	if err != nil {
		return 0, translate(err)
	}
	for _, snap := range snaps {
		if err := s.purge(ctx, snap.Ref.ID); err != nil {
			return 0, translate(err)
		}
	}
	return len(snaps), nil
}
