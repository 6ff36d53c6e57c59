package firestore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
)

type services struct {
	users    *firestore.UserService
	chats    *firestore.ChatService
	messages *firestore.MessageService
	rooms    *firestore.RoomService
	db       *firestore.DB
}

func mustServices(t *testing.T) services { return mustServicesIn(t, "") }

// mustServicesIn keeps attachments in bucket ("" for the shared one).
func mustServicesIn(t *testing.T, bucket string) services {
	db := chattest.MustOpenDB(t)
	users := firestore.NewUserService(db)
	files := chattest.MustFileStore(t, bucket)
	chats := firestore.NewChatService(db, users, files)
	t.Cleanup(chats.Close)
	return services{users, chats, firestore.NewMessageService(db, files), firestore.NewRoomService(db, chats), db}
}

// as returns a context for a new user with a profile.
func (s services) as(t *testing.T, name string) (context.Context, string) {
	t.Helper()
	uid := fmt.Sprintf("svc-%s-%d-%d", name, time.Now().UnixNano(), chattest.Unique())
	ctx := chat.NewContextWithIdentity(context.Background(), chat.Identity{UID: uid, Name: name, Expires: time.Now().Add(time.Hour)})
	if _, err := s.users.Me(ctx); err != nil {
		t.Fatal(err)
	}
	return ctx, uid
}

func code(t *testing.T, err error, want string) {
	t.Helper()
	if got := chat.ErrorCode(err); got != want {
		t.Fatalf("code %q (%v), want %q", got, err, want)
	}
}

func TestServices(t *testing.T) {
	s := mustServices(t)
	anaCtx, _ := s.as(t, "ana")
	bobCtx, bob := s.as(t, "bob")
	eveCtx, _ := s.as(t, "eve")
	c, created, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true, Name: "g"})
	if err != nil || !created {
		t.Fatal(err)
	}
	t.Run("ErrUnauthenticated", func(t *testing.T) {
		_, err := s.chats.FindChat(context.Background(), c.ID)
		code(t, err, chat.EUNAUTHORIZED)
		_, _, err = s.messages.SendMessage(context.Background(), c.ID, chat.MessageCreate{Content: "x"})
		code(t, err, chat.EUNAUTHORIZED)
	})
	t.Run("ErrNotMember", func(t *testing.T) {
		_, err := s.chats.FindChat(eveCtx, c.ID)
		code(t, err, chat.ENOTFOUND)
		_, _, err = s.messages.SendMessage(eveCtx, c.ID, chat.MessageCreate{Content: "x"})
		code(t, err, chat.ENOTFOUND)
		code(t, s.chats.MarkRead(eveCtx, c.ID), chat.ENOTFOUND)
		// Typing is refused by the service itself, whatever the transport
		// checked: a non-member, an unknown chat, a malformed id.
		code(t, s.rooms.SetTyping(eveCtx, c.ID, true), chat.ENOTFOUND)
		code(t, s.rooms.SetTyping(eveCtx, "no-such-chat", true), chat.ENOTFOUND)
		code(t, s.rooms.SetTyping(eveCtx, "a/b", true), chat.EINVALID)
		code(t, s.rooms.SetTyping(context.Background(), c.ID, true), chat.EUNAUTHORIZED)
		if err := s.rooms.SetTyping(bobCtx, c.ID, true); err != nil {
			t.Fatalf("a member's typing: %v", err)
		}
	})
	t.Run("SeqAndUnread", func(t *testing.T) {
		var last *chat.Message
		for i := 0; i < 3; i++ {
			m, _, err := s.messages.SendMessage(anaCtx, c.ID, chat.MessageCreate{Content: fmt.Sprint(i)})
			if err != nil {
				t.Fatal(err)
			}
			if last != nil && (m.Seq != last.Seq+1 || m.CreatedAt.Before(last.CreatedAt) || m.ID <= last.ID) {
				t.Fatalf("order: %+v after %+v", m, last)
			}
			last = m
		}
		got, err := s.chats.FindChat(bobCtx, c.ID)
		if err != nil || got.UnreadCount != 3 {
			t.Fatalf("unread %d %v", got.UnreadCount, err)
		}
		if err := s.chats.MarkRead(bobCtx, c.ID); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.chats.FindChat(bobCtx, c.ID); got.UnreadCount != 0 {
			t.Fatalf("unread after read %d", got.UnreadCount)
		}
	})
	t.Run("ErrBadCursor", func(t *testing.T) {
		_, _, err := s.messages.FindMessages(anaCtx, c.ID, chat.MessageFilter{Before: "nope"})
		code(t, err, chat.EINVALID)
	})
	t.Run("ErrDeleteNotCreator", func(t *testing.T) {
		code(t, s.chats.DeleteChat(bobCtx, c.ID), chat.EFORBIDDEN)
	})
	t.Run("ErrUsernameTaken", func(t *testing.T) {
		me, _ := s.users.Me(anaCtx)
		_, err := s.users.UpdateMe(bobCtx, chat.UserUpdate{Username: &me.Username})
		code(t, err, chat.ECONFLICT)
	})
}
