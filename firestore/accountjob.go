package firestore

import (
	"context"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	gax "github.com/googleapis/gax-go/v2"
	"golang.org/x/sync/errgroup"

	"github.com/chatapp/chat"
)

// The background half of an account's deletion (account.go): a page at a
// time, each page's progress recorded with the lease's renewal in one
// write conditional on the job as this instance last wrote it. An
// instance that loses the lease (it stalled past it and another took
// over) stops at its next page; redoing a page is harmless.

// Job pages: quotes and renames are plain updates; tombstones go through
// their chats' queues (≤ tombstonesInFlight at once, well under a
// queue's batch, so members' sends beside them keep their floor).
const (
	renamePage         = 300
	tombstonePage      = 100
	tombstonesInFlight = 20
)

// runLater runs uid's job in the background, its lease already held.
func (s *AccountService) runLater(uid string) {
	s.jobs.Go(func() {
		if err := s.run(s.stop, uid); err != nil && s.stop.Err() == nil {
			s.db.Log.Warn("account clean-up stopped; another instance will resume it", "user", uid, "err", err.Error())
		}
	})
}

// pageTries is how many times in a row a page may fail (a deadline on a
// busy store, say) before the job is left to the next sweep.
const pageTries = 3

// run works through uid's job until it is done or the lease is lost.
// A page that fails is tried again after a second: what it committed
// stays done, and the lease, renewed by the last page recorded, is still
// this instance's or the record fails its condition.
func (s *AccountService) run(ctx context.Context, uid string) error {
	for failed := 0; ; {
		finished, err := s.page(ctx, uid)
		switch {
		case err == nil && finished:
			return nil
		case err == nil:
			failed = 0
		case failed+1 >= pageTries || ctx.Err() != nil:
			return err
		default:
			failed++
			s.db.Log.Warn("account clean-up page failed; trying again", "user", uid, "err", err.Error())
			if err := gax.Sleep(ctx, time.Second); err != nil {
				return err
			}
		}
	}
}

// page does one page of uid's job and records it, all within half a lease
// (so the record renews the lease before it lapses); finished tells that
// the job is done or no longer this instance's.
func (s *AccountService) page(ctx context.Context, uid string) (finished bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, s.lease/2)
	defer cancel()
	ref := s.db.deletedUserRef(uid)
	d, snap, err := getDoc[deletedUserDoc](ctx, nil, ref)
	if err != nil || d == nil || d.LeaseUntil == nil {
		return true, err
	}
	cursor, done, chats, err := s.step(ctx, uid, d)
	if err != nil || d.Phase == phaseAccount {
		return false, err // endAccount moved the phase on itself
	}
	if _, err := ref.Update(ctx, progress(d.Phase, cursor, done, chats, s.db.now(), s.lease), firestore.LastUpdateTime(snap.UpdateTime)); err != nil {
		return true, ignorePrecondition(err) // another instance took the job over
	}
	if done && nextPhase(d.Phase) == phaseDone {
		s.db.Log.Info("account clean-up finished", "user", uid, "deleteMessages", d.DeleteMessages)
		return true, nil
	}
	return false, nil
}

// progress is the job's record after a page of phase: where it got to
// (the next phase's start when done), the chats it found, the lease
// renewed (released once all is done).
func progress(phase, cursor string, done bool, chats []string, now time.Time, lease time.Duration) []firestore.Update {
	var until any = now.Add(lease)
	ups := []firestore.Update{{Path: "cursor", Value: cursor}}
	if done {
		next := nextPhase(phase)
		ups = []firestore.Update{{Path: "cursor", Value: ""}, {Path: "phase", Value: next}}
		if next == phaseDone {
			until = firestore.Delete
			ups = append(ups, firestore.Update{Path: "expireAt", Value: now.Add(deletedUserTTL)})
		}
	}
	if len(chats) > 0 {
		ups = append(ups, firestore.Update{Path: "chats", Value: firestore.ArrayUnion(anys(chats)...)})
	}
	return append(ups, firestore.Update{Path: "leaseUntil", Value: until})
}

// anys is ss as the values of an array transform.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// deletedUserTTL is how long a finished tombstone is kept: past every
// token's lifetime (1 hour), so no instance can make the profile again.
const deletedUserTTL = 24 * time.Hour

func nextPhase(p string) string {
	phases := []string{phaseAccount, phaseQuotes, phaseMessages, phaseChats, phaseDone}
	i := slices.Index(phases, p)
	if i < 0 || i == len(phases)-1 {
		return phaseDone
	}
	return phases[i+1]
}

// step does one page of the job's phase: where it got to, whether the
// phase is done, and the chats it found the account's messages in.
func (s *AccountService) step(ctx context.Context, uid string, d *deletedUserDoc) (cursor string, done bool, chats []string, err error) {
	switch d.Phase {
	case phaseAccount: // the deletion's answer never came: its instance died
		return "", false, nil, s.endAccount(ctx, uid)
	case phaseQuotes:
		cursor, done, err = s.renameQuotes(ctx, uid, d.Cursor)
		return cursor, done, nil, err
	case phaseMessages:
		return s.renameMessages(ctx, uid, d.Cursor, d.DeleteMessages)
	case phaseChats:
		return "", true, nil, s.finishChats(ctx, uid, d.Chats)
	}
	return "", true, nil, nil
}

