package firestore_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/firestore"
)

// BenchmarkExportMemory: the heap while one user's export of 2,000 and
// of 20,000 messages streams (the emit discards, as a slow client's socket would
// hold them back a buffer at a time): it stays flat, a page of 500 at a
// time, whatever the export's size. Run it with
//
//	dev/with-emulators.sh go test -run '^$' -bench ExportMemory -benchtime 1x ./firestore
func BenchmarkExportMemory(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		b.Run(fmt.Sprint(n, "messages"), func(b *testing.B) { exportMemory(b, n) })
	}
}

func exportMemory(b *testing.B, n int) {
	m := mustMetered(b)
	ctx := context.Background()
	anaID, bobID := fmt.Sprint("exp-ana-", n), fmt.Sprint("exp-bob-", n)
	ana := chat.NewContextWithIdentity(ctx, chat.Identity{UID: anaID, Name: "ana", Expires: time.Now().Add(time.Hour)})
	bob := chat.NewContextWithIdentity(ctx, chat.Identity{UID: bobID, Name: "bob", Expires: time.Now().Add(time.Hour)})
	for _, c := range []context.Context{ana, bob} {
		if _, err := m.users.Me(c); err != nil {
			b.Fatal(err)
		}
	}
	ch, _, err := m.chats.CreateChat(ana, chat.ChatCreate{UserIDs: []string{bobID}})
	if err != nil {
		b.Fatal(err)
	}
	if err := firestore.SeedMessages(ctx, m.db, ch.ID, anaID, n); err != nil {
		b.Fatal(err)
	}
	exports := firestore.NewExportService(m.db, m.users)
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var peak atomic.Uint64
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	rssBefore := resetPeakRSS(b)
	b.ResetTimer()
	var lines int
	for range b.N {
		lines = 0
		if err := exports.Export(ana, func(chat.ExportItem) error { lines++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(done)
	if lines != 1+1+n {
		b.Fatalf("%d lines, want %d", lines, 2+n)
	}
	b.ReportMetric(float64(before.HeapInuse)/(1<<20), "heap-MiB-before")
	b.ReportMetric(float64(peak.Load())/(1<<20), "heap-MiB-peak")
	b.ReportMetric(float64(rssBefore)/(1<<20), "rss-MiB-before")
	b.ReportMetric(float64(peakRSS(b))/(1<<20), "rss-MiB-peak")
}

// resetPeakRSS resets the process's peak resident set (Linux: VmHWM, by
// writing 5 to /proc/self/clear_refs) and returns the resident set now.
func resetPeakRSS(b *testing.B) uint64 {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Fatalf("reset peak RSS: %v", err)
	}
	return procStatus(b, "VmRSS:")
}

// peakRSS is the process's peak resident set since resetPeakRSS.
func peakRSS(b *testing.B) uint64 { return procStatus(b, "VmHWM:") }

// procStatus reads a kB field of /proc/self/status, in bytes.
func procStatus(b *testing.B, field string) uint64 {
	raw, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb << 10
		}
	}
	b.Fatalf("no %s in /proc/self/status", field)
	return 0
}
