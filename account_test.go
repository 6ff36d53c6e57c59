package chat_test

import (
	"testing"

	"github.com/chatapp/chat"
)

// TestMaskDeleted: messages of deleted accounts, and quotes of them, read
// DeletedUsername; others' names and everything else stay as stored.
func TestMaskDeleted(t *testing.T) {
	msgs := []*chat.Message{
		{ID: "1", SenderID: "bob", SenderUsername: "bob", Content: "hi"},
		{ID: "2", SenderID: "ana", SenderUsername: "ana", ReplyTo: &chat.Quote{ID: "1", SenderID: "bob", Username: "bob"}},
		{ID: "3", SenderID: "ana", SenderUsername: "ana", ReplyTo: &chat.Quote{ID: "9", SenderID: "ana", Username: "ana"}},
		nil,
	}
	chat.MaskDeleted(msgs, nil)
	if msgs[0].SenderUsername != "bob" {
		t.Fatalf("no deleted accounts: sender %q", msgs[0].SenderUsername)
	}
	chat.MaskDeleted(msgs, []string{"bob"})
	for _, tc := range []struct {
		name, got, want string
	}{
		{"deleted sender", msgs[0].SenderUsername, chat.DeletedUsername},
		{"content kept", msgs[0].Content, "hi"},
		{"other sender", msgs[1].SenderUsername, "ana"},
		{"quote of a deleted sender", msgs[1].ReplyTo.Username, chat.DeletedUsername},
		{"quote of another", msgs[2].ReplyTo.Username, "ana"},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	if u := chat.DeletedUser("bob"); u.ID != "bob" || u.Username != chat.DeletedUsername || u.Online || u.LastSeen != nil || u.ProfilePic != "" {
		t.Errorf("DeletedUser = %+v", u)
	}
}