// after continues q (ordered by document name) after the document at path.
func (s *AccountService) after(q firestore.Query, path string) firestore.Query {
	if path == "" {
		return q
	}
	return q.StartAfter(s.db.client.Doc(path))
}

// renameQuotes renames the account in the quotes of its messages.
func (s *AccountService) renameQuotes(ctx context.Context, uid, cursor string) (string, bool, error) {
	q := s.after(s.db.query(qRepliesToSender, nil, uid), cursor)
	snaps, err := q.Select("replyTo.username").Limit(renamePage).Documents(ctx).GetAll()
	if err != nil || len(snaps) == 0 {
		return cursor, err == nil, err
	}
	var refs []*firestore.DocumentRef
	for _, snap := range snaps {
		if name, _ := snap.Data()["replyTo"].(map[string]any)["username"].(string); name != chat.DeletedUsername {
			refs = append(refs, snap.Ref)
		}
	}
	err = s.update(ctx, refs, firestore.Update{Path: "replyTo.username", Value: chat.DeletedUsername})
	return relPath(snaps[len(snaps)-1].Ref), len(snaps) < renamePage, err
}

// renameMessages renames a page of the account's messages, or tombstones
// them, and returns their chats.
func (s *AccountService) renameMessages(ctx context.Context, uid, cursor string, tombstone bool) (string, bool, []string, error) {
	page := renamePage
	if tombstone {
		page = tombstonePage
	}
	q := s.after(s.db.query(qMessagesOfSender, nil, uid), cursor)
	snaps, err := q.Select("senderUsername", "deletedAt").Limit(page).Documents(ctx).GetAll()
	if err != nil || len(snaps) == 0 {
		return cursor, err == nil, nil, err
	}
	var refs []*firestore.DocumentRef
	var chats []string
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tombstonesInFlight)
	for _, snap := range snaps {
		chatID := snap.Ref.Parent.Parent.ID
		if !slices.Contains(chats, chatID) {
			chats = append(chats, chatID)
		}
		deleted := snap.Data()["deletedAt"] != nil
		name, _ := snap.Data()["senderUsername"].(string)
		switch {
		case tombstone && !deleted:
			g.Go(func() error { return s.messages.tombstone(gctx, chatID, snap.Ref.ID, uid) })
		case name != chat.DeletedUsername:
			refs = append(refs, snap.Ref)
		}
	}
	if err := g.Wait(); err != nil {
		return cursor, false, nil, err
	}
	err = s.update(ctx, refs, firestore.Update{Path: "senderUsername", Value: chat.DeletedUsername})
	return relPath(snaps[len(snaps)-1].Ref), len(snaps) < page, chats, err
}

// relPath is a document's path below the database ("chats/…/messages/…").
func relPath(ref *firestore.DocumentRef) string {
	_, p, _ := strings.Cut(ref.Path, "/documents/")
	return p
}

// update applies one update to every ref in one BulkWriter.
func (s *AccountService) update(ctx context.Context, refs []*firestore.DocumentRef, up firestore.Update) error {
	return s.db.bulk(ctx, refs, func(bw *firestore.BulkWriter, ref *firestore.DocumentRef) (*firestore.BulkWriterJob, error) {
		return bw.Update(ref, []firestore.Update{up})
	})
}

// finishChats renames the account in the chats' last-message copies and
// takes it off the groups' lists: their messages are renamed now.
func (s *AccountService) finishChats(ctx context.Context, uid string, chats []string) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, id := range chats {
		g.Go(func() error {
			return s.db.client.RunTransaction(gctx, func(ctx context.Context, tx *firestore.Transaction) error {
				d, _, err := getDoc[chatDoc](ctx, tx, s.db.chatRef(id))
				if err != nil || d == nil {
					return err
				}
				var ups []firestore.Update
				if m := d.LastMessage; m != nil && m.SenderID == uid && m.SenderUsername != chat.DeletedUsername {
					ups = append(ups, firestore.Update{Path: "lastMessage.senderUsername", Value: chat.DeletedUsername})
				}
				if d.IsGroup && slices.Contains(d.DeletedUsers, uid) {
					ups = append(ups, firestore.Update{Path: "deletedUsers", Value: firestore.ArrayRemove(uid)})
				}
				if len(ups) == 0 {
					return nil
				}
				return tx.Update(s.db.chatRef(id), ups)
			})
		})
	}
	return g.Wait()
}

// SweepAccounts takes over the jobs of deleted accounts whose lease has
// lapsed (their instance died or stalled) and runs them here.
func (s *AccountService) SweepAccounts(ctx context.Context) (int, error) {
	now := s.db.now()
	snaps, err := s.db.query(qAccountJobsDue, nil, now).Limit(20).Documents(ctx).GetAll()
	if err != nil {
		return 0, translate(err)
	}
	n := 0
	for _, snap := range snaps {
		_, err := snap.Ref.Update(ctx, []firestore.Update{{Path: "leaseUntil", Value: now.Add(s.lease)}}, firestore.LastUpdateTime(snap.UpdateTime))
		if isFailedPrecondition(err) || isNotFound(err) {
			continue // taken by another sweeper
		} else if err != nil {
			return n, translate(err)
		}
		n++
		s.runLater(snap.Ref.ID)
	}
	return n, nil
}
