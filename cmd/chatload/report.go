package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"
)

// instSnap is one instance's metrics and memory at a moment.
type instSnap struct {
	m         sample
	rss, peak float64
	err       error
}

func snapshot(ctx context.Context, insts []*instance) []instSnap {
	out := make([]instSnap, len(insts))
	for i, in := range insts {
		m, err := in.scrape(ctx)
		rss, peak, merr := in.memory(ctx)
		if err == nil {
			err = merr
		}
		out[i] = instSnap{m: m, rss: rss, peak: peak, err: err}
	}
	return out
}

// gcAll runs a GC in every instance and snapshots them after it.
func gcAll(ctx context.Context, insts []*instance) []instSnap {
	out := snapshot(ctx, insts)
	for i, in := range insts {
		if m, err := in.gc(ctx); err == nil {
			out[i].m = m
		} else {
			out[i].err = err
		}
	}
	return out
}

// report is what a run measured.
type report struct {
	cfg   config
	insts []*instance

	idle, connected, sent, beforeClose, closed []instSnap
	beforeChurn, churned, afterChurn           []instSnap

	sockets           int
	connectTime       time.Duration
	offered, missed   int
	sendTime          time.Duration
	outcome           outcome
	cross, all, probe []time.Duration
	statuses          map[int]int
	errs              []string
	deliveriesPerSec  float64
	churnFailed       int
	churnTime         time.Duration
}

