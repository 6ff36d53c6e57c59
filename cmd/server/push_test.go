package main_test

import (
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// TestPushOwedByKilledInstance: a push owed by an instance killed right
// after the send is sent by one of two other instances, both sweeping,
// within the contract's 60 s, once; the chat's next push, which can only
// be handled after the first was recorded, closes the count.
func TestPushOwedByKilledInstance(t *testing.T) {
	t.Parallel()
	f := chattest.NewFakeFCM(t)
	bin := build(t)
	env := []string{"FCM_ENDPOINT=" + f.URL, "PUSH_DELAY=2s", "PUSH_SWEEP=2s"}
	doomed := startServer(t, bin, env...)
	live := []server{startServer(t, bin, env...), startServer(t, bin, env...)}
	ana, bob := chattest.NewUser(t, "ana"), chattest.NewUser(t, "bob")
	chatID := createChat(t, doomed.base, ana, bob)
	call(t, live[0].base, "PUT", "/api/me/devices/phone", bob.Token, map[string]any{"token": "tok-bob", "platform": "android"})
	var m1 struct{ ID string }
	if err := json.Unmarshal(call(t, doomed.base, "POST", "/api/chats/"+chatID+"/messages", ana.Token, map[string]any{"content": "before the crash"}), &m1); err != nil {
		t.Fatal(err)
	}
	if err := doomed.p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	pushes := func(n int, within time.Duration) {
		t.Helper()
		chattest.WaitWithin(t, fmt.Sprintf("%d pushes to bob", n), within, func() bool { return len(f.To("tok-bob")) >= n })
	}
	pushes(1, 60*time.Second) // the contract's bound for a dead instance's push
	t.Logf("pushed %s after SIGKILL (PUSH_DELAY 2 s, sweeps every 2 s; contract 60 s)", time.Since(killed).Round(100*time.Millisecond))
	var m2 struct{ ID string }
	if err := json.Unmarshal(call(t, live[1].base, "POST", "/api/chats/"+chatID+"/messages", ana.Token, map[string]any{"content": "after"}), &m2); err != nil {
		t.Fatal(err)
	}
	pushes(2, chattest.WaitTimeout)
	got := f.To("tok-bob")
	if len(got) != 2 || got[0].Data["messageId"] != m1.ID || got[1].Data["messageId"] != m2.ID {
		t.Fatalf("pushes %+v, want one for each message", got)
	}
}
