package handlers_test

import (
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/realtime"
)

// TestEmulatorRestart restarts Firestore under a running instance: its
// listeners must come back (by themselves or through the stall watchdog)
// and deliver what is written afterwards.
func TestEmulatorRestart(t *testing.T) {
	t.Parallel()
	emu := chattest.StartFirestore(t)
	opts := realtime.Options{HeartbeatInterval: 500 * time.Millisecond, StallTimeout: 3 * time.Second}
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{Realtime: opts, FirestoreHost: emu.Host}))
	ana, bob := chattest.NewUser(t, unique("ana")), chattest.NewUser(t, unique("bob"))
	setup := func() chatBody {
		for _, u := range []chattest.User{ana, bob} {
			if r := a.in.Do(t, "GET", "/api/me", u.Token, nil); r.Status != 200 {
				t.Fatalf("me: %d %s", r.Status, r.Body)
			}
		}
		return a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	}
	ch := setup()
	bobS := chattest.MustDial(t, a.in.URL, bob.Token)
	m := a.mustSend(t, ana.Token, ch.ID, "before restart")
	bobS.Wait(t, "newMessage", field("id", m.ID))

	emu.Restart()
	ch2 := setup() // the emulator came back empty
	bobS.Wait(t, "newChat", field("id", ch2.ID))
	m2 := a.mustSend(t, ana.Token, ch2.ID, "after restart")
	bobS.Wait(t, "newMessage", field("id", m2.ID))
	t.Logf("listener restarts by the watchdog: %d", a.in.Node.Restarts())
}
