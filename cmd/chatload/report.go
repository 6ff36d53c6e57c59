package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
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

// gcAll runs a GC in every instance and snapshots them after it; with a
// profile directory, each instance's heap profile is saved there as
// <instance>-<label>.pb.gz (compare with go tool pprof -diff_base).
func gcAll(ctx context.Context, insts []*instance, dir, label string) []instSnap {
	out := snapshot(ctx, insts)
	for i, in := range insts {
		profile := ""
		if dir != "" {
			profile = filepath.Join(dir, in.name+"-"+label+".pb.gz")
		}
		if m, err := in.gc(ctx, profile); err == nil {
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
	redials           int
	cut, cutUsers     int
	cutWhy            map[string]int
	lostAfter30s      int
	statuses          map[int]int
	errs              []string
	deliveriesPerSec  float64
	churnFailed       int
	churnTime         time.Duration
	reactions         *reactions
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
	if re := r.reactions; re != nil && len(re.statuses) > 0 {
		var rs []string
		total := 0
		for _, k := range sortedKeys(re.statuses) {
			rs = append(rs, fmt.Sprintf("%d×%d", k, re.statuses[k]))
			total += re.statuses[k]
		}
		fmt.Fprintf(w, "reactions: %d by %d members (%.1f/s) into the first chat; statuses %s\n",
			total, c.reactors, float64(total)/r.sendTime.Seconds(), strings.Join(rs, " "))
	}
	fmt.Fprintf(w, "deliveries: owed %d, delivered %d, lost %d, duplicated %d (%.0f deliveries/s over the send time)\n",
		o.expected, o.delivered, o.lost, o.duplicated, r.deliveriesPerSec)
	if o.lost > 0 {
		fmt.Fprintf(w, "  LOST: %d missing at the end of the drain, %d still missing 30 s later\n", o.lost, r.lostAfter30s)
	}
	if r.cut > 0 {
		fmt.Fprintf(w, "  CUT: %d sockets of %d users closed by the server during the run, not counted above: %v\n", r.cut, r.cutUsers, r.cutWhy)
	}

	fmt.Fprintf(w, "sockets: %d connected in %s, %d handshakes retried\n", r.sockets, r.connectTime.Round(time.Millisecond), r.redials)
	lat, where := r.cross, "on another instance"
	if len(r.insts) == 1 {
		lat, where = r.all, "(one instance)"
	}
	p99, e99 := pct(lat, 99), pct(r.probe, 99)
	fmt.Fprintf(w, "latency, REST send start → newMessage %s (%d): p50 %s  p95 %s  p99 %s  max %s\n",
		where, len(lat), ms(pct(lat, 50)), ms(pct(lat, 95)), ms(p99), ms(pct(lat, 100)))
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

	fmt.Fprintln(w, "Firestore operations, all instances (heartbeats included); \"resent\" = listener documents the emulator")
	fmt.Fprintln(w, "re-sent unchanged after resetting a target, which production Firestore does not do (see docs/performance.md):")
	r.phase(w, "connect", r.idle, r.connected, float64(r.sockets), "socket")
	if r.outcome.delivered > 0 {
		recipients := float64(max(r.outcome.recipients, 1))
		ops := r.phase(w, "sending", r.connected, r.sent, float64(r.outcome.acked), "message")
		fmt.Fprintf(w, "    P5: %.3f reads per delivered event per recipient user (%.0f user-deliveries); %.3f with the emulator's re-sends\n",
			(ops.reads-ops.resent)/recipients, recipients, ops.reads/recipients)
		r.calls(w, "Commit", r.connected, r.sent, float64(r.outcome.acked))
	}
	r.phase(w, "disconnect", r.beforeClose, r.closed, float64(c.users), "user")
	if r.churned != nil {
		n := float64(c.churn)
		fmt.Fprintf(w, "churn: %d connect/disconnect cycles of %d users in %s (%.1f/s), %d failed\n",
			c.churn, c.churnUsers, r.churnTime.Round(time.Second), n/r.churnTime.Seconds(), r.churnFailed)
		r.phase(w, "churn", r.beforeChurn, r.churned, n, "connect")
		for i, in := range r.insts {
			b, a := r.beforeChurn[i].m, r.afterChurn[i].m
			pct := func(k string) float64 { return (a[k] - b[k]) / max(b[k], 1) * 100 }
			// HeapInuse counts whole spans, free slots included; HeapAlloc
			// right after a GC is the live heap: a leak shows in both,
			// fragmentation only in the first.
			fmt.Fprintf(w, "  %s after churn and %s: goroutines %.0f → %.0f; after GC: HeapInuse %.1f MB → %.1f MB (%+.1f %%), live heap (HeapAlloc) %.1f MB → %.1f MB (%+.1f %%)\n",
				in.name, c.settle, b["go_goroutines"], a["go_goroutines"],
				b["go_memstats_heap_inuse_bytes"]/1e6, a["go_memstats_heap_inuse_bytes"]/1e6, pct("go_memstats_heap_inuse_bytes"),
				b["go_memstats_heap_alloc_bytes"]/1e6, a["go_memstats_heap_alloc_bytes"]/1e6, pct("go_memstats_heap_alloc_bytes"))
		}
	}
}

func sortedKeys(m map[int]int) []int {
	var ks []int
	for k := range m {
		ks = append(ks, k)
	}
	sort.Ints(ks)
	return ks
}

// phaseOps is what a phase cost.
type phaseOps struct{ reads, resent, writes float64 }

// phase prints a phase's reads (by RPC) and writes, in all and per unit.
func (r *report) phase(w io.Writer, name string, before, after []instSnap, n float64, unit string) phaseOps {
	d := func(k string) float64 { return sum(after, k) - sum(before, k) }
	ops := phaseOps{reads: d(reads), resent: d(reads + "{rpc=ListenResend}"), writes: d(writes)}
	var by []string
	for _, rpc := range []string{"Listen", "RunQuery", "BatchGetDocuments", "ListenResend"} {
		if v := d(reads + "{rpc=" + rpc + "}"); v > 0 {
			by = append(by, fmt.Sprintf("%s %.0f", rpc, v))
		}
	}
	n = max(n, 1)
	fmt.Fprintf(w, "  %-10s %.0f reads (%s), %.0f writes; per %s: %.2f reads without re-sends, %.2f writes\n",
		name+":", ops.reads, strings.Join(by, ", "), ops.writes, unit, (ops.reads-ops.resent)/n, ops.writes/n)
	return ops
}

// calls prints how many rpc calls a phase made per unit (a commit per
// message tells the batches' size) and their duration's p50 and p99, as
// the upper bound of the histogram bucket they fall in.
func (r *report) calls(w io.Writer, rpc string, before, after []instSnap, n float64) {
	const hist = "chatapp_firestore_call_seconds"
	d := func(k string) float64 { return sum(after, k) - sum(before, k) }
	total := d(hist + "_count{rpc=" + rpc + "}")
	if total == 0 {
		return
	}
	prefix := hist + "_bucket{rpc=" + rpc + ",le="
	var les []float64
	for k := range after[0].m {
		if le, ok := strings.CutPrefix(k, prefix); ok {
			if v, err := strconv.ParseFloat(strings.TrimSuffix(le, "}"), 64); err == nil {
				les = append(les, v)
			}
		}
	}
	sort.Float64s(les)
	at := func(q float64) string {
		for _, le := range les {
			if d(fmt.Sprintf("%s%g}", prefix, le)) >= q*total {
				return fmt.Sprintf("≤ %.0f ms", le*1000)
			}
		}
		return "> the last bucket"
	}
	fmt.Fprintf(w, "    %s calls: %.0f, %.3f per message (a batch holds %.1f on average); duration p50 %s, p99 %s\n",
		rpc, total, total/max(n, 1), max(n, 1)/total, at(0.5), at(0.99))
}
