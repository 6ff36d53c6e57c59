package handlers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/app"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/fakefcm"
)

const webApp = "https://chat.example.test"

func (a api) putDevice(t *testing.T, who chattest.User, id, token, platform string) chattest.Response {
	t.Helper()
	return a.call(t, "PUT", "/api/me/devices/{deviceId}", "/api/me/devices/"+id, who.Token, map[string]any{"token": token, "platform": platform})
}

func (a api) devices(t *testing.T, who chattest.User) []string {
	t.Helper()
	r := a.call(t, "GET", "/api/me/devices", "/api/me/devices", who.Token, nil)
	if strings.Contains(string(r.Body), "token") {
		t.Fatalf("a device's token echoed: %s", r.Body)
	}
	var out []string
	for _, d := range decode[struct {
		Devices []struct{ ID string } `json:"devices"`
	}](t, r.Body).Devices {
		out = append(out, d.ID)
	}
	return out
}

// waitPushes waits until token has had n pushes and returns them.
func waitPushes(t *testing.T, f *chattest.FakeFCM, token string, n int) []fakefcm.Message {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d pushes to %s", n, token), func() bool { return len(f.To(token)) >= n })
	return f.To(token)
}

// pushWorld is an instance whose pushes go to a fake FCM after delay.
func pushWorld(t *testing.T, delay time.Duration) (api, *chattest.FakeFCM) {
	f := chattest.NewFakeFCM(t)
	in := chattest.NewInstance(t, chattest.Options{Push: app.PushSettings{FCMEndpoint: f.URL, Delay: delay, WebAppURL: webApp}})
	return newAPI(t, in), f
}

// TestDeviceRoutes: registration, its limits, and a token moving to
// whoever registers it last.
func TestDeviceRoutes(t *testing.T) {
	t.Parallel()
	a, _ := pushWorld(t, time.Second)
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	expect(t, a.putDevice(t, ana, "laptop", "tok-1", "web"), 204, "")
	expect(t, a.putDevice(t, ana, "laptop", "tok-1", "web"), 204, "")
	for name, r := range map[string]chattest.Response{
		"BadID":       a.putDevice(t, ana, "a.b", "tok", "web"),
		"EmptyToken":  a.putDevice(t, ana, "x", "", "web"),
		"LongToken":   a.putDevice(t, ana, "x", strings.Repeat("t", 4097), "web"),
		"BadPlatform": a.putDevice(t, ana, "x", "tok", "desktop"),
	} {
		t.Run(name, func(t *testing.T) { expect(t, r, 400, "invalid_argument") })
	}
	// The same browser signed in by bob: the token leaves ana's device.
	expect(t, a.putDevice(t, bob, "browser", "tok-1", "web"), 204, "")
	if got := a.devices(t, ana); len(got) != 0 {
		t.Fatalf("ana still has %v", got)
	}
	for i := range 21 {
		expect(t, a.putDevice(t, ana, fmt.Sprintf("d%02d", i), fmt.Sprintf("ana-%d", i), "android"), 204, "")
	}
	got := a.devices(t, ana)
	if len(got) != 20 || got[0] != "d01" {
		t.Fatalf("after 21 registrations: %v (the oldest, d00, dropped)", got)
	}
	expect(t, a.call(t, "DELETE", "/api/me/devices/{deviceId}", "/api/me/devices/d05", ana.Token, nil), 204, "")
	expect(t, a.call(t, "DELETE", "/api/me/devices/{deviceId}", "/api/me/devices/nope", ana.Token, nil), 204, "")
	if got := a.devices(t, ana); len(got) != 19 {
		t.Fatalf("after a delete: %v", got)
	}
}

