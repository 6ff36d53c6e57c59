package chattest

import (
	"runtime"
	"testing"
	"time"
)

// WaitWithin polls cond until it holds, failing tb after d with every
// goroutine's stack (what was stuck is what the failure needs).
func WaitWithin(tb testing.TB, what string, d time.Duration, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			tb.Fatalf("timed out after %s waiting for %s; goroutines:\n%s", d, what, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}
