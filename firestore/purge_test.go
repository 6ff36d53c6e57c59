package firestore_test

import (
	"testing"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// TestPurgeSweeper: a deletion whose purge was cut off (a crash right after
// the delete committed) leaves a to-do that the sweeper finishes; a normal
// deletion leaves neither documents nor to-do.
func TestPurgeSweeper(t *testing.T) {
	s := mustServices(t)
	anaCtx, _ := s.as(t, "ana")
	_, bob := s.as(t, "bob")
	newChat := func() string {
		c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true})
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, _, err := s.messages.SendMessage(anaCtx, c.ID, chat.MessageCreate{Content: "x"}); err != nil {
				t.Fatal(err)
			}
		}
		return c.ID
	}
	left := func(chatID string) (msgs, todo int) {
		return len(chattest.Query(t, "/chats/"+chatID, "messages", false)),
			len(chattest.Query(t, "", "purges", false, chattest.Filter{Field: "chatId", Op: "EQUAL", Value: chatID}))
	}
	t.Run("DeleteLeavesNothing", func(t *testing.T) {
		id := newChat()
		if err := s.chats.DeleteChat(anaCtx, id); err != nil {
			t.Fatal(err)
		}
		// The purge runs after the answer; Close waits for it.
		s.chats.Close()
		if m, p := left(id); m != 0 || p != 0 {
			t.Fatalf("%d messages and %d to-dos left", m, p)
		}
	})
	t.Run("CutOffPurgeSwept", func(t *testing.T) {
		id := newChat()
		if err := s.chats.DeleteWithoutPurge(anaCtx, id); err != nil {
			t.Fatal(err)
		}
		if m, p := left(id); m != 3 || p != 1 {
			t.Fatalf("before the sweep: %d messages, %d to-dos; want 3 and 1", m, p)
		}
		if _, err := s.chats.SweepPurges(anaCtx, 0); err != nil {
			t.Fatal(err)
		}
		if m, p := left(id); m != 0 || p != 0 {
			t.Fatalf("after the sweep: %d messages and %d to-dos left", m, p)
		}
	})
}
