package presence_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat/presence"
)

// sessions is an in-memory SessionStore recording its calls.
type sessions struct {
	mu       sync.Mutex
	calls    []string
	fail     int // fail this many writes
	lost     bool
	released bool
	changed  chan struct{}
}

func newSessions() *sessions { return &sessions{changed: make(chan struct{}, 100)} }

func (s *sessions) record(call string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail > 0 {
		s.fail--
		return fmt.Errorf("injected")
	}
	s.calls = append(s.calls, call)
	s.changed <- struct{}{}
	return nil
}

func (s *sessions) Connect(ctx context.Context, uid string, at time.Time) error {
	return s.record("connect " + uid)
}

func (s *sessions) Disconnect(ctx context.Context, uid string, at time.Time) error {
	return s.record("disconnect " + uid)
}

func (s *sessions) Renew(ctx context.Context, ttl time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lost := s.lost
	s.lost = false
	return lost, nil
}

func (s *sessions) Release(ctx context.Context, at time.Time, grace time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.released = true
	return nil
}

func (s *sessions) Sweep(ctx context.Context) (int, error) { return 0, nil }

func (s *sessions) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// waitCalls waits for the store to have exactly want.
func (s *sessions) waitCalls(t *testing.T, want ...string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for !slices.Equal(s.got(), want) {
		select {
		case <-s.changed:
		case <-deadline:
			t.Fatalf("calls %v, want %v", s.got(), want)
		}
	}
}

func newPresence(t *testing.T, s *sessions) *presence.Presence {
	p := presence.New(s, presence.Options{Grace: 150 * time.Millisecond, LeaseTTL: time.Hour,
		RenewEvery: 20 * time.Millisecond, SweepEvery: time.Hour, MinWriteGap: 50 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { p.Close(context.Background(), time.Now()) })
	return p
}

func TestPresenceTracker(t *testing.T) {
	t.Run("DevicesAndReloadsWriteOnce", func(t *testing.T) {
		s := newSessions()
		p := newPresence(t, s)
		p.SocketOpened("ana")
		p.SocketOpened("ana") // a second device
		p.SocketClosed("ana")
		p.SocketClosed("ana")
		p.SocketOpened("ana") // a reload within the grace
		s.waitCalls(t, "connect ana")
		p.SocketClosed("ana")
		s.waitCalls(t, "connect ana", "disconnect ana")
	})
	t.Run("FlappingCoalesces", func(t *testing.T) {
		s := newSessions()
		p := newPresence(t, s)
		for range 50 {
			p.SocketOpened("bob")
			p.SocketClosed("bob")
		}
		s.waitCalls(t, "connect bob", "disconnect bob")
	})
	t.Run("FailedWritesRetried", func(t *testing.T) {
		s := newSessions()
		s.fail = 3
		p := newPresence(t, s)
		p.SocketOpened("eve")
		s.waitCalls(t, "connect eve")
	})
	t.Run("LostLeaseRecordsSessionsAgain", func(t *testing.T) {
		s := newSessions()
		p := newPresence(t, s)
		p.SocketOpened("dan")
		s.waitCalls(t, "connect dan")
		s.mu.Lock()
		s.lost = true
		s.mu.Unlock()
		s.waitCalls(t, "connect dan", "connect dan")
	})
	t.Run("CloseReleasesTheLease", func(t *testing.T) {
		s := newSessions()
		p := newPresence(t, s)
		p.SocketOpened("fay")
		s.waitCalls(t, "connect fay")
		p.SocketClosed("fay")
		p.Close(context.Background(), time.Now())
		if !s.released {
			t.Fatal("lease not released")
		}
		if got := s.got(); len(got) != 1 {
			t.Fatalf("calls after close %v: the sweep of the released lease ends the session", got)
		}
	})
}
