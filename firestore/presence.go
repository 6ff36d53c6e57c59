package firestore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat/presence"
)

var _ presence.SessionStore = (*Sessions)(nil)

// Sessions implements presence.SessionStore: which users have sockets on
// which instance, each instance's lease, and the users' online status.
//
//   - sessions/{instance}:{uid}: uid has a socket on instance. Written on
//     the user's first socket there, deleted after the grace that follows
//     their last; never renewed: the instance's lease vouches for them all.
//   - leases/{instance}: renewed every few seconds; one whose expiry has
//     passed belongs to an instance that died (or closed): any instance
//     ends its sessions, so its users go offline.
//   - users/{uid}.sessions{instance: since}, online, lastSeen,
//     presenceVersion: the same sessions listed on the user, so that a
//     transaction on that one document decides whether a session was the
//     last; the last to end turns the user offline exactly once, whichever
//     instance ends it.
//   - users/{uid}/presence/{version}: each flip, written once with its
//     audience (everyone who shares a chat with the user); the engine's
//     presence listeners match it by audience (array-contains-any).
type Sessions struct {
	db       *DB
	instance string
	// leaseWritten is the update time of this instance's last lease
	// write. Only the lease loop (Renew, Release) uses it: one goroutine.
	leaseWritten time.Time
	// clock is Firestore's time as this instance last saw it: leases are
	// written and judged on it, never on a local clock that may be skewed.
	clock serverClock
}

// serverClock estimates Firestore's clock: the update or read time of the
// latest answer, plus the time elapsed since on the local monotonic clock
// (a skewed wall clock is an offset, and elapsed time is free of it).
type serverClock struct {
	mu     sync.Mutex // guards server, local
	server time.Time  // Firestore's time in the latest answer; zero before one
	local  time.Time  // time.Now() when that answer arrived
}

func (c *serverClock) sample(server time.Time) {
	if server.IsZero() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.server, c.local = server, time.Now()
}

// now is Firestore's time now; ok is false before any answer.
func (c *serverClock) now() (t time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.server.IsZero() {
		return time.Time{}, false
	}
	return c.server.Add(time.Since(c.local)).UTC().Truncate(time.Millisecond), true
}

// NewSessions returns the session store of the instance named instanceID.
func NewSessions(db *DB, instanceID string) *Sessions {
	return &Sessions{db: db, instance: instanceID}
}

// sessionDoc is sessions/{instance}:{uid}.
type sessionDoc struct {
	UserID   string    `firestore:"userId"`
	Instance string    `firestore:"instance"`
	Since    time.Time `firestore:"since"`
}

// leaseDoc is leases/{instance}.
type leaseDoc struct {
	RenewedAt time.Time `firestore:"renewedAt"`
	ExpiresAt time.Time `firestore:"expiresAt"`
	// ClosedAt is set by an instance shutting down: when its sockets
	// closed, its users' lastSeen.
	ClosedAt *time.Time `firestore:"closedAt"`
}

// presenceDoc is users/{uid}/presence/{version}: one flip and who may
// see it.
type presenceDoc struct {
	UserID   string    `firestore:"userId"`
	Online   bool      `firestore:"online"`
	LastSeen time.Time `firestore:"lastSeen"`
	Version  int64     `firestore:"version"`
	Audience []string  `firestore:"audience"`
	At       time.Time `firestore:"at"`
	ExpireAt time.Time `firestore:"expireAt"` // TTL: flips are news for minutes only
}

// presenceTTL is how long a flip document is kept for listeners that
// restart and look back (they look back seconds).
const presenceTTL = time.Hour

func (s *Sessions) sessionRef(instance, uid string) *firestore.DocumentRef {
	return s.db.client.Collection("sessions").Doc(instance + ":" + uid)
}

func (s *Sessions) leaseRef(instance string) *firestore.DocumentRef {
	return s.db.client.Collection("leases").Doc(instance)
}

// Connect implements presence.SessionStore. The transaction reads one
// document, the user's: their sessions are listed on it too, so sessions
// of different users never contend (a query in a transaction would lock
// the whole range it reads).
func (s *Sessions) Connect(ctx context.Context, uid string, at time.Time) error {
	ref := s.sessionRef(s.instance, uid)
	userRef := s.db.userRef(uid)
	err := s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		u, _, err := getDoc[userDoc](ctx, tx, userRef)
		if err != nil || u == nil {
			return err // no profile yet: GET /api/me makes it before any socket
		}
		if err := tx.Set(ref, sessionDoc{UserID: uid, Instance: s.instance, Since: at}); err != nil {
			return err
		}
		var ups []firestore.Update
		if _, ok := u.Sessions[s.instance]; !ok {
			ups = append(ups, firestore.Update{FieldPath: firestore.FieldPath{"sessions", s.instance}, Value: at})
		}
		if !u.Online {
			return s.flip(ctx, tx, uid, u, true, at, ups)
		}
		if len(ups) == 0 {
			return nil
		}
		return tx.Update(userRef, ups)
	})
	return translate(err)
}

