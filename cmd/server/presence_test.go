package main_test

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

type presenceBody struct {
	UserID   string  `json:"userId"`
	Online   bool    `json:"online"`
	LastSeen *string `json:"lastSeen"`
}

// waitFlips waits until s has n presence events about uid, the last one
// saying online (or not) with a lastSeen, within d; it returns when the
// last came.
func waitFlips(t *testing.T, s *chattest.Socket, uid string, n int, online bool, d time.Duration) time.Time {
	t.Helper()
	ev := s.WaitPresence(t, uid, n, d)
	var p presenceBody
	if err := json.Unmarshal(ev.Data, &p); err != nil || p.Online != online || p.LastSeen == nil {
		t.Fatalf("presence about %s: %s, want online=%v with lastSeen", uid, ev.Data, online)
	}
	return ev.At
}

// server is a started server process and its base URL.
type server struct {
	p    *chattest.Process
	base string
}

func startServer(t *testing.T, bin string, env ...string) server {
	t.Helper()
	port := freePort(t)
	p := start(t, bin, append([]string{fmt.Sprint("PORT=", port)}, env...)...)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitReady(t, base)
	return server{p, base}
}

// TestPresenceInstanceKilled: an instance killed with SIGKILL; its users
// read offline on a live instance within the contract's 60 s (the design
// target, 30 s, is printed against the measure). Production periods.
func TestPresenceInstanceKilled(t *testing.T) {
	t.Parallel()
	bin := build(t)
	live := chattest.NewInstance(t, chattest.Options{})
	doomed := startServer(t, bin)
	ana, bob := chattest.NewUser(t, "ana"), chattest.NewUser(t, "bob")
	createChat(t, live.URL, ana, bob)
	anaSock := chattest.MustDial(t, live.URL, ana.Token)
	chattest.MustDial(t, doomed.base, bob.Token)
	waitFlips(t, anaSock, bob.UID, 1, true, chattest.WaitTimeout)
	killed := time.Now()
	if err := doomed.p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	at := waitFlips(t, anaSock, bob.UID, 2, false, 60*time.Second)
	t.Logf("offline %s after SIGKILL (design target 30 s, contract 60 s)", at.Sub(killed).Round(100*time.Millisecond))
}

// TestPresenceOnlyInstanceReplaced: the only instance is killed and a new
// one starts: the new one ends the dead one's sessions. The test's own
// database makes "only" true (other tests' instances heartbeat in
// theirs); short lease.
func TestPresenceOnlyInstanceReplaced(t *testing.T) {
	t.Parallel()
	bin := build(t)
	env := []string{"PRESENCE_LEASE_TTL=3s", "PRESENCE_GRACE=1s"}
	first := startServer(t, bin, env...)
	ana, bob := chattest.NewUser(t, "ana"), chattest.NewUser(t, "bob")
	createChat(t, first.base, ana, bob)
	anaSock := chattest.MustDialRetrying(t, first.base, ana.Token)
	chattest.MustDialRetrying(t, first.base, bob.Token)
	waitFlips(t, anaSock, bob.UID, 1, true, chattest.WaitTimeout)
	killed := time.Now()
	if err := first.p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	anaSock.WaitClosed(t)
	second := startServer(t, bin, env...)
	anaSock = chattest.MustDialRetrying(t, second.base, ana.Token)
	at := waitFlips(t, anaSock, bob.UID, 1, false, chattest.WaitTimeout)
	t.Logf("offline %s after SIGKILL of the only instance, a new one started", at.Sub(killed).Round(100*time.Millisecond))
	var me presenceBody
	if err := json.Unmarshal(call(t, second.base, "GET", "/api/me", bob.Token, nil), &me); err != nil || me.Online || me.LastSeen == nil {
		t.Fatalf("bob reads %+v %v, want offline with lastSeen", me, err)
	}
}

// TestPresenceSIGTERM: an instance shutting down closes its sockets; a
// user who reconnects elsewhere within the grace sees no flap, one who
// does not goes offline within 15 s of the close. Production periods.
func TestPresenceSIGTERM(t *testing.T) {
	t.Parallel()
	bin := build(t)
	live := chattest.NewInstance(t, chattest.Options{})
	leaving := startServer(t, bin)
	ana, bob, dave := chattest.NewUser(t, "ana"), chattest.NewUser(t, "bob"), chattest.NewUser(t, "dave")
	createChat(t, live.URL, ana, bob)
	createChat(t, live.URL, ana, dave)
	anaSock := chattest.MustDial(t, live.URL, ana.Token)
	bobSock := chattest.MustDial(t, leaving.base, bob.Token)
	daveSock := chattest.MustDial(t, leaving.base, dave.Token)
	waitFlips(t, anaSock, bob.UID, 1, true, chattest.WaitTimeout)
	waitFlips(t, anaSock, dave.UID, 1, true, chattest.WaitTimeout)
	if err := leaving.p.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	bobSock.WaitClosed(t)
	closed := time.Now()
	chattest.MustDial(t, live.URL, bob.Token) // bob's client reconnects to a live instance
	daveSock.WaitClosed(t)
	if err := leaving.p.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	t.Logf("the instance exited %s after its sockets closed", time.Since(closed).Round(100*time.Millisecond))
	at := waitFlips(t, anaSock, dave.UID, 2, false, 15*time.Second)
	t.Logf("dave offline %s after the close (contract 15 s)", at.Sub(closed).Round(100*time.Millisecond))
	// Once bob's old session is gone, a flip it caused would be committed;
	// dave's next online is committed after it, and one listener delivers
	// flips in commit order: it is the marker.
	deadline := time.Now().Add(chattest.WaitTimeout)
	for len(chattest.Query(t, "", "sessions", false, chattest.Filter{Field: "userId", Op: "EQUAL", Value: bob.UID})) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("bob's session on the closed instance was not ended")
		}
		time.Sleep(50 * time.Millisecond)
	}
	chattest.MustDial(t, live.URL, dave.Token)
	waitFlips(t, anaSock, dave.UID, 3, true, chattest.WaitTimeout)
	if got := anaSock.Presence(bob.UID); len(got) != 1 {
		t.Fatalf("bob flapped: %+v", got)
	}
}
