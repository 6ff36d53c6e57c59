package realtime_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/realtime"
)

// store is an in-memory stand-in for Firestore behind the engine's two
// boundaries: it is a realtime.Source (listeners over its documents) and a
// realtime.Reader. Tests make it fail, hang or freeze at those boundaries.
type store struct {
	mu        sync.Mutex                     // guards everything below
	members   map[string]realtime.Membership // chat/user → membership
	messages  []realtime.Posted
	lastSeq   map[string]int64
	meta      map[string]int64
	listeners map[*listener]bool
	started   int
	// faults
	holdFirst  bool // new listeners never deliver their first batch
	dropNext   int  // the next n changes are lost by every listener
	failLoads  int  // the next n reads fail
	hangReads  bool // reads block until their deadline
	listenErrs int  // the next n Listen calls fail at once
	reads      int
}

type listener struct {
	q      realtime.Query
	emit   func(realtime.Batch)
	held   bool // never delivered its first batch
	frozen bool // delivers nothing any more, heartbeats included
}

func newStore() *store {
	return &store{members: map[string]realtime.Membership{}, lastSeq: map[string]int64{}, meta: map[string]int64{},
		listeners: map[*listener]bool{}}
}

var errInjected = errors.New("injected")

func (s *store) Listen(ctx context.Context, q realtime.Query, emit func(realtime.Batch)) error {
	s.mu.Lock()
	s.started++
	if s.listenErrs > 0 {
		s.listenErrs--
		s.mu.Unlock()
		return errInjected
	}
	l := &listener{q: q, emit: emit, held: s.holdFirst}
	s.listeners[l] = true
	if !l.held {
		emit(realtime.Batch{Heartbeat: true, Changes: s.matching(q)})
	}
	s.mu.Unlock()
	<-ctx.Done()
	s.mu.Lock()
	delete(s.listeners, l)
	s.mu.Unlock()
	return nil
}

// matching is a listener's first batch (s.mu held).
func (s *store) matching(q realtime.Query) []realtime.Change {
	var out []realtime.Change
	switch q.Kind {
	case realtime.Members:
		for _, m := range s.members {
			if slices.Contains(q.Keys, m.UserID) {
				m := m
				out = append(out, realtime.Change{Membership: &m})
			}
		}
	case realtime.Messages:
		for _, p := range s.messages {
			if p.Message.CreatedAt.After(q.Since) && overlaps(q.Keys, p.MemberIDs) {
				p := p
				out = append(out, realtime.Change{Posted: &p})
			}
		}
	}
	return out
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// publish delivers a change to every live listener it matches (s.mu held).
func (s *store) publish(kind realtime.Kind, c realtime.Change, keys []string) {
	if s.dropNext > 0 {
		s.dropNext--
		return
	}
	for l := range s.listeners {
		if l.q.Kind == kind && !l.held && !l.frozen && overlaps(l.q.Keys, keys) {
			l.emit(realtime.Batch{Changes: []realtime.Change{c}})
		}
	}
}

func (s *store) Beat(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range s.listeners {
		if !l.held && !l.frozen {
			l.emit(realtime.Batch{Heartbeat: true})
		}
	}
	return nil
}

func (s *store) join(chatID, uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta[chatID]++
	m := realtime.Membership{UserID: uid, ChatID: chatID, ReadSeq: s.lastSeq[chatID], MetaVersion: s.meta[chatID]}
	s.members[chatID+"/"+uid] = m
	s.publish(realtime.Members, realtime.Change{Membership: &m}, []string{uid})
}

func (s *store) leave(chatID, uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.members[chatID+"/"+uid]
	if !ok {
		return
	}
	delete(s.members, chatID+"/"+uid)
	s.publish(realtime.Members, realtime.Change{Membership: &m, Removed: true}, []string{uid})
}

func (s *store) rename(chatID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.meta[chatID]++
	for k, m := range s.members {
		if m.ChatID == chatID {
			m.MetaVersion = s.meta[chatID]
			s.members[k] = m
			m := m
			s.publish(realtime.Members, realtime.Change{Membership: &m}, []string{m.UserID})
		}
	}
}

func (s *store) send(chatID, sender string) *chat.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastSeq[chatID]++
	seq := s.lastSeq[chatID]
	m := &chat.Message{ID: fmt.Sprintf("%012d%s", seq, chatID), ChatID: chatID, Seq: seq, SenderID: sender, CreatedAt: time.Now()}
	var ids []string
	for _, mb := range s.members {
		if mb.ChatID == chatID {
			ids = append(ids, mb.UserID)
		}
	}
	p := realtime.Posted{Message: m, MemberIDs: ids}
	s.messages = append(s.messages, p)
	s.publish(realtime.Messages, realtime.Change{Posted: &p}, ids)
	return m
}

