package firestore

import (
	"context"
	"encoding/hex"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"cloud.google.com/go/firestore"

	"github.com/chatapp/chat"
)

var _ chat.UserService = (*UserService)(nil)

// userDoc is users/{uid}.
type userDoc struct {
	Username      string     `firestore:"username"`
	UsernameLower string     `firestore:"usernameLower"`
	ProfilePic    string     `firestore:"profilePic"`
	CreatedAt     time.Time  `firestore:"createdAt"`
	LastSeen      *time.Time `firestore:"lastSeen"`
	Online        bool       `firestore:"online"`
	// PresenceVersion counts the user's online/offline flips (presence.go).
	PresenceVersion int64 `firestore:"presenceVersion"`
	// LastClosedAt is the latest close of a session that was not the
	// user's last: the lastSeen if a session closed earlier ends last.
	LastClosedAt *time.Time `firestore:"lastClosedAt"`
	// Sessions maps the instances holding a session of the user to when
	// it began (presence.go).
	Sessions map[string]time.Time `firestore:"sessions"`
	// HideReceipts and Blocks are the user's privacy (chat.Privacy).
	// Blocks live on the profile, which every chat view and search reads
	// anyway: whether two users block each other costs no read of its own.
	HideReceipts bool     `firestore:"hideReceipts,omitempty"`
	Blocks       []string `firestore:"blocks,omitempty"`
	// ExportAt is the user's last export (one a minute).
	ExportAt *time.Time `firestore:"exportAt,omitempty"`
}

// usernameDoc is usernames/{key}: the reservation that makes usernames
// unique case-insensitively. Reservation and profile are written in one
// transaction, so two instances racing for a name cannot both win.
type usernameDoc struct {
	UID string `firestore:"uid"`
}

// UserService implements chat.UserService.
type UserService struct {
	db *DB
}

// NewUserService returns a UserService on db.
func NewUserService(db *DB) *UserService { return &UserService{db: db} }

func (s *UserService) users() *firestore.CollectionRef { return s.db.client.Collection("users") }

// usernameKey is the reservation's document id: the folded name, hex-encoded
// so that no character of a username can form a path or a reserved id.
func (s *UserService) usernameRef(name string) *firestore.DocumentRef {
	return s.db.client.Collection("usernames").Doc(hex.EncodeToString([]byte(foldName(name))))
}

func foldName(name string) string { return strings.ToLower(name) }

// Me implements chat.UserService.
func (s *UserService) Me(ctx context.Context) (*chat.User, error) {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return nil, chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	u, err := s.ensure(ctx, id)
	return u, translate(err)
}

// ensure returns the profile of id, creating it with the lowest free
// username on first use.
func (s *UserService) ensure(ctx context.Context, id chat.Identity) (*chat.User, error) {
	ref := s.users().Doc(id.UID)
	snap, err := ref.Get(ctx)
	if err == nil {
		return toUser(snap, id.UID), nil
	} else if !isNotFound(err) {
		return nil, err
	}
	if err := s.refuseDeleted(ctx, id.UID); err != nil {
		return nil, err
	}
	base := chat.BaseUsername(id)
	candidate := base
	for attempt := 0; attempt < 20; attempt++ {
		// Both documents are created with a must-not-exist precondition and
		// nothing is read in the transaction: of racing requests for one name
		// exactly one commits, and none waits on another's locks.
		now := s.db.now()
		doc := userDoc{Username: candidate, UsernameLower: foldName(candidate), CreatedAt: now}
		err := s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
			if err := tx.Create(s.usernameRef(candidate), usernameDoc{UID: id.UID}); err != nil {
				return err
			}
			return tx.Create(ref, doc)
		})
		if err == nil {
			return docToUser(id.UID, doc), nil
		} else if !isAlreadyExists(err) {
			return nil, err
		}
		// The profile was created meanwhile (the user's first calls raced),
		// or the name is taken: which one, the profile tells.
		if snap, err := ref.Get(ctx); err == nil {
			return toUser(snap, id.UID), nil
		} else if !isNotFound(err) {
			return nil, err
		}
		if candidate, err = s.lowestFree(ctx, base); err != nil {
			return nil, err
		}
	}
	return nil, chat.Errorf(chat.ECONFLICT, "Could not find a free username; try again.")
}