// Disconnect implements presence.SessionStore.
func (s *Sessions) Disconnect(ctx context.Context, uid string, at time.Time) error {
	return translate(s.end(ctx, s.instance, uid, at))
}

// end deletes a session; if it was the user's last, the user goes offline
// with lastSeen at (or a later close recorded on the user).
func (s *Sessions) end(ctx context.Context, instance, uid string, at time.Time) error {
	_, err := s.endBefore(ctx, instance, uid, at, time.Time{})
	return err
}

// endBefore is end for a sweeper: a session written after cutoff (zero:
// none) was recorded again by its owner and is kept; ended tells whether
// it was ended.
func (s *Sessions) endBefore(ctx context.Context, instance, uid string, at, cutoff time.Time) (ended bool, err error) {
	ref := s.sessionRef(instance, uid)
	userRef := s.db.userRef(uid)
	err = s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		ended = false
		if !cutoff.IsZero() {
			snap, err := tx.Get(ref)
			if err != nil && !isNotFound(err) {
				return err
			} else if err == nil && snap.UpdateTime.After(cutoff) {
				return nil
			}
		}
		ended = true
		u, _, err := getDoc[userDoc](ctx, tx, userRef)
		if err != nil {
			return err
		}
		if err := tx.Delete(ref); err != nil {
			return err
		}
		if u == nil {
			return nil
		}
		if _, ok := u.Sessions[instance]; !ok {
			return nil // ended already
		}
		ups := []firestore.Update{{FieldPath: firestore.FieldPath{"sessions", instance}, Value: firestore.Delete}}
		if len(u.Sessions) > 1 {
			// A session elsewhere keeps the user online; remember this
			// close in case it was the latest, for their lastSeen.
			if u.LastClosedAt == nil || at.After(*u.LastClosedAt) {
				ups = append(ups, firestore.Update{Path: "lastClosedAt", Value: at})
			}
			return tx.Update(userRef, ups)
		}
		if !u.Online {
			return tx.Update(userRef, ups)
		}
		if u.LastClosedAt != nil && u.LastClosedAt.After(at) && u.LastSeen != nil && u.LastClosedAt.After(*u.LastSeen) {
			at = *u.LastClosedAt // a later close of this online period, on another instance
		}
		return s.flip(ctx, tx, uid, u, false, at, ups)
	})
	return ended, err
}

// heardBy is who of audience hears of u's presence: nobody in a block
// with u (whom u blocks, on u; who block u, by).
func (u *userDoc) heardBy(audience, by []string) []string {
	return slices.DeleteFunc(audience, func(m string) bool { return slices.Contains(u.Blocks, m) || slices.Contains(by, m) })
}

// flip changes the user's status, with the other updates ups of their
// document in the same write, and publishes it to the audience, read
// outside the transaction: the chats it reads are busy documents, and
// locking them would make sends and flips retry each other.
func (s *Sessions) flip(ctx context.Context, tx *firestore.Transaction, uid string, u *userDoc, online bool, at time.Time, ups []firestore.Update) error {
	audience, err := s.db.coMembers(ctx, uid)
	if err != nil {
		return err
	}
	// Nobody in a block with the user hears of it (one read more: the
	// blockers; the user's own blocks are on u).
	by, err := s.db.blockers(ctx, uid)
	if err != nil {
		return err
	}
	audience = u.heardBy(audience, by)
	v := u.PresenceVersion + 1
	ups = append(ups, firestore.Update{Path: "online", Value: online}, firestore.Update{Path: "lastSeen", Value: at},
		firestore.Update{Path: "presenceVersion", Value: v})
	if err := tx.Update(s.db.userRef(uid), ups); err != nil {
		return err
	}
	if len(audience) == 0 {
		return nil // nobody to tell
	}
	now := s.db.now()
	return tx.Create(s.db.userRef(uid).Collection("presence").Doc(fmt.Sprintf("%012d", v)), presenceDoc{
		UserID: uid, Online: online, LastSeen: at, Version: v, Audience: audience, At: now, ExpireAt: now.Add(presenceTTL),
	})
}

