package firestore

import (
	"context"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

// A reply stores the message it quotes (chat.Quote), so that a page of
// history needs no read per quote. When a quoted message is edited or
// deleted its replies' quotes are rewritten — without a rev or an event:
// clients apply the quoted message's own messageUpdated to the quotes
// they hold, and reads return the new quote. A message may have many
// replies, so the rewrite runs after the change's answer, in pages, from a
// to-do (quoteRefreshes/{chatId}~{messageId}) written in the change's
// commit: the answering instance refreshes at once, and a refresh cut off
// by a crash is finished by SweepQuotes on any instance.

const (
	// refreshTimeout bounds one refresh, all its pages; it runs on a
	// context of its own.
	refreshTimeout = 5 * time.Minute
	// refreshPage is how many replies one page rewrites (one commit).
	refreshPage = 300
)

// quoteRefreshDoc is quoteRefreshes/{chatId}~{messageId}.
type quoteRefreshDoc struct {
	ChatID    string    `firestore:"chatId"`
	MessageID string    `firestore:"messageId"`
	At        time.Time `firestore:"at"`
}

func (db *DB) quoteRefreshRef(chatID, mid string) *firestore.DocumentRef {
	return db.client.Collection("quoteRefreshes").Doc(chatID + "~" + mid)
}

// Close stops the quote refreshes under way and waits for them: what they
// leave, the sweeper finishes from their to-dos.
func (s *MessageService) Close() {
	s.cancel()
	s.refreshes.Wait()
}

// refreshQuotesLater rewrites the quotes of mid in the background when
// the change just committed asked for it (pc.requote on a quoted message).
func (s *MessageService) refreshQuotesLater(chatID, mid string, pc *pendingChange) {
	if pc == nil || pc.doc == nil || !pc.doc.Quoted || !pc.requote {
		return
	}
	s.refreshes.Go(func() {
		if err := s.refreshQuotes(s.stop, chatID, mid); err != nil && s.stop.Err() == nil {
			s.db.Log.Warn("quote refresh failed; the sweeper will finish it", "chat", chatID, "message", mid, "err", err.Error())
		}
	})
}

// refreshQuotes rewrites the quote in every reply to mid from the message
// as it is now, page by page, then removes the to-do unless a later change
// wrote it again meanwhile (then it runs once more).
func (s *MessageService) refreshQuotes(ctx context.Context, chatID, mid string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	defer cancel()
	todo := s.db.quoteRefreshRef(chatID, mid)
	for {
		snap, err := todo.Get(ctx)
		if isNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		if err := s.rewriteQuotes(ctx, chatID, mid); err != nil {
			return err
		}
		_, err = todo.Delete(ctx, firestore.LastUpdateTime(snap.UpdateTime))
		if !isFailedPrecondition(err) {
			return err
		}
	}
}

// rewriteQuotes sets every reply's quote of mid to the message's own.
func (s *MessageService) rewriteQuotes(ctx context.Context, chatID, mid string) error {
	doc, _, err := getDoc[messageDoc](ctx, nil, s.db.messages(chatID).Doc(mid))
	if err != nil || doc == nil {
		return err
	}
	q := toQuoteDoc(chat.QuoteOf(doc.toMessage(mid)))
	after := ""
	for {
		query := s.db.query(qRepliesTo, s.db.chatRef(chatID), mid).Limit(refreshPage)
		if after != "" {
			query = query.StartAfter(after)
		}
		snaps, err := query.Documents(ctx).GetAll()
		if err != nil || len(snaps) == 0 {
			return err
		}
		b := s.db.client.Batch()
		for _, snap := range snaps {
			b.Update(snap.Ref, []firestore.Update{{Path: "replyTo", Value: q}})
		}
		if _, err := b.Commit(ctx); err != nil && !isNotFound(err) {
			return err
		}
		after = snaps[len(snaps)-1].Ref.ID
	}
}

// SweepQuotes finishes the quote refreshes pending for longer than
// olderThan (their instance died), and answers how many it finished.
func (s *MessageService) SweepQuotes(ctx context.Context, olderThan time.Duration) (int, error) {
	snaps, err := s.db.query(qQuoteRefreshesBefore, nil, s.db.now().Add(-olderThan)).Limit(100).Documents(ctx).GetAll()
	if err != nil {
		return 0, translate(err)
	}
	for i, snap := range snaps {
		var d quoteRefreshDoc
		if err := snap.DataTo(&d); err != nil {
			return i, translate(err)
		}
		if err := s.refreshQuotes(ctx, d.ChatID, d.MessageID); err != nil {
			return i, translate(err)
		}
	}
	return len(snaps), nil
}
