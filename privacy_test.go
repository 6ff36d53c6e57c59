package chat_test

import (
	"testing"
	"time"

	"github.com/chatapp/chat"
)

// TestHideFor: what a chat shows its viewer of members who block, or are
// blocked by, the viewer, and of members hiding receipts; the viewer's
// own entry and shared values stay whole.
func TestHideFor(t *testing.T) {
	seen := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	user := func(id string, p chat.Privacy) *chat.User {
		return &chat.User{ID: id, Online: true, LastSeen: &seen, Privacy: &p}
	}
	member := func(u *chat.User) *chat.ChatUser {
		return &chat.ChatUser{UserID: u.ID, User: u, LastReadMessageID: "m1", LastReadAt: &seen}
	}
	me := user("me", chat.Privacy{Blocks: []string{"bob"}})
	bob := user("bob", chat.Privacy{})
	eve := user("eve", chat.Privacy{Blocks: []string{"me"}})
	cid := user("cid", chat.Privacy{HideReceipts: true})
	dan := user("dan", chat.Privacy{})
	c := &chat.Chat{Users: []*chat.ChatUser{member(me), member(bob), member(eve), member(cid), member(dan)}}
	c.HideFor("me")
	for _, tc := range []struct {
		i              int
		name           string
		online, marker bool
	}{
		{0, "the viewer", true, true},
		{1, "blocked by the viewer", false, false},
		{2, "blocks the viewer", false, false},
		{3, "hides receipts", true, false},
		{4, "neither", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cu := c.Users[tc.i]
			if cu.User.Online != tc.online || (cu.User.LastSeen != nil) != tc.online {
				t.Fatalf("presence %v %v", cu.User.Online, cu.User.LastSeen)
			}
			if (cu.LastReadMessageID != "") != tc.marker || (cu.LastReadAt != nil) != tc.marker {
				t.Fatalf("marker %q %v", cu.LastReadMessageID, cu.LastReadAt)
			}
		})
	}
	if !bob.Online || bob.LastSeen == nil {
		t.Fatal("the shared profile was changed")
	}
}

// TestMuteValue: a mute reads null once expired.
func TestMuteValue(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Minute), now.Add(-time.Minute)
	if v := chat.MuteValue(&later, now); v == nil || !v.Equal(later) {
		t.Fatalf("a mute to come: %v", v)
	}
	for _, v := range []*time.Time{nil, &earlier, &now} {
		if got := chat.MuteValue(v, now); got != nil {
			t.Fatalf("%v read as %v", v, got)
		}
	}
}