// TestPushRules: who gets a push for what, with the contract's payload;
// each negative case is closed by a later push that had to come after.
func TestPushRules(t *testing.T) {
	t.Parallel()
	a, f := pushWorld(t, time.Second)
	u := newUsers(t, a, 4)
	ana, bob, cid, dan := u[0], u[1], u[2], u[3]
	anaName := usernameOf(t, a, ana)
	for _, d := range []struct {
		who   chattest.User
		token string
	}{{ana, "tok-ana"}, {bob, "tok-bob"}, {cid, "tok-cid"}, {dan, "tok-dan"}} {
		expect(t, a.putDevice(t, d.who, "dev", d.token, "web"), 204, "")
	}
	d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "Crew"})
	// A chat per case where a member was pushed a moment ago: one push per
	// chat and device every 10 s would otherwise hold the next one back.
	group := func(name string) chatBody {
		return a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": name})
	}

	t.Run("Direct", func(t *testing.T) {
		m := a.mustSend(t, ana.Token, d.ID, "hello bob")
		p := waitPushes(t, f, "tok-bob", 1)[0]
		if p.Notification["title"] != anaName || p.Notification["body"] != "hello bob" || p.Data["chatId"] != d.ID || p.Data["messageId"] != m.ID ||
			p.Webpush.FCMOptions["link"] != webApp+"/?chat="+d.ID || p.Webpush.Notification["tag"] != d.ID {
			t.Fatalf("push %+v", p)
		}
	})
	t.Run("GroupCutAt100", func(t *testing.T) {
		long := strings.Repeat("é", 150)
		a.mustSend(t, ana.Token, g.ID, long)
		p := waitPushes(t, f, "tok-cid", 1)[0]
		if p.Notification["title"] != "Crew" || p.Notification["body"] != anaName+": "+strings.Repeat("é", 100) {
			t.Fatalf("push %+v", p.Notification)
		}
		waitPushes(t, f, "tok-bob", 2)
		if n := len(pushesIn(f, "tok-bob", d.ID)); n != 1 {
			t.Fatalf("%d pushes of the direct chat's one message, want 1", n)
		}
	})
	t.Run("FileWithoutContent", func(t *testing.T) {
		g := group("Files")
		mustUpload(t, a, ana.Token, g.ID, filePart("plan.pdf", []byte("%PDF-1.4")))
		waitFor(t, "the file's push", func() bool { return len(pushesIn(f, "tok-cid", g.ID)) == 1 })
		if p := pushesIn(f, "tok-cid", g.ID)[0]; p.Notification["body"] != anaName+": 📎 plan.pdf" {
			t.Fatalf("push %+v", p.Notification)
		}
	})
	t.Run("ReadWithinTheDelay", func(t *testing.T) {
		g := group("Quick")
		a.mustSend(t, bob.Token, g.ID, "read me quick")
		a.read(t, cid.Token, g.ID)
		waitFor(t, "its push handled", func() bool { return pushDone(t, g.ID) })
		m := a.mustSend(t, bob.Token, g.ID, "after the read")
		waitFor(t, "cid's push", func() bool { return len(pushesIn(f, "tok-cid", g.ID)) > 0 })
		if got := pushesIn(f, "tok-cid", g.ID); got[0].Data["messageId"] != m.ID {
			t.Fatalf("cid's push %+v", got[0])
		}
		if n := len(pushesIn(f, "tok-bob", g.ID)); n != 0 {
			t.Fatalf("bob, the sender, got %d pushes", n)
		}
		if n := len(pushesIn(f, "tok-cid", g.ID)); n != 1 {
			t.Fatalf("cid got %d pushes, want 1: none for what he read in time", n)
		}
	})
	t.Run("MutedUnlessMentioned", func(t *testing.T) {
		g := group("Muted")
		expect(t, a.call(t, "PUT", "/api/chats/{id}/mute", "/api/chats/"+g.ID+"/mute", cid.Token, map[string]any{"until": "9999-12-31T23:59:59.999Z"}), 204, "")
		a.mustSend(t, ana.Token, g.ID, "muted for cid")
		waitFor(t, "bob's push", func() bool { return len(pushesIn(f, "tok-bob", g.ID)) == 1 }) // the same handling skipped cid
		a.read(t, bob.Token, g.ID)
		a.send(t, ana.Token, g.ID, map[string]any{"content": "hey @cid", "mentions": []string{cid.UID}})
		waitFor(t, "cid's push", func() bool { return len(pushesIn(f, "tok-cid", g.ID)) > 0 })
		if got := pushesIn(f, "tok-cid", g.ID); len(got) != 1 || got[0].Notification["body"] != anaName+": hey @cid" {
			t.Fatalf("cid's pushes %+v", got)
		}
	})
	t.Run("Collapsed", func(t *testing.T) {
		a.read(t, bob.Token, d.ID)
		inD := func() []fakefcm.Message { return pushesIn(f, "tok-bob", d.ID) }
		before := len(inD())
		for i := range 5 {
			a.mustSend(t, ana.Token, d.ID, fmt.Sprintf("burst %d", i))
		}
		waitFor(t, "the burst's push", func() bool { return len(inD()) > before })
		if got := inD(); got[before].Notification["body"] != "burst 4" {
			t.Fatalf("push for the burst: %+v", got[before].Notification)
		}
		a.mustSend(t, ana.Token, d.ID, "later")
		waitFor(t, "the later push", func() bool { return len(inD()) > before+1 })
		got := inD()
		if len(got) != before+2 || got[before+1].Notification["body"] != "later" || got[before+1].At.Sub(got[before].At) < chat.PushEvery-time.Second {
			t.Fatalf("after the burst: %d pushes, the last %+v %v after the first", len(got)-before, got[len(got)-1].Notification, got[len(got)-1].At.Sub(got[before].At))
		}
	})
	t.Run("BlockedBeforeItWasDue", func(t *testing.T) {
		dd := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{dan.UID}})
		a.mustSend(t, ana.Token, dd.ID, "then a block")
		expect(t, a.setBlock(t, dan, ana.UID, true), 204, "")
		waitFor(t, "the blocked chat's push handled", func() bool { return pushDone(t, dd.ID) })
		expect(t, a.setBlock(t, dan, ana.UID, false), 204, "")
		a.mustSend(t, ana.Token, dd.ID, "after the unblock")
		got := waitPushes(t, f, "tok-dan", 1)
		if len(got) != 1 || got[0].Notification["body"] != "after the unblock" {
			t.Fatalf("dan's pushes: %+v", got)
		}
	})
}