// refuseDeleted is ensure's check that a profile to be made is not that of
// an account deleted (whose token another instance may accept for up to a
// minute): the tombstone is written before the profile is deleted, so a
// profile found missing after a deletion has one.
func (s *UserService) refuseDeleted(ctx context.Context, uid string) error {
	if _, err := s.db.deletedUserRef(uid).Get(ctx); isNotFound(err) {
		return nil
	} else if err != nil {
		return err
	}
	return chat.Errorf(chat.EUNAUTHORIZED, "This account was deleted.")
}

// lowestFree returns base, base2, base3… whichever is the first not taken,
// reading the taken names with one prefix query.
func (s *UserService) lowestFree(ctx context.Context, base string) (string, error) {
	lower := foldName(base)
	docs, err := s.db.query(qUsernamesWithPrefix, nil, lower, lower+"\U0010FFFF").Select("usernameLower").Documents(ctx).GetAll()
	if err != nil {
		return "", err
	}
	taken := map[int]bool{}
	for _, d := range docs {
		name, _ := d.Data()["usernameLower"].(string)
		if name == lower {
			taken[1] = true
		} else if n, err := strconv.Atoi(strings.TrimPrefix(name, lower)); err == nil && n >= 2 {
			if foldName(chat.SuffixedUsername(base, n)) == name {
				taken[n] = true
			}
		}
	}
	n := 1
	for taken[n] {
		n++
	}
	return chat.SuffixedUsername(base, n), nil
}

// UpdateMe implements chat.UserService.
func (s *UserService) UpdateMe(ctx context.Context, upd chat.UserUpdate) (*chat.User, error) {
	id, ok := chat.IdentityFromContext(ctx)
	if !ok {
		return nil, chat.Errorf(chat.EUNAUTHORIZED, "Authentication is required.")
	}
	if upd.Username != nil {
		name, err := chat.ValidateUsername(*upd.Username)
		if err != nil {
			return nil, err
		}
		upd.Username = &name
	}
	if upd.ProfilePic != nil {
		if err := chat.ValidateProfilePic(*upd.ProfilePic); err != nil {
			return nil, err
		}
	}
	if _, err := s.ensure(ctx, id); err != nil {
		return nil, translate(err)
	}
	ref := s.users().Doc(id.UID)
	var out *chat.User
	err := s.db.client.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snap, err := tx.Get(ref)
		if err != nil {
			return err
		}
		var doc userDoc
		if err := snap.DataTo(&doc); err != nil {
			return err
		}
		var ups []firestore.Update
		if upd.Username != nil && *upd.Username != doc.Username {
			newRes := s.usernameRef(*upd.Username)
			if foldName(*upd.Username) != doc.UsernameLower {
				res, err := tx.Get(newRes)
				if err == nil {
					var r usernameDoc
					_ = res.DataTo(&r)
					if r.UID != id.UID {
						return chat.Errorf(chat.ECONFLICT, "That username is taken.")
					}
				} else if !isNotFound(err) {
					return err
				}
				if err := tx.Set(newRes, usernameDoc{UID: id.UID}); err != nil {
					return err
				}
				if err := tx.Delete(s.usernameRef(doc.Username)); err != nil {
					return err
				}
			}
			doc.Username, doc.UsernameLower = *upd.Username, foldName(*upd.Username)
			ups = append(ups, firestore.Update{Path: "username", Value: doc.Username},
				firestore.Update{Path: "usernameLower", Value: doc.UsernameLower})
		}
		if upd.ProfilePic != nil {
			doc.ProfilePic = *upd.ProfilePic
			ups = append(ups, firestore.Update{Path: "profilePic", Value: doc.ProfilePic})
		}
		if upd.ReadReceipts != nil && doc.HideReceipts == *upd.ReadReceipts {
			doc.HideReceipts = !*upd.ReadReceipts
			ups = append(ups, firestore.Update{Path: "hideReceipts", Value: doc.HideReceipts})
		}
		out = docToUser(id.UID, doc)
		if len(ups) == 0 {
			return nil
		}
		return tx.Update(ref, ups)
	})
	return out, translate(err)
}

