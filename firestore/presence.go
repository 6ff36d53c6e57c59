package firestore

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat/realtime"
)

var _ realtime.SessionStore = (*Sessions)(nil)

// Sessions implements realtime.SessionStore: which users have sockets on
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

// Connect implements realtime.SessionStore. The transaction reads one
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

// Disconnect implements realtime.SessionStore.
func (s *Sessions) Disconnect(ctx context.Context, uid string, at time.Time) error {
	return translate(s.end(ctx, s.instance, uid, at))
}

// end deletes a session; if it was the user's last, the user goes offline
// with lastSeen at (or a later close recorded on the user).
func (s *Sessions) end(ctx context.Context, instance, uid string, at time.Time) error {
	ref := s.sessionRef(instance, uid)
	userRef := s.db.userRef(uid)
	return s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
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

// Renew implements realtime.SessionStore. The update is conditional on the
// lease being as this instance last wrote it: a sweeper that took it (this
// instance was paused past its expiry) ended its sessions, and lost tells
// the caller to record them again on a fresh lease.
func (s *Sessions) Renew(ctx context.Context, ttl time.Duration) (lost bool, err error) {
	now := s.db.now()
	ref := s.leaseRef(s.instance)
	if !s.leaseWritten.IsZero() {
		wr, err := ref.Update(ctx, []firestore.Update{{Path: "renewedAt", Value: now}, {Path: "expiresAt", Value: now.Add(ttl)}},
			firestore.LastUpdateTime(s.leaseWritten))
		if err == nil {
			s.leaseWritten = wr.UpdateTime
			return false, nil
		} else if !isNotFound(err) && !isFailedPrecondition(err) {
			return false, translate(err)
		}
		lost = true
	}
	wr, err := ref.Set(ctx, leaseDoc{RenewedAt: now, ExpiresAt: now.Add(ttl)})
	if err != nil {
		return lost, translate(err)
	}
	s.leaseWritten = wr.UpdateTime
	return lost, nil
}

// Release implements realtime.SessionStore: the instance's sockets closed
// at at; its sessions end grace later, by whichever instance sweeps.
func (s *Sessions) Release(ctx context.Context, at time.Time, grace time.Duration) error {
	_, err := s.leaseRef(s.instance).Set(ctx, leaseDoc{RenewedAt: at, ExpiresAt: at.Add(grace), ClosedAt: &at})
	return translate(err)
}

// Sweep implements realtime.SessionStore: it ends the sessions of expired
// leases, the users' lastSeen being when the instance closed or was last
// known alive, then deletes the lease. It returns the sessions ended.
func (s *Sessions) Sweep(ctx context.Context) (int, error) {
	leases, err := s.db.query(qLeasesExpired, nil, s.db.now()).Limit(20).Documents(ctx).GetAll()
	if err != nil {
		return 0, translate(err)
	}
	n := 0
	for _, l := range leases {
		var d leaseDoc
		if err := l.DataTo(&d); err != nil {
			return n, translate(err)
		}
		at := d.RenewedAt
		if d.ClosedAt != nil {
			at = *d.ClosedAt
		}
		// Take the lease first, only if unchanged since read: a paused
		// instance that renews meanwhile keeps it; one that renews after
		// finds it taken and records its sessions again.
		if _, err := l.Ref.Update(ctx, []firestore.Update{{Path: "sweptAt", Value: s.db.now()}},
			firestore.LastUpdateTime(l.UpdateTime)); isFailedPrecondition(err) || isNotFound(err) {
			continue
		} else if err != nil {
			return n, translate(err)
		}
		for {
			sessions, err := s.db.query(qSessionsOfInstance, nil, l.Ref.ID).Limit(500).Documents(ctx).GetAll()
			if err != nil {
				return n, translate(err)
			}
			if len(sessions) == 0 {
				break
			}
			for _, snap := range sessions {
				var sd sessionDoc
				if err := snap.DataTo(&sd); err != nil {
					return n, translate(err)
				}
				if err := s.end(ctx, l.Ref.ID, sd.UserID, at); err != nil {
					return n, translate(err)
				}
				n++
			}
		}
		// A crash before this leaves the lease expired: the next sweep
		// takes it again and finds what is left.
		if _, err := l.Ref.Delete(ctx); err != nil {
			return n, translate(err)
		}
	}
	return n, nil
}
