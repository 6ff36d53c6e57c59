package handlers_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// TestSocketEventRateLimit: a flood is answered, never cut; what is over
// the limit has no effect; the socket works again once under it; a socket
// that stays under the limit is never refused.
func TestSocketEventRateLimit(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	s := chattest.MustDial(t, a.in.URL, ana.Token)
	t.Run("FloodAnsweredNotCut", func(t *testing.T) {
		acks := s.Flood(t, 300, "leaveChat", ch.ID)
		counts := map[string]int{}
		for _, raw := range acks {
			counts[chattest.AckCode(raw)]++
		}
		if counts[chat.ERATELIMITED] == 0 || counts[""] < 40 || counts[""]+counts[chat.ERATELIMITED] != 300 {
			t.Fatalf("acks by code %v: want the burst of 40 served and the rest rate_limited", counts)
		}
		// Once under the limit the socket serves again.
		deadline := time.Now().Add(chattest.WaitTimeout)
		for s.Emit(t, "leaveChat", ch.ID) == chat.ERATELIMITED {
			if time.Now().After(deadline) {
				t.Fatal("still rate limited")
			}
			time.Sleep(100 * time.Millisecond) // the bucket refills with time itself
		}
	})
	t.Run("OverLimitHasNoEffect", func(t *testing.T) {
		acks := s.Flood(t, 100, "typing", ch.ID) // not joined: not_found, or rate_limited
		for _, raw := range acks {
			if c := chattest.AckCode(raw); c != chat.ENOTFOUND && c != chat.ERATELIMITED {
				t.Fatalf("ack %s", raw)
			}
		}
		deadline := time.Now().Add(chattest.WaitTimeout)
		for {
			acks := s.Flood(t, 1, "joinChat", ch.ID)
			if chattest.AckCode(acks[0]) == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("joinChat still refused")
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("UnderLimitNeverRefused", func(t *testing.T) {
		fresh := chattest.MustDial(t, a.in.URL, bob.Token)
		tick := time.NewTicker(time.Second / 20)
		defer tick.Stop()
		for i := range 60 {
			<-tick.C
			if c := fresh.Emit(t, "leaveChat", ch.ID); c != "" {
				t.Fatalf("event %d at 20/s refused: %s", i, c)
			}
		}
	})
}

// TestSocketsPerUser: 20 sockets of one user on an instance, a 21st is
// refused with rate_limited; closing one makes room.
func TestSocketsPerUser(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 1)[0]
	var socks []*chattest.Socket
	for range 20 {
		socks = append(socks, chattest.MustDial(t, a.in.URL, u.Token))
	}
	_, err := chattest.Dial(t, a.in.URL, u.Token)
	var ce *chattest.ConnectError
	if !errors.As(err, &ce) || ce.Message != chat.ERATELIMITED {
		t.Fatalf("21st socket: %v, want connect_error rate_limited", err)
	}
	socks[0].Close()
	deadline := time.Now().Add(chattest.WaitTimeout)
	for {
		s, err := chattest.Dial(t, a.in.URL, u.Token)
		if err == nil {
			s.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no room after a close: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the close is processed asynchronously
	}
}

// TestRoomsPerSocket: a socket joins at most 100 chats.
func TestRoomsPerSocket(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	var ids []string
	pace := time.NewTicker(time.Second / 40) // under the per-user REST limit of 50/s
	defer pace.Stop()
	for i := range 101 {
		<-pace.C
		ids = append(ids, a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": fmt.Sprint(i)}).ID)
	}
	s := chattest.MustDial(t, a.in.URL, ana.Token)
	events := time.NewTicker(time.Second / 18) // under the socket's 20 events/s
	defer events.Stop()
	for _, id := range ids[:100] {
		<-events.C
		s.MustEmit(t, "joinChat", id)
	}
	if c := s.Emit(t, "joinChat", ids[100]); c != chat.ETOOLARGE {
		t.Fatalf("101st joinChat: %q, want %s", c, chat.ETOOLARGE)
	}
	s.MustEmit(t, "joinChat", ids[0]) // already joined: still fine
	s.MustEmit(t, "leaveChat", ids[0])
	s.MustEmit(t, "joinChat", ids[100])
}

// TestUserIDsBounded: a body naming more users than a group holds is
// refused before any other work, fast even when huge.
func TestUserIDsBounded(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true})
	ids := make([]string, 80000)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%07d", i%40000) // half of them repeated
	}
	body := fmt.Sprintf(`{"isGroup":true,"userIds":["%s"]}`, strings.Join(ids, `","`))
	for name, tc := range map[string]struct{ method, tpl, path, body string }{
		"Create257":   {"POST", "/api/chats", "/api/chats", fmt.Sprintf(`{"isGroup":true,"userIds":["%s"]}`, strings.Join(ids[:257], `","`))},
		"Create80000": {"POST", "/api/chats", "/api/chats", body},
		"Add80000":    {"POST", "/api/chats/{id}/members", "/api/chats/" + g.ID + "/members", strings.Replace(body, `"isGroup":true,`, "", 1)},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r := a.call(t, tc.method, tc.tpl, tc.path, ana.Token, tc.body)
			expect(t, r, 400, chat.EINVALID)
			t.Logf("%d-byte body refused in %v", len(tc.body), time.Since(start))
		})
	}
}

// countingRooms counts the room service's JoinChat calls: each costs
// storage reads (and a write when something is unread).
type countingRooms struct {
	chat.RoomService
	joins atomic.Int32
}

func (r *countingRooms) JoinChat(ctx context.Context, chatID string) error {
	r.joins.Add(1)
	return r.RoomService.JoinChat(ctx, chatID)
}

// TestRejoinCostsNothing: pipelined joinChat on a chat already open and
// read reach no storage; once a message makes it unread, the next join
// marks it read again.
func TestRejoinCostsNothing(t *testing.T) {
	t.Parallel()
	rooms := &countingRooms{}
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{WrapRooms: func(r chat.RoomService) chat.RoomService {
		rooms.RoomService = r
		return rooms
	}}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	s := chattest.MustDial(t, a.in.URL, bob.Token)
	s.MustEmit(t, "joinChat", ch.ID)
	for _, raw := range s.Flood(t, 30, "joinChat", ch.ID) {
		if c := chattest.AckCode(raw); c != "" {
			t.Fatalf("rejoin: %s", raw)
		}
	}
	if n := rooms.joins.Load(); n != 1 {
		t.Fatalf("%d JoinChat calls for 1 join and 30 rejoins of a read chat, want 1", n)
	}
	m := a.mustSend(t, ana.Token, ch.ID, "unread now")
	s.Wait(t, "chatSummary", summaryFor(ch.ID, m.ID))
	s.MustEmit(t, "joinChat", ch.ID) // marks it read: a call
	s.Wait(t, "chatSummary", func(raw json.RawMessage) bool {
		var sum summaryBody
		return json.Unmarshal(raw, &sum) == nil && sum.ChatID == ch.ID && sum.UnreadCount == 0
	})
	s.MustEmit(t, "joinChat", ch.ID) // read again: no call
	if n := rooms.joins.Load(); n != 2 {
		t.Fatalf("%d JoinChat calls, want 2", n)
	}
	if got, _ := a.getChat(t, bob.Token, ch.ID); got.UnreadCount != 0 {
		t.Fatalf("unread %d after rejoining", got.UnreadCount)
	}
}
