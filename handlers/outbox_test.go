package handlers_test

import (
	"testing"
	"time"

	"github.com/chatapp/chat/handlers"
)

// TestOutbox: the contract's bounds of a socket's pending output, as the
// watchdog judges them: more than 8 MiB created and not yet written, or
// output that has not moved for 30 s.
func TestOutbox(t *testing.T) {
	t.Parallel()
	const mib = 1 << 20
	for _, tc := range []struct {
		name     string
		run      func(b handlers.Outbox)
		at       time.Duration // after now
		writable bool
		want     string
	}{
		{name: "Empty", run: func(handlers.Outbox) {}, at: time.Hour, want: ""},
		{name: "AtTheBound", run: func(b handlers.Outbox) { b.Created(8 * mib) }, want: ""},
		{name: "ErrOverTheBound", run: func(b handlers.Outbox) { b.Created(8*mib + 1) }, want: "pending output over 8 MiB"},
		{
			// A batch handed to a transport still writing it counts.
			name: "ErrInFlightCounts",
			run:  func(b handlers.Outbox) { b.Created(6 * mib); b.Flushed(6 * mib); b.Created(3 * mib) },
			want: "pending output over 8 MiB",
		},
		{
			name:     "WrittenBatchDoesNotCount",
			run:      func(b handlers.Outbox) { b.Created(6 * mib); b.Flushed(6 * mib); b.Created(3 * mib) },
			writable: true, want: "",
		},
		{name: "PendingBeforeTheDrainTimeout", run: func(b handlers.Outbox) { b.Created(1) }, at: 29 * time.Second, want: ""},
		{name: "ErrNotDrained", run: func(b handlers.Outbox) { b.Created(1) }, at: 31 * time.Second, want: "pending output not drained for 30 s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The outbox reads the clock itself, between start and end:
			// "not yet" is judged from start, "overdue" from end.
			start := time.Now()
			b := handlers.NewOutbox()
			tc.run(b)
			at := time.Now().Add(tc.at)
			if tc.want == "" {
				at = start.Add(tc.at)
			}
			if got := b.Overdue(at, tc.writable); got != tc.want {
				t.Fatalf("overdue %q, want %q", got, tc.want)
			}
		})
	}
}