// Renew implements presence.SessionStore. The update is conditional on the
// lease being as this instance last wrote it: a sweeper that took it (this
// instance was paused past its expiry) ended its sessions, and lost tells
// the caller to record them again on a fresh lease. The expiry is written
// on Firestore's clock: a new lease's first write learns it.
func (s *Sessions) Renew(ctx context.Context, ttl time.Duration) (lost bool, err error) {
	ref := s.leaseRef(s.instance)
	if now, ok := s.clock.now(); ok && !s.leaseWritten.IsZero() {
		wr, err := ref.Update(ctx, []firestore.Update{{Path: "renewedAt", Value: now}, {Path: "expiresAt", Value: now.Add(ttl)}},
			firestore.LastUpdateTime(s.leaseWritten))
		if err == nil {
			s.leaseWritten = wr.UpdateTime
			s.clock.sample(wr.UpdateTime)
			return false, nil
		} else if !isNotFound(err) && !isFailedPrecondition(err) {
			return false, translate(err)
		}
		lost = true
	}
	// A new lease. Its sessions are recorded after Renew returns, so the
	// expiry of the first write, on the local clock, is wrong for one
	// round trip with nothing to end; the second sets it right.
	local := s.db.now()
	wr, err := ref.Set(ctx, leaseDoc{RenewedAt: local, ExpiresAt: local.Add(ttl)})
	if err != nil {
		return lost, translate(err)
	}
	s.clock.sample(wr.UpdateTime)
	now, _ := s.clock.now()
	if wr, err = ref.Update(ctx, []firestore.Update{{Path: "renewedAt", Value: now}, {Path: "expiresAt", Value: now.Add(ttl)}},
		firestore.LastUpdateTime(wr.UpdateTime)); err != nil {
		return lost, translate(err)
	}
	s.leaseWritten = wr.UpdateTime
	return lost, nil
}

// Release implements presence.SessionStore: the instance's sockets closed
// at at; its sessions end grace later (on Firestore's clock), by whichever
// instance sweeps.
func (s *Sessions) Release(ctx context.Context, at time.Time, grace time.Duration) error {
	exp, ok := s.clock.now()
	if !ok {
		exp = s.db.now()
	}
	exp = exp.Add(grace - time.Since(at))
	_, err := s.leaseRef(s.instance).Set(ctx, leaseDoc{RenewedAt: at, ExpiresAt: exp, ClosedAt: &at})
	return translate(err)
}

// Sweep implements presence.SessionStore: it ends the sessions of expired
// leases, the users' lastSeen being when the instance closed or was last
// known alive, then deletes the lease. It returns the sessions ended.
// Expiry is judged on Firestore's clock (the read's time against the
// expiry its owner wrote on it); sessions recorded again after the lease
// was taken, and a lease its owner wrote again, are left alone.
func (s *Sessions) Sweep(ctx context.Context) (int, error) {
	now, ok := s.clock.now()
	if !ok {
		return 0, nil // no answer from Firestore yet: the first renewal gives one
	}
	leases, err := s.db.query(qLeasesExpired, nil, now).Limit(20).Documents(ctx).GetAll()
	if err != nil {
		return 0, translate(err)
	}
	n := 0
	var errs []error // one lease that cannot be swept now must not hold up the others
	for _, l := range leases {
		s.clock.sample(l.ReadTime)
		var d leaseDoc
		if err := l.DataTo(&d); err != nil {
			errs = append(errs, fmt.Errorf("lease %s: %w", l.Ref.ID, err))
			continue
		}
		if !l.ReadTime.After(d.ExpiresAt) {
			continue
		}
		ended, err := s.sweepLease(ctx, l, d)
		n += ended
		if err != nil {
			errs = append(errs, fmt.Errorf("lease %s: %w", l.Ref.ID, err))
		}
	}
	return n, translate(errors.Join(errs...))
}

// sweepLease takes an expired lease, if unchanged since read (a paused
// instance that renews meanwhile keeps it; one that renews after finds it
// taken and records its sessions again), ends the sessions recorded before
// it was taken and deletes it unless its owner wrote it again.
func (s *Sessions) sweepLease(ctx context.Context, l *firestore.DocumentSnapshot, d leaseDoc) (int, error) {
	at := d.RenewedAt
	if d.ClosedAt != nil {
		at = *d.ClosedAt
	}
	wr, err := l.Ref.Update(ctx, []firestore.Update{{Path: "sweptAt", Value: l.ReadTime}}, firestore.LastUpdateTime(l.UpdateTime))
	if isFailedPrecondition(err) || isNotFound(err) {
		return 0, nil
	} else if err != nil {
		return 0, err
	}
	taken := wr.UpdateTime
	n := 0
	q := s.db.query(qSessionsOfInstance, nil, l.Ref.ID).Limit(500)
	for page := q; ; {
		sessions, err := page.Documents(ctx).GetAll()
		if err != nil {
			return n, err
		}
		for _, snap := range sessions {
			var sd sessionDoc
			if err := snap.DataTo(&sd); err != nil {
				return n, err
			}
			if snap.UpdateTime.After(taken) {
				continue // recorded again by its owner
			}
			if ended, err := s.endBefore(ctx, l.Ref.ID, sd.UserID, at, taken); err != nil {
				return n, err
			} else if ended {
				n++
			}
		}
		if len(sessions) < 500 {
			break
		}
		page = q.StartAfter(sessions[len(sessions)-1])
	}
	// A crash before this leaves the lease expired: the next sweep takes
	// it again and finds what is left.
	if _, err := l.Ref.Delete(ctx, firestore.LastUpdateTime(taken)); err != nil && !isFailedPrecondition(err) && !isNotFound(err) {
		return n, err
	}
	return n, nil
}
