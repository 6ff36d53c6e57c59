package firestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
)

// skewedSessions is an instance's session store whose local clock is off
// by skew.
func skewedSessions(t *testing.T, name string, skew time.Duration) *firestore.Sessions {
	t.Helper()
	db := chattest.MustOpenDB(t)
	db.Now = func() time.Time { return time.Now().Add(skew) }
	return firestore.NewSessions(db, fmt.Sprintf("%s-%d-%d", name, time.Now().UnixNano(), chattest.Unique()))
}

// TestLeasesOnFirestoreClock: leases are written and judged on Firestore's
// clock, so an owner whose clock is 60 s behind and a sweeper whose clock is
// 60 s ahead end no live session; a lease that does expire is still swept.
// The test's own database: a sweep takes every expired lease's
// transaction, and the shared one may hold the locks of instances other
// tests killed for up to a minute.
func TestLeasesOnFirestoreClock(t *testing.T) {
	s := services{users: firestore.NewUserService(chattest.MustOpenDB(t))}
	ctx := context.Background()
	userCtx, uid := s.as(t, "skew")
	online := func() bool {
		u, err := s.users.Me(userCtx)
		if err != nil {
			t.Fatal(err)
		}
		return u.Online
	}
	owner := skewedSessions(t, "behind", -time.Minute)
	sweeper := skewedSessions(t, "ahead", time.Minute)
	const ttl = 3 * time.Second
	for _, st := range []*firestore.Sessions{owner, sweeper} {
		if _, err := st.Renew(ctx, ttl); err != nil {
			t.Fatal(err)
		}
	}
	if err := owner.Connect(ctx, uid, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !online() {
		t.Fatal("not online after connect")
	}
	t.Run("NoFalseOffline", func(t *testing.T) {
		if _, err := sweeper.Sweep(ctx); err != nil {
			t.Logf("sweep: %v", err)
		}
		if lost, err := owner.Renew(ctx, ttl); err != nil || lost {
			t.Fatalf("owner's renewal: lost %v, %v", lost, err)
		}
		if !online() {
			t.Fatal("a live instance's user went offline: its lease was judged on a skewed clock")
		}
	})
	t.Run("ExpiredSwept", func(t *testing.T) {
		// The owner stops renewing: past its TTL on Firestore's clock
		// its sessions end.
		deadline := time.Now().Add(time.Minute)
		for online() {
			if time.Now().After(deadline) {
				t.Fatal("an expired lease's user still online")
			}
			if _, err := sweeper.Renew(ctx, ttl); err != nil {
				t.Fatal(err)
			}
			if _, err := sweeper.Sweep(ctx); err != nil {
				t.Logf("sweep: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if lost, err := owner.Renew(ctx, ttl); err != nil || !lost {
			t.Fatalf("the owner's renewal after the sweep: lost %v, %v", lost, err)
		}
	})
}