// freeze makes the running listeners silent, as stalled streams are; the
// engine's replacements are healthy.
func (s *store) freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for l := range s.listeners {
		l.frozen = true
	}
}

func (s *store) set(f func(s *store)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

func (s *store) fault(ctx context.Context) error {
	s.mu.Lock()
	s.reads++
	hang := s.hangReads
	fail := s.failLoads > 0
	if fail {
		s.failLoads--
	}
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		return ctx.Err()
	}
	if fail {
		return errInjected
	}
	return nil
}

func (s *store) LoadChat(ctx context.Context, chatID string) (*realtime.ChatView, error) {
	if err := s.fault(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := &chat.Chat{ID: chatID, IsGroup: true, Messages: []*chat.Message{}}
	for _, m := range s.members {
		if m.ChatID == chatID {
			c.Users = append(c.Users, &chat.ChatUser{UserID: m.UserID, ChatID: chatID, User: &chat.User{ID: m.UserID}})
		}
	}
	if len(c.Users) == 0 {
		return nil, nil
	}
	for _, p := range s.messages {
		if p.Message.ChatID == chatID {
			c.Messages = append(c.Messages, p.Message)
		}
	}
	return &realtime.ChatView{Chat: c, LastSeq: s.lastSeq[chatID], MetaVersion: s.meta[chatID]}, nil
}

func (s *store) MessagesBetween(ctx context.Context, chatID, uid string, from, to int64) ([]*chat.Message, error) {
	if err := s.fault(ctx); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*chat.Message
	for _, p := range s.messages {
		if p.Message.ChatID == chatID && p.Message.Seq > from && p.Message.Seq < to && slices.Contains(p.MemberIDs, uid) {
			out = append(out, p.Message)
		}
	}
	return out, nil
}

func (s *store) ReadSeq(ctx context.Context, chatID, uid string) (int64, bool, error) {
	if err := s.fault(ctx); err != nil {
		return 0, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.members[chatID+"/"+uid]
	return m.ReadSeq, ok, nil
}

// sink records delivered events and lets a test wait for one.
type sink struct {
	mu     sync.Mutex
	events []chat.Event
	wake   chan struct{}
}

func newSink() *sink { return &sink{wake: make(chan struct{}, 1)} }

func (k *sink) Deliver(ev chat.Event) {
	k.mu.Lock()
	k.events = append(k.events, ev)
	k.mu.Unlock()
	select {
	case k.wake <- struct{}{}:
	default:
	}
}

// waitFor waits until the described events (see describe) of uid include
// want, and returns them all.
func (k *sink) waitFor(t *testing.T, uid, want string) []string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		got := k.of(uid)
		if slices.Contains(got, want) {
			return got
		}
		select {
		case <-k.wake:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no %s for %s; got %v", want, uid, got)
		}
	}
}

func (k *sink) of(uid string) []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var evs []chat.Event
	for _, e := range k.events {
		if e.UserID == uid {
			evs = append(evs, e)
		}
	}
	return describe(evs)
}

// waitUntil polls cond until it holds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
