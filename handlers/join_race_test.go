package handlers_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// racingRooms is the real room service with a hook that runs after
// JoinChat's membership check has passed, before the hub puts the socket
// in the room: where a concurrent removal would slip in.
type racingRooms struct {
	chat.RoomService
	mu    sync.Mutex
	after func(chatID string)
}

func (r *racingRooms) JoinChat(ctx context.Context, chatID string) error {
	err := r.RoomService.JoinChat(ctx, chatID)
	r.mu.Lock()
	after := r.after
	r.after = nil
	r.mu.Unlock()
	if err == nil && after != nil {
		after(chatID)
	}
	return err
}

// TestJoinRacesRemoval removes a member between joinChat's check and its
// insertion into the room, after the removal's chatDeleted was processed
// on the instance: the join must not put the removed user in the room.
func TestJoinRacesRemoval(t *testing.T) {
	t.Parallel()
	rooms := &racingRooms{}
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{WrapRooms: func(r chat.RoomService) chat.RoomService {
		rooms.RoomService = r
		return rooms
	}}))
	u := newUsers(t, a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true})
	anaS := chattest.MustDial(t, a.in.URL, ana.Token)
	bobS := chattest.MustDial(t, a.in.URL, bob.Token)
	cidS := chattest.MustDial(t, a.in.URL, cid.Token)
	anaS.MustEmit(t, "joinChat", g.ID)
	cidS.MustEmit(t, "joinChat", g.ID)

	rooms.mu.Lock()
	rooms.after = func(chatID string) {
		// This runs on the server's goroutine: report, never Fatal.
		r := a.in.Do(t, "DELETE", "/api/chats/"+chatID+"/members/"+bob.UID, ana.Token, nil)
		if r.Status != 204 {
			t.Errorf("remove: %d %s", r.Status, r.Body)
			return
		}
		// chatDeleted is emitted after the hub has evicted bob: once it is
		// here, the removal is fully processed on this instance.
		deadline := time.Now().Add(chattest.WaitTimeout)
		for countMatching(bobS.Events("chatDeleted"), isString(chatID)) == 0 {
			if time.Now().After(deadline) {
				t.Errorf("no chatDeleted for the removal")
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	rooms.mu.Unlock()
	if code := bobS.Emit(t, "joinChat", g.ID); code != chat.ENOTFOUND {
		t.Fatalf("joinChat racing a removal answered %q, want %s", code, chat.ENOTFOUND)
	}
	if code := bobS.Emit(t, "typing", g.ID); code != chat.ENOTFOUND {
		t.Fatalf("typing after the refused join answered %q", code)
	}
	// Nothing of the room reaches bob: cid's typing reaches ana, then a
	// marker reaches bob, and bob has no typing before it.
	cidS.MustEmit(t, "typing", g.ID)
	anaS.Wait(t, "typing", field("userId", cid.UID))
	marker(t, a, bobS, ana, bob)
	if n := len(bobS.Events("typing")); n != 0 {
		t.Fatalf("removed user got %d typing events of the room", n)
	}
}
