package firestore

import (
	"context"
	"sync"
	"time"

	"cloud.google.com/go/firestore"
	"golang.org/x/sync/errgroup"

	"github.com/chatapp/chat"
)

// An account's deletion answers once nothing of the account is left that
// others read as theirs: profile, username, devices, others' blocks of
// it, its memberships (groups left, direct chats kept under
// chat.DeletedUsername), its presence, and its Firebase Auth account. Its
// messages are not rewritten before the answer (100,000 of them would
// take minutes): each chat it was in lists it in deletedUsers, which
// every read masks and every send batch refuses. A background job then
// renames its messages and the quotes of them (tombstones them, with
// deleteMessages) and clears the lists. deletedUsers/{uid} is both the
// tombstone (a token still valid elsewhere for up to a minute cannot make
// the profile again: ensure reads it) and the job's to-do under a lease,
// which SweepAccounts on any instance takes over when it lapses.

var _ chat.AccountService = (*AccountService)(nil)

// deletedUserDoc is deletedUsers/{uid}.
type deletedUserDoc struct {
	At             time.Time `firestore:"at"`
	DeleteMessages bool      `firestore:"deleteMessages"`
	// Phase is the job's step: phaseAccount (what the answer waits for),
	// then quotes, messages, chats, done.
	Phase string `firestore:"phase"`
	// Cursor is the path of the last document the phase handled.
	Cursor string `firestore:"cursor"`
	// Chats are the chats whose lists (deletedUsers) and last-message
	// copies the last phase updates: those the account was in, and those
	// it has messages in.
	Chats []string `firestore:"chats"`
	// LeaseUntil is when the instance running the job must have renewed
	// it; absent once the job is done (the sweeper's query then skips it).
	LeaseUntil *time.Time `firestore:"leaseUntil,omitempty"`
	// ExpireAt is set when the job is done (TTL): by then no token of the
	// account is valid anywhere.
	ExpireAt *time.Time `firestore:"expireAt,omitempty"`
}

// The job's phases, in order.
const (
	phaseAccount  = "account"
	phaseQuotes   = "quotes"
	phaseMessages = "messages"
	phaseChats    = "chats"
	phaseDone     = "done"
)

// AccountOptions time the background job.
type AccountOptions struct {
	// Lease is how long a job's instance may go without renewing it
	// before another takes over (default 1 minute).
	Lease time.Duration
}

// AccountService implements chat.AccountService.
type AccountService struct {
	db       *DB
	chats    *ChatService
	messages *MessageService
	accounts chat.AccountRemover
	lease    time.Duration
	// stop ends the jobs under way (Close); jobs waits for them.
	stop   context.Context
	cancel context.CancelFunc
	jobs   sync.WaitGroup
}

// NewAccountService returns an AccountService deleting sign-in accounts
// through accounts.
func NewAccountService(db *DB, chats *ChatService, messages *MessageService, accounts chat.AccountRemover, opts AccountOptions) *AccountService {
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	s := &AccountService{db: db, chats: chats, messages: messages, accounts: accounts, lease: opts.Lease}
	s.stop, s.cancel = context.WithCancel(context.Background())
	return s
}

// Close stops the jobs under way (their leases lapse: another instance
// finishes them) and waits for them to return.
func (s *AccountService) Close() {
	s.cancel()
	s.jobs.Wait()
}

func (db *DB) deletedUserRef(uid string) *firestore.DocumentRef {
	return db.client.Collection("deletedUsers").Doc(uid)
}

// deleteTimeout bounds the part of a deletion the answer waits for. It
// runs on a context of its own: a client gone mid-way does not leave a
// half-deleted account for the sweeper to finish (which it would, from
// the tombstone, once its lease lapsed).
const deleteTimeout = time.Minute

// DeleteAccount implements chat.AccountService.
func (s *AccountService) DeleteAccount(ctx context.Context, del chat.AccountDeletion) error {
	uid, err := chat.CallerUID(ctx)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), deleteTimeout)
	defer cancel()
	if err := s.begin(ctx, uid, del.DeleteMessages); err != nil {
		return translate(err)
	}
	if err := s.endAccount(ctx, uid); err != nil {
		return translate(err)
	}
	s.db.Log.Info("account deleted", "user", uid, "deleteMessages", del.DeleteMessages)
	s.runLater(uid)
	return nil
}

// begin writes the tombstone, or finds it (a retried deletion), holding
// the job's lease for this instance.
func (s *AccountService) begin(ctx context.Context, uid string, deleteMessages bool) error {
	ref := s.db.deletedUserRef(uid)
	return s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		d, _, err := getDoc[deletedUserDoc](ctx, tx, ref)
		if err != nil {
			return err
		}
		now := s.db.now()
		until := now.Add(s.lease)
		if d == nil {
			return tx.Create(ref, deletedUserDoc{At: now, DeleteMessages: deleteMessages, Phase: phaseAccount, Chats: []string{}, LeaseUntil: &until})
		}
		d.LeaseUntil, d.ExpireAt, d.Phase, d.Cursor = &until, nil, phaseAccount, ""
		d.DeleteMessages = d.DeleteMessages || deleteMessages
		return tx.Set(ref, d)
	})
}

// endAccount is the part of a deletion the answer waits for; every step
// finds what an earlier attempt did and goes on. The profile goes first:
// from then on the account is shown deleted wherever it is still named.
func (s *AccountService) endAccount(ctx context.Context, uid string) error {
	by, err := s.db.blockers(ctx, uid)
	if err != nil {
		return err
	}
	if err := s.deleteProfile(ctx, uid, by); err != nil {
		return err
	}
	for _, b := range by {
		if _, err := s.db.userRef(b).Update(ctx, []firestore.Update{{Path: "blocks", Value: firestore.ArrayRemove(uid)}}); err != nil && !isNotFound(err) {
			return err
		}
	}
	chats, err := s.leaveChats(ctx, uid)
	if err != nil {
		return err
	}
	if err := s.db.deleteAll(ctx, s.db.userRef(uid).Collection("presence").Query); err != nil {
		return err
	}
	if err := s.deleteBlockNotices(ctx, uid); err != nil {
		return err
	}
	if err := s.accounts.RemoveAccount(ctx, uid); err != nil {
		return err
	}
	_, err = s.db.deletedUserRef(uid).Update(ctx, progress(phaseAccount, "", true, chats, s.db.now(), s.lease))
	return err
}

// deleteBlockNotices deletes the block notices between the account and
// others (kept by the other's flips otherwise, for the notices' hour).
// Others' flips that had it in their audience are theirs, and stay.
func (s *AccountService) deleteBlockNotices(ctx context.Context, uid string) error {
	snaps, err := s.db.query(qPresenceToUsers, nil, []string{uid}, s.db.now().Add(-presenceTTL)).Documents(ctx).GetAll()
	if err != nil {
		return err
	}
	for _, snap := range snaps {
		if n, _ := snap.Data()["notice"].(string); n == "block" || n == "unblock" {
			if _, err := snap.Ref.Delete(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// leaveChats takes the account out of every chat it is in (see leaveChat),
// a few at a time, and returns them.
func (s *AccountService) leaveChats(ctx context.Context, uid string) ([]string, error) {
	snaps, err := s.db.query(qChatsOfUser, nil, uid).Select().Documents(ctx).GetAll()
	if err != nil {
		return nil, err
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	ids := make([]string, len(snaps))
	for i, snap := range snaps {
		ids[i] = snap.Ref.ID
		g.Go(func() error { return s.leaveChat(gctx, snap.Ref.ID, uid) })
	}
	return ids, g.Wait()
}