// TestUnregisteredDeviceForgotten: a token FCM calls UNREGISTERED loses
// its device.
func TestUnregisteredDeviceForgotten(t *testing.T) {
	t.Parallel()
	a, f := pushWorld(t, 200*time.Millisecond)
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	f.Refuse("tok-stale", "UNREGISTERED")
	f.Refuse("tok-bad", "INVALID_ARGUMENT")
	expect(t, a.putDevice(t, bob, "old", "tok-stale", "android"), 204, "")
	expect(t, a.putDevice(t, bob, "bad", "tok-bad", "ios"), 204, "")
	expect(t, a.putDevice(t, bob, "new", "tok-ok", "web"), 204, "")
	d := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	a.mustSend(t, ana.Token, d.ID, "are you there")
	waitPushes(t, f, "tok-ok", 1)
	waitFor(t, "the gone devices forgotten", func() bool {
		got := a.devices(t, bob)
		return len(got) == 1 && got[0] == "new"
	})
}

// pushesIn returns the pushes to token about one chat.
func pushesIn(f *chattest.FakeFCM, token, chatID string) []fakefcm.Message {
	var out []fakefcm.Message
	for _, m := range f.To(token) {
		if m.Data["chatId"] == chatID {
			out = append(out, m)
		}
	}
	return out
}

// pushDone tells whether the chat's push to-do has nothing owed: read
// from storage, as a sweeper would.
func pushDone(t testing.TB, chatID string) bool {
	t.Helper()
	docs := chattest.Query(t, "", "pushes", false, chattest.Filter{Field: "chatId", Op: "EQUAL", Value: chatID})
	if len(docs) != 1 {
		return false
	}
	due, _ := docs[0]["due"].(map[string]any)
	_, null := due["nullValue"]
	return null
}

// TestPushRetried: FCM's quota and availability errors are tried again
// (the SDK retries 503s itself; a 429 is retried by the pusher), and the
// push arrives once.
func TestPushRetried(t *testing.T) {
	t.Parallel()
	a, f := pushWorld(t, 200*time.Millisecond)
	u := newUsers(t, a, 3)
	ana, bob, cid := u[0], u[1], u[2]
	f.FailFirst("tok-busy", 503, 503)
	f.FailFirst("tok-quota", 429)
	expect(t, a.putDevice(t, bob, "p", "tok-busy", "android"), 204, "")
	expect(t, a.putDevice(t, cid, "p", "tok-quota", "web"), 204, "")
	g := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID, cid.UID}, "isGroup": true, "name": "Retry"})
	m := a.mustSend(t, ana.Token, g.ID, "through the storm")
	for _, tok := range []string{"tok-busy", "tok-quota"} {
		got := waitPushes(t, f, tok, 1)
		if got[0].Data["messageId"] != m.ID {
			t.Fatalf("push to %s: %+v", tok, got[0])
		}
	}
	// The next message's push closes the count: one each for the first.
	a.read(t, bob.Token, g.ID)
	a.read(t, cid.Token, g.ID)
	waitFor(t, "the to-do handled", func() bool { return pushDone(t, g.ID) })
	if n, k := len(f.To("tok-busy")), len(f.To("tok-quota")); n != 1 || k != 1 {
		t.Fatalf("pushes %d and %d, want 1 each", n, k)
	}
}