// FindUsers implements chat.UserService.
func (s *UserService) FindUsers(ctx context.Context, f chat.UserFilter) ([]*chat.User, error) {
	caller, err := chat.CallerUID(ctx)
	if err != nil {
		return nil, err
	}
	limit, err := chat.PageLimit(f.Limit, 20, 50)
	if err != nil {
		return nil, err
	}
	if !utf8.ValidString(f.Prefix) {
		return nil, chat.Errorf(chat.EINVALID, "q must be valid UTF-8.")
	}
	if len([]rune(f.Prefix)) > chat.MaxUsernameLen {
		return nil, chat.Errorf(chat.EINVALID, "q must be at most %d characters.", chat.MaxUsernameLen)
	}
	p := foldName(f.Prefix)
	q := s.db.query(qUsersByName, nil).Limit(limit)
	if p != "" {
		q = s.db.query(qUsersByPrefix, nil, p, p+"\U0010FFFF").Limit(limit)
	}
	docs, err := q.Documents(ctx).GetAll()
	if err != nil {
		return nil, translate(err)
	}
	// Presence is real only for the caller and who shares a chat with
	// them: one read per chat of the caller, only when a result needs it.
	// Whoever blocked the caller is not found; whom the caller blocked is,
	// without presence.
	var shared map[string]bool
	out := make([]*chat.User, 0, len(docs))
	for _, d := range docs {
		u := toUser(d, d.Ref.ID)
		if u.Privacy != nil && slices.Contains(u.Privacy.Blocks, caller) {
			continue
		}
		if u.ID != caller && (u.Online || u.LastSeen != nil) {
			if shared == nil {
				if shared, err = s.visiblePresence(ctx, caller); err != nil {
					return nil, translate(err)
				}
			}
			if !shared[u.ID] {
				u.Online, u.LastSeen = false, nil
			}
		}
		if u.ID != caller {
			u.Privacy = nil // the caller's own blocks decide nothing here: shown only to its owner
		}
		out = append(out, u)
	}
	return out, nil
}

// visiblePresence returns whose presence the caller may see outside a
// chat's view: who shares one of their most active chats with them, less
// whom they block (a block by the other was filtered out before).
func (s *UserService) visiblePresence(ctx context.Context, caller string) (map[string]bool, error) {
	ids, err := s.db.coMembers(ctx, caller)
	if err != nil {
		return nil, err
	}
	me, err := s.db.getUsers(ctx, []string{caller})
	if err != nil {
		return nil, err
	}
	shared := map[string]bool{}
	for _, id := range ids {
		shared[id] = true
	}
	if u := me[caller]; u != nil {
		for _, id := range u.Privacy.Blocks {
			delete(shared, id)
		}
	}
	return shared, nil
}

func toUser(snap *firestore.DocumentSnapshot, uid string) *chat.User {
	var doc userDoc
	_ = snap.DataTo(&doc)
	return docToUser(uid, doc)
}

// docToUser maps a profile with its presence. Callers that may show it to
// someone outside the user's chats hide it (FindUsers).
func docToUser(uid string, doc userDoc) *chat.User {
	u := &chat.User{ID: uid, Username: doc.Username, ProfilePic: doc.ProfilePic, Online: doc.Online,
		Privacy: &chat.Privacy{HideReceipts: doc.HideReceipts, Blocks: doc.Blocks}}
	if doc.LastSeen != nil {
		t := doc.LastSeen.UTC()
		u.LastSeen = &t
	}
	return u
}