// pct is the p-th percentile (0–100) of ds, nearest rank.
func pct(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

// sum adds a metric over instances of a list of snapshots.
func sum(snaps []instSnap, name string) float64 {
	t := 0.0
	for _, s := range snaps {
		t += s.m[name]
	}
	return t
}

const (
	reads  = "chatapp_firestore_reads_total"
	writes = "chatapp_firestore_writes_total"
)

func (r *report) print(w io.Writer) {
	c := r.cfg
	fmt.Fprintf(w, "\n== chatload: %d instances, %d users × %d devices = %d sockets, %d groups of %d + %d directs, %.0f msg/s for %s\n",
		len(r.insts), c.users, c.devices, r.sockets, c.groups, c.groupSize, c.directs, c.rate, c.duration)

	o := r.outcome
	var codes []string
	for _, k := range sortedKeys(r.statuses) {
		name := fmt.Sprint(k)
		if k == 0 {
			name = "no answer"
		}
		codes = append(codes, fmt.Sprintf("%s×%d", name, r.statuses[k]))
	}
	fmt.Fprintf(w, "messages: offered %d (%d skipped: 512 in flight), acknowledged %d; statuses %s\n",
		r.offered, r.missed, o.acked, strings.Join(codes, " "))
	for _, e := range r.errs {
		fmt.Fprintf(w, "  error: %s\n", e)
	}
	fmt.Fprintf(w, "deliveries: owed %d, delivered %d, lost %d, duplicated %d (%.0f deliveries/s over the send time)\n",
		o.expected, o.delivered, o.lost, o.duplicated, r.deliveriesPerSec)

	p99, e99 := pct(r.cross, 99), pct(r.probe, 99)
	fmt.Fprintf(w, "latency, REST send start → newMessage on another instance (%d): p50 %s  p95 %s  p99 %s  max %s\n",
		len(r.cross), ms(pct(r.cross, 50)), ms(pct(r.cross, 95)), ms(p99), ms(pct(r.cross, 100)))
	fmt.Fprintf(w, "latency, every delivery (%d):                               p50 %s  p95 %s  p99 %s\n",
		len(r.all), ms(pct(r.all, 50)), ms(pct(r.all, 95)), ms(pct(r.all, 99)))
	fmt.Fprintf(w, "emulator write → listener, same run (%d):                   p50 %s  p95 %s  p99 %s\n",
		len(r.probe), ms(pct(r.probe, 50)), ms(pct(r.probe, 95)), ms(e99))
	if e99 > 0 {
		target := time.Duration(1.5*float64(e99)) + 20*time.Millisecond
		verdict := "met"
		if p99 > target {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "P1: p99 ratio send/emulator %.2f; target p99 ≤ 1.5 × %s + 20 ms = %s: %s\n",
			float64(p99)/float64(e99), ms(e99), ms(target), verdict)
	}

	fmt.Fprintln(w, "per instance:")
	for i, in := range r.insts {
		socks := r.connected[i].m["chatapp_sockets"]
		growth := r.connected[i].rss - r.idle[i].rss
		per := 0.0
		if socks > 0 {
			per = growth / socks
		}
		cpu := r.closed[i].m["process_cpu_seconds_total"] - r.idle[i].m["process_cpu_seconds_total"]
		fmt.Fprintf(w, "  %s: sockets %.0f, listeners %.0f, goroutines %.0f (idle %.0f); RSS idle %.1f MB, connected %.1f MB, peak %.1f MB; %.1f KB per socket; CPU %.1f s\n",
			in.name, socks, r.connected[i].m["chatapp_listeners"], r.sent[i].m["go_goroutines"], r.idle[i].m["go_goroutines"],
			r.idle[i].rss/1e6, r.connected[i].rss/1e6, r.sent[i].peak/1e6, per/1024, cpu)
		if err := r.sent[i].err; err != nil {
			fmt.Fprintf(w, "    metrics error: %v\n", err)
		}
	}

	conn := float64(r.sockets)
	cr, cw := sum(r.connected, reads)-sum(r.idle, reads), sum(r.connected, writes)-sum(r.idle, writes)
	sr, sw := sum(r.sent, reads)-sum(r.connected, reads), sum(r.sent, writes)-sum(r.connected, writes)
	dr, dw := sum(r.closed, reads)-sum(r.beforeClose, reads), sum(r.closed, writes)-sum(r.beforeClose, writes)
	users := float64(c.users)
	fmt.Fprintln(w, "Firestore operations (all instances, billed, heartbeats included):")
	fmt.Fprintf(w, "  connect:    %.0f reads, %.0f writes for %d sockets of %d users: %.2f reads, %.2f writes per socket\n",
		cr, cw, r.sockets, c.users, cr/conn, cw/conn)
	if d := float64(r.outcome.delivered); d > 0 {
		fmt.Fprintf(w, "  sending:    %.0f reads, %.0f writes for %d messages, %d deliveries: %.3f reads per delivery, %.2f writes per message\n",
			sr, sw, r.outcome.acked, r.outcome.delivered, sr/d, sw/float64(max(r.outcome.acked, 1)))
		recipients := r.recipientUsers()
		fmt.Fprintf(w, "              %.3f reads per delivered event per recipient user (%d user-deliveries)\n", sr/float64(max(recipients, 1)), recipients)
	}
	fmt.Fprintf(w, "  disconnect: %.0f reads, %.0f writes for %d sockets of %d users: %.2f reads, %.2f writes per user\n",
		dr, dw, r.sockets, c.users, dr/users, dw/users)
	if r.churned != nil {
		n := float64(c.churn)
		chr, chw := sum(r.churned, reads)-sum(r.beforeChurn, reads), sum(r.churned, writes)-sum(r.beforeChurn, writes)
		fmt.Fprintf(w, "churn: %d cycles in %s (%.1f/s), %d failed; %.2f reads, %.2f writes per connect+disconnect\n",
			c.churn, r.churnTime.Round(time.Second), n/r.churnTime.Seconds(), r.churnFailed, chr/n, chw/n)
		for i, in := range r.insts {
			b, a := r.beforeChurn[i].m, r.afterChurn[i].m
			dh := (a["go_memstats_heap_inuse_bytes"] - b["go_memstats_heap_inuse_bytes"]) / max(b["go_memstats_heap_inuse_bytes"], 1) * 100
			fmt.Fprintf(w, "  %s after churn and %s: goroutines %.0f → %.0f; HeapInuse after GC %.1f MB → %.1f MB (%+.1f %%)\n",
				in.name, c.settle, b["go_goroutines"], a["go_goroutines"], b["go_memstats_heap_inuse_bytes"]/1e6, a["go_memstats_heap_inuse_bytes"]/1e6, dh)
		}
	}
}

// recipientUsers counts (acknowledged message, member) pairs: the user-level
// deliveries, whatever each user's number of sockets.
func (r *report) recipientUsers() int {
	if r.sockets == 0 || r.cfg.devices == 0 {
		return 0
	}
	return r.outcome.expected / r.cfg.devices
}

func sortedKeys(m map[int]int) []int {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}
