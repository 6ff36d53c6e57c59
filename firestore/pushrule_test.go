package firestore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/firestore"
)

// TestPushRule: who is owed a chat's newest message, and when a member
// pushed a moment ago is owed it; pure, no emulator.
func TestPushRule(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	base := func() firestore.PushCase {
		return firestore.PushCase{Members: []string{"ana", "bob", "cid"}, LastSeq: 5, Sender: "ana",
			ReadSeq: map[string]int64{"ana": 5, "bob": 4, "cid": 3}, Now: now}
	}
	for _, tc := range []struct {
		name string
		edit func(*firestore.PushCase)
		want []string
		next time.Time
	}{
		{"unread members, not the sender", func(*firestore.PushCase) {}, []string{"bob", "cid"}, time.Time{}},
		{"read in time", func(c *firestore.PushCase) { c.ReadSeq["bob"] = 5 }, []string{"cid"}, time.Time{}},
		{"pushed it already", func(c *firestore.PushCase) { c.PushedSeq = map[string]int64{"cid": 5} }, []string{"bob"}, time.Time{}},
		{"muted", func(c *firestore.PushCase) { c.Muted = map[string]time.Time{"bob": now.Add(time.Hour)} }, []string{"cid"}, time.Time{}},
		{"muted but mentioned", func(c *firestore.PushCase) {
			c.Muted = map[string]time.Time{"bob": now.Add(time.Hour)}
			c.Mentions = []string{"bob"}
		}, []string{"bob", "cid"}, time.Time{}},
		{"a mute that expired", func(c *firestore.PushCase) { c.Muted = map[string]time.Time{"bob": now.Add(-time.Second)} }, []string{"bob", "cid"}, time.Time{}},
		{"deleted", func(c *firestore.PushCase) { c.Deleted = true }, nil, time.Time{}},
		{"direct chat under a block", func(c *firestore.PushCase) {
			c.Direct, c.Blocked, c.Members = true, true, []string{"ana", "bob"}
		}, nil, time.Time{}},
		{"pushed 4 s ago: waits its turn", func(c *firestore.PushCase) {
			c.PushedSeq, c.PushedAt = map[string]int64{"bob": 4}, map[string]time.Time{"bob": now.Add(-4 * time.Second)}
		}, []string{"cid"}, now.Add(6 * time.Second)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			got, next := firestore.Owed(c)
			if !slices.Equal(got, tc.want) || !next.Equal(tc.next) {
				t.Fatalf("owed %v next %v, want %v %v", got, next, tc.want, tc.next)
			}
		})
	}
}
