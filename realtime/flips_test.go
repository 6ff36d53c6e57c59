package realtime_test

import (
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/realtime"
)

func TestFlipRules(t *testing.T) {
	seen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	flip := func(who string, v int64, online bool) realtime.Input {
		return realtime.FlipInput(realtime.Flip{Presence: chat.Presence{UserID: who, Online: online, LastSeen: &seen}, Version: v})
	}
	u := realtime.NewUserFeed(me)
	for _, tc := range []struct {
		name string
		in   realtime.Input
		want int
	}{
		{"first flip told", flip("bob", 2, true), 1},
		{"same flip again (a restarted listener looks back)", flip("bob", 2, true), 0},
		{"older flip after a newer", flip("bob", 1, false), 0},
		{"newer flip", flip("bob", 3, false), 1},
		{"another user's flips counted apart", flip("eve", 1, true), 1},
		{"own flip never told", flip(me, 9, true), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, need := u.Step(tc.in, nil)
			if need != nil || len(evs) != tc.want {
				t.Fatalf("events %+v, reads %v; want %d events", evs, need, tc.want)
			}
			for _, e := range evs {
				if e.Kind != chat.EventPresence || e.UserID != me || e.Presence == nil {
					t.Fatalf("event %+v", e)
				}
			}
		})
	}
}
