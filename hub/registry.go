package hub

import (
	"hash/maphash"
	"sync"
	"time"
)

// shards is how many ways each of the registry's maps is split: enough
// that deliveries on different shard goroutines rarely meet on a lock.
const shards = 32

// registry is three maps, each split into shards with a lock per shard:
// sockets by id, users by uid, rooms by chat id. A caller that needs more
// than one takes them in the order user → conn (Conn.mu) → room and never
// the other way, and never does I/O under any of them.
type registry struct {
	seed  maphash.Seed
	conns [shards]connShard
	users [shards]userShard
	rooms [shards]roomShard
}

type connShard struct {
	mu sync.Mutex       // guards m
	m  map[string]*Conn // socket id → its conn, once attached (the watchdog's and Close's list)
}

type userShard struct {
	mu sync.Mutex       // guards m and every *user in it
	m  map[string]*user // uid → the user's delivery state here
}

type roomShard struct {
	mu sync.Mutex                    // guards m
	m  map[string]map[*Conn]struct{} // chat id → sockets that have it open
}

// user is what the hub keeps for a user with sockets here.
type user struct {
	slots int                // sockets, handshakes under way included
	conns map[*Conn]struct{} // attached sockets: they get the user's events
	// unread is the unread count per chat as the last chatSummary told
	// it: a joinChat on a chat already open and read needs no storage.
	unread map[string]int
	// evictions counts the user's removals from chat rooms; evicted has,
	// per chat, the count at its last removal: a join that checked
	// membership before it must not enter the room after it.
	evictions uint64
	evicted   map[string]eviction
}

type eviction struct {
	n  uint64
	at time.Time
}

// maxEvicted bounds a user's removal marks; past it, marks older than
// evictedFor go (a join in flight lasts seconds, not minutes).
const (
	maxEvicted = 64
	evictedFor = time.Minute
)

func (r *registry) init() {
	r.seed = maphash.MakeSeed()
	for i := range shards {
		r.conns[i].m = map[string]*Conn{}
		r.users[i].m = map[string]*user{}
		r.rooms[i].m = map[string]map[*Conn]struct{}{}
	}
}

func (r *registry) at(key string) int { return int(maphash.String(r.seed, key) % shards) }

func (r *registry) connShard(id string) *connShard   { return &r.conns[r.at(id)] }
func (r *registry) userShard(uid string) *userShard  { return &r.users[r.at(uid)] }
func (r *registry) roomShard(chat string) *roomShard { return &r.rooms[r.at(chat)] }

// all returns every attached socket.
func (r *registry) all() []*Conn {
	var out []*Conn
	for i := range r.conns {
		s := &r.conns[i]
		s.mu.Lock()
		for _, c := range s.m {
			out = append(out, c)
		}
		s.mu.Unlock()
	}
	return out
}

// count returns the sockets (handshakes included) and users held.
func (r *registry) count() (sockets, users int) {
	for i := range r.users {
		s := &r.users[i]
		s.mu.Lock()
		for _, u := range s.m {
			sockets += u.slots
		}
		users += len(s.m)
		s.mu.Unlock()
	}
	return sockets, users
}

// userConns returns the user's attached sockets.
func (r *registry) userConns(uid string) []*Conn {
	s := r.userShard(uid)
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.m[uid]
	if u == nil {
		return nil
	}
	out := make([]*Conn, 0, len(u.conns))
	for c := range u.conns {
		out = append(out, c)
	}
	return out
}

// roomConns returns the sockets that have the chat open and pass keep.
func (r *registry) roomConns(chatID string, keep func(*Conn) bool) []*Conn {
	s := r.roomShard(chatID)
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*Conn
	for c := range s.m[chatID] {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

func (r *registry) enterRoom(chatID string, c *Conn) {
	s := r.roomShard(chatID)
	s.mu.Lock()
	defer s.mu.Unlock()
	room := s.m[chatID]
	if room == nil {
		room = map[*Conn]struct{}{}
		s.m[chatID] = room
	}
	room[c] = struct{}{}
}

func (r *registry) leaveRoom(chatID string, c *Conn) {
	s := r.roomShard(chatID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if room := s.m[chatID]; room != nil {
		delete(room, c)
		if len(room) == 0 {
			delete(s.m, chatID)
		}
	}
}

// withUser runs fn on the user's state under its shard's lock; fn is not
// run when the user has no socket here.
func (r *registry) withUser(uid string, fn func(u *user)) {
	s := r.userShard(uid)
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.m[uid]; u != nil {
		fn(u)
	}
}

// evict records a removal of the user from a chat, forgetting its unread
// count there.
func (u *user) evict(chatID string, now time.Time) {
	delete(u.unread, chatID)
	u.evictions++
	u.evicted[chatID] = eviction{n: u.evictions, at: now}
	if len(u.evicted) > maxEvicted {
		for k, e := range u.evicted {
			if now.Sub(e.at) > evictedFor {
				delete(u.evicted, k)
			}
		}
	}
}
