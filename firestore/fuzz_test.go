package firestore_test

import (
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/firestore"
)

// FuzzCursors: a cursor or message id from a client is either refused with
// invalid_argument or names a valid position; a cursor the server made
// reads back as made.
func FuzzCursors(f *testing.F) {
	f.Add(firestore.ChatCursor(time.Unix(1700000000, 123456789), "abc"))
	f.Add("000000000012abcdefgh")
	f.Add("-00000000001")
	f.Add("")
	f.Add("%%%")
	f.Fuzz(func(t *testing.T, s string) {
		if at, id, err := firestore.ParseChatCursor(s); err != nil {
			if chat.ErrorCode(err) != chat.EINVALID {
				t.Fatalf("cursor code %q", chat.ErrorCode(err))
			}
		} else if chat.ValidateID("id", id) != nil {
			t.Fatalf("cursor %q gave id %q", s, id)
		} else if back := firestore.ChatCursor(at, id); back != s {
			if _, id2, err := firestore.ParseChatCursor(back); err != nil || id2 != id {
				t.Fatalf("cursor %q does not read back", s)
			}
		}
		if n, err := firestore.SeqOf(s); err != nil {
			if chat.ErrorCode(err) != chat.EINVALID {
				t.Fatalf("seq code %q", chat.ErrorCode(err))
			}
		} else if n < 1 {
			t.Fatalf("message id %q gave seq %d", s, n)
		}
	})
}
