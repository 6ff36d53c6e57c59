package realtime_test

import (
	"context"
	"io"
	"log/slog"
	"reflect"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/chatapp/chat/realtime"
)

// fast are engine timings for tests: the same rules, short clocks.
func fast() realtime.Options {
	return realtime.Options{
		HeartbeatInterval: 50 * time.Millisecond, StallTimeout: 400 * time.Millisecond,
		FirstSnapshotTimeout: 300 * time.Millisecond, Linger: time.Millisecond,
		ReadTimeout: 200 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// MustNode starts an engine on st, closed with the test.
func MustNode(tb testing.TB, st *store, k *sink, opts realtime.Options) *realtime.Node {
	tb.Helper()
	n := realtime.NewNode(st, st, k, opts)
	tb.Cleanup(n.Close)
	return n
}

func mustTrack(t *testing.T, n *realtime.Node, uid string) func() {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	release, err := n.Track(ctx, uid)
	if err != nil {
		t.Fatalf("track %s: %v", uid, err)
	}
	return release
}

func TestFirstSnapshotThatNeverComes(t *testing.T) {
	st, k := newStore(), newSink()
	n := MustNode(t, st, k, fast())
	st.set(func(s *store) { s.holdFirst = true })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := n.Track(ctx, "ana"); err == nil {
		t.Fatal("Track returned before any first snapshot")
	}
	st.set(func(s *store) { s.holdFirst = false })
	// The held listeners stay silent: only the late-first-snapshot check
	// can replace them.
	mustTrack(t, n, "ana")
	if n.Restarts() == 0 {
		t.Fatal("no restart recorded")
	}
}

func TestListenerErrorsRestartWithBackoff(t *testing.T) {
	st, k := newStore(), newSink()
	n := MustNode(t, st, k, fast())
	st.set(func(s *store) { s.listenErrs = 6 }) // two generations of three listeners
	mustTrack(t, n, "ana")
	if n.Restarts() < 2 {
		t.Fatalf("restarts %d, want the failures counted", n.Restarts())
	}
	st.join("g", "ana")
	k.waitFor(t, "ana", "newChat:g:unread=0")
}

// TestFailedReadsRetried: a chat load that fails is retried, and nothing
// queued behind it for the user goes out first or is lost.
func TestFailedReadsRetried(t *testing.T) {
	st, k := newStore(), newSink()
	n := MustNode(t, st, k, fast())
	mustTrack(t, n, "ana")
	st.set(func(s *store) { s.failLoads = 3 })
	st.join("g", "bob")
	st.join("g", "ana")
	st.send("g", "bob")
	// Waited for to the last event: a message's summary follows it.
	got := k.waitFor(t, "ana", "chatSummary:g:1/1")
	want := []string{"newChat:g:unread=1", "newMessage:g:1", "chatSummary:g:1/1"} // the chat is read after the send
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// TestFailedGapFillRetried: a message the listener never delivered is read
// before the next one goes out, retried until the read works.
func TestFailedGapFillRetried(t *testing.T) {
	st, k := newStore(), newSink()
	n := MustNode(t, st, k, fast())
	st.join("g", "bob")
	st.join("g", "ana")
	mustTrack(t, n, "ana")
	st.send("g", "bob")
	k.waitFor(t, "ana", "newMessage:g:1")
	st.set(func(s *store) { s.dropNext = 1 })
	st.send("g", "bob") // lost by the listener
	st.set(func(s *store) { s.failLoads = 3 })
	st.send("g", "bob")
	got := k.waitFor(t, "ana", "chatSummary:g:3/3")
	want := []string{"newMessage:g:1", "chatSummary:g:1/1", "newMessage:g:2", "chatSummary:g:2/2", "newMessage:g:3", "chatSummary:g:3/3"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// TestHungReadDoesNotStopStallDetector: while a read hangs, the shard
// still notices its stalled listeners and replaces them; the read times
// out and is retried.
func TestHungReadDoesNotStopStallDetector(t *testing.T) {
	st, k := newStore(), newSink()
	n := MustNode(t, st, k, fast())
	mustTrack(t, n, "ana")
	st.set(func(s *store) { s.hangReads = true })
	st.join("g", "ana") // its newChat needs a read, which hangs
	waitUntil(t, "a hung read", func() bool {
		var r int
		st.set(func(s *store) { r = s.reads })
		return r > 0
	})
	before := n.Restarts()
	st.freeze()
	waitUntil(t, "a stall restart during the hung read", func() bool { return n.Restarts() > before })
	st.set(func(s *store) { s.hangReads = false })
	st.send("g", "ana")
	got := k.waitFor(t, "ana", "chatSummary:g:1/0")
	if want := []string{"newChat:g:unread=1", "newMessage:g:1", "chatSummary:g:1/0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// TestStallReconciled: memberships gained and lost while the listeners
// were stalled come out after the restart, each once.
func TestStallReconciled(t *testing.T) {
	st, k := newStore(), newSink()
	n := MustNode(t, st, k, fast())
	st.join("old", "ana")
	mustTrack(t, n, "ana")
	st.freeze()
	st.join("new", "ana")
	st.leave("old", "ana")
	k.waitFor(t, "ana", "chatDeleted:old")
	got := k.waitFor(t, "ana", "newChat:new:unread=0")
	slices.Sort(got)
	if want := []string{"chatDeleted:old", "newChat:new:unread=0"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v want %v", got, want)
	}
}

// TestShardsAndLinger: keys are sharded 29 to a shard; a released key
// lingers, then its shard stops listening for it.
func TestShardsAndLinger(t *testing.T) {
	st, k := newStore(), newSink()
	opts := fast()
	opts.Linger = 200 * time.Millisecond
	n := MustNode(t, st, k, opts)
	var releases []func()
	for i := range 30 {
		releases = append(releases, mustTrack(t, n, string(rune('a'+i))))
	}
	if got := n.Listeners(); got != 6 {
		t.Fatalf("%d listeners for 30 users, want 6 (2 shards × 3)", got)
	}
	rctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rel, err := n.WatchChat(rctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if got := n.Listeners(); got != 8 {
		t.Fatalf("%d listeners with a room, want 8 (typing and receipts)", got)
	}
	releases[29]() // the second shard's only user
	releases[29]() // twice is harmless
	if u, _ := n.Served(); u != 30 {
		t.Fatalf("served %d right after release, want 30 (lingering)", u)
	}
	mustTrack(t, n, string(rune('a'+29)))() // back within the linger, then gone again
	rel()
	waitUntil(t, "linger to end", func() bool { u, r := n.Served(); return u == 29 && r == 0 })
	waitUntil(t, "idle shards to stop", func() bool { return n.Listeners() == 3 })
}

// TestCloseStopsEverything: after Close no goroutine of the engine is left.
func TestCloseStopsEverything(t *testing.T) {
	base := runtime.NumGoroutine()
	st, k := newStore(), newSink()
	n := realtime.NewNode(st, st, k, fast())
	for _, u := range []string{"a", "b", "c"} {
		mustTrack(t, n, u)
	}
	st.set(func(s *store) { s.hangReads = true })
	st.join("g", "a") // a read hangs at Close
	n.Close()
	waitUntil(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= base })
	if _, err := n.Track(context.Background(), "d"); err == nil {
		t.Fatal("Track after Close succeeded")
	}
}

// TestServedWhileShardRestarts: a user joining a shard starts a new
// generation of its listeners; until that one has its first batches the
// running one keeps delivering to the users already there, and once it
// takes over nothing is told twice. Memberships wait for the new one.
func TestServedWhileShardRestarts(t *testing.T) {
	st, k := newStore(), newSink()
	opts := fast()
	opts.FirstSnapshotTimeout = time.Hour // only the test releases the new generation
	n := MustNode(t, st, k, opts)
	st.join("g", "ana")
	mustTrack(t, n, "ana")
	st.set(func(s *store) { s.holdFirst = true })
	bob := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := n.Track(ctx, "bob")
		bob <- err
	}()
	waitUntil(t, "a new generation to start", func() bool { return n.Listeners() > 3 })
	st.send("g", "ana")
	k.waitFor(t, "ana", "newMessage:g:1") // from the running generation
	st.join("h", "ana")                   // waits for the new generation
	st.send("g", "ana")
	k.waitFor(t, "ana", "newMessage:g:2")
	st.set(func(s *store) {
		s.holdFirst = false
		for l := range s.listeners {
			if l.held {
				l.held = false
				l.emit(realtime.Batch{Heartbeat: true, Changes: s.matching(l.q)})
			}
		}
	})
	if err := <-bob; err != nil {
		t.Fatalf("track bob: %v", err)
	}
	got := k.waitFor(t, "ana", "newChat:h:unread=0")
	want := []string{"chatSummary:g:1/0", "chatSummary:g:2/0", "newChat:h:unread=0", "newMessage:g:1", "newMessage:g:2"}
	slices.Sort(got)
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ana got %v, want each once: %v", got, want)
	}
	waitUntil(t, "the old generation to stop", func() bool { return n.Listeners() == 3 })
}
