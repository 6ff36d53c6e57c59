// Command chatload is the load tool: it starts (or targets) server
// instances, signs users up in the Auth emulator, connects their sockets
// over the instances, creates chats and sends at a given rate for a given
// time, then prints latency (next to the emulator's own write→listener
// latency measured in the same run), the exactly-once check, memory, CPU
// and Firestore operations per connect, per delivered event and per
// disconnect, read from each instance's metrics. Every loop is bounded in
// count and time. docs/performance.md has the runs and their figures.
//
//	dev/with-emulators.sh go run ./cmd/chatload -instances 2 -users 100 -groups 10 -rate 50 -duration 30s
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

type config struct {
	server             string
	instances          int
	targets, metrics   string
	users, devices     int
	groups, groupSize  int
	directs            int
	rate               float64
	reactors           int
	reactRate          float64
	duration           time.Duration
	churn              int
	churnRate          float64
	churnUsers         int
	connectConcurrency int
	settle             time.Duration
	serverLog          string
	rollover           string
	profiles           string
}

func main() {
	var c config
	flag.StringVar(&c.server, "server", "bin/server", "server binary to start (make build makes it)")
	flag.IntVar(&c.instances, "instances", 2, "server instances to start")
	flag.StringVar(&c.targets, "targets", "", "comma list of running instances' base URLs, instead of starting any")
	flag.StringVar(&c.metrics, "metrics", "", "with -targets: comma list of their METRICS_ADDR base URLs")
	flag.IntVar(&c.users, "users", 100, "users to sign up")
	flag.IntVar(&c.devices, "devices", 1, "sockets per user, spread over the instances")
	flag.IntVar(&c.groups, "groups", 10, "group chats")
	flag.IntVar(&c.groupSize, "group-size", 10, "members per group")
	flag.IntVar(&c.directs, "directs", 0, "direct chats")
	flag.Float64Var(&c.rate, "rate", 50, "messages per second, over all chats")
	flag.IntVar(&c.reactors, "reactors", 0, "members of the first chat who toggle a reaction on its newest message while it sends")
	flag.Float64Var(&c.reactRate, "react-rate", 5, "reactions per second per reactor")
	flag.DurationVar(&c.duration, "duration", 20*time.Second, "how long to send")
	flag.IntVar(&c.churn, "churn", 0, "connect/disconnect cycles after sending (instance 1)")
	flag.Float64Var(&c.churnRate, "churn-rate", 10, "churn cycles per second")
	flag.IntVar(&c.churnUsers, "churn-users", 100, "extra users the churn cycles through")
	flag.IntVar(&c.connectConcurrency, "connect-concurrency", 32, "socket handshakes at once")
	flag.DurationVar(&c.settle, "settle", 20*time.Second, "wait after churn and after disconnect: presence grace, linger, writes")
	flag.StringVar(&c.serverLog, "server-log", "", "file for the started servers' logs (default: discarded)")
	flag.StringVar(&c.rollover, "rollover", "", "LISTENER_ROLLOVER of the started servers (\"\" for their default, 5m): the emulator re-sends a listener's whole result set on every change")
	flag.StringVar(&c.profiles, "profiles", "", "directory for profiles: goroutines and heap once connected, heap before and after the churn (go tool pprof -diff_base)")
	flag.Parse()
	if err := validate(c); err != nil {
		fmt.Fprintln(os.Stderr, "chatload:", err)
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The whole run is bounded: setup, the send time, drains and settles.
	ctx, cancel := context.WithTimeout(ctx, c.duration+4*c.settle+30*time.Minute)
	defer cancel()
	if err := run(ctx, c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chatload:", err)
		os.Exit(1)
	}
}

func validate(c config) error {
	switch {
	case c.targets == "" && c.instances < 1:
		return fmt.Errorf("-instances must be at least 1")
	case c.users < 2 || c.devices < 1:
		return fmt.Errorf("-users must be at least 2 and -devices at least 1")
	case c.groups+c.directs < 1:
		return fmt.Errorf("no chats: set -groups or -directs")
	case c.groupSize < 2 || c.groupSize > 256 || c.groupSize > c.users:
		return fmt.Errorf("-group-size must be 2–256 and at most -users")
	case c.rate <= 0 || c.rate > 5000 || c.duration <= 0 || c.duration > time.Hour:
		return fmt.Errorf("-rate must be in (0, 5000] and -duration in (0, 1h]")
	case c.churn < 0 || c.churn > 1_000_000 || c.churnRate <= 0:
		return fmt.Errorf("-churn must be 0–1,000,000 and -churn-rate positive")
	case c.churn > 0 && c.churnUsers < 1:
		return fmt.Errorf("-churn needs -churn-users of at least 1")
	}
	return nil
}

func run(ctx context.Context, c config, out io.Writer) error {
	runID := fmt.Sprintf("%x", time.Now().UnixNano()%0xffffffff)
	logTo := io.Discard
	if c.serverLog != "" {
		f, err := os.Create(c.serverLog)
		if err != nil {
			return err
		}
		defer f.Close()
		logTo = f
	}
	var insts []*instance
	if c.targets != "" {
		ms := strings.Split(c.metrics, ",")
		for i, u := range strings.Split(c.targets, ",") {
			in := &instance{name: fmt.Sprintf("t%d", i), url: strings.TrimRight(u, "/")}
			if i < len(ms) && ms[i] != "" {
				in.metricsURL = strings.TrimRight(ms[i], "/")
			}
			insts = append(insts, in)
		}
	} else {
		var env []string
		if c.serverLog != "" {
			env = append(env, "LOG_LEVEL=info") // every connect and disconnect, with its reason
		}
		if c.rollover != "" {
			env = append(env, "LISTENER_ROLLOVER="+c.rollover)
		}
		for i := range c.instances {
			in, err := startInstance(ctx, c.server, fmt.Sprintf("i%d", i), env, logTo)
			if err != nil {
				return err
			}
			defer in.stop()
			insts = append(insts, in)
		}
	}
	logf := func(format string, a ...any) { fmt.Fprintf(os.Stderr, "chatload: "+format+"\n", a...) }
	logf("run %s: %d instances, %d users × %d devices, %d groups of %d, %d directs, %.0f msg/s for %s, listener rollover %q",
		runID, len(insts), c.users, c.devices, c.groups, c.groupSize, c.directs, c.rate, c.duration, c.rollover)

	users, err := signUp(ctx, insts[0].url, runID, c.users+c.churnUsers)
	if err != nil {
		return fmt.Errorf("sign up: %w", err)
	}
	// users[:c.users] connect and chat; the rest only churn.
	t := newTraffic(insts, users, runID)
	chats, err := t.makeChats(ctx, c.users, c.groups, c.groupSize, c.directs)
	if err != nil {
		return fmt.Errorf("chats: %w", err)
	}
	rep := &report{cfg: c, insts: insts}
	rep.idle = snapshot(ctx, insts)

	// Connect.
	t0 := time.Now()
	if err := t.connectAll(ctx, c.users, c.devices, c.connectConcurrency); err != nil { // the steady users
		return err
	}
	rep.connectTime = time.Since(t0)
	rep.sockets = len(t.socks)
	waitQuiet(ctx, insts, 3*time.Second)
	rep.connected = snapshot(ctx, insts)
	if c.profiles != "" {
		for _, in := range insts {
			if err := in.save(ctx, "/debug/pprof/goroutine?debug=1", filepath.Join(c.profiles, in.name+"-goroutines-connected.txt")); err != nil {
				logf("goroutine profile of %s: %v", in.name, err)
			}
			if err := in.save(ctx, "/debug/pprof/heap?gc=1", filepath.Join(c.profiles, in.name+"-heap-connected.pb.gz")); err != nil {
				logf("heap profile of %s: %v", in.name, err)
			}
		}
	}
	logf("%d sockets connected in %s", rep.sockets, rep.connectTime.Round(time.Millisecond))

	// Send, with the emulator probe at the same rate.
	p, err := newProbe(ctx, runID)
	if err != nil {
		return err
	}
	defer p.client.Close()
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	perr := make(chan error, 1)
	go func() { perr <- p.drive(pctx, c.rate, c.duration) }()
	sendStart := time.Now()
	reacted := make(chan *reactions, 1)
	go func() { reacted <- t.reactLoop(ctx, chats[0], c.reactors, c.reactRate, c.duration) }()
	rep.offered, rep.missed = t.sendLoop(ctx, chats, c.rate, c.duration, func(n int) {
		logf("t=%2.0fs sent %d, delivered %d", time.Since(sendStart).Seconds(), n, t.deliveredCount())
	})
	rep.sendTime = time.Since(sendStart)
	rep.reactions = <-reacted
	// Drain: wait until every owed delivery came, or none came for 15 s
	// (2 minutes at most): a late delivery is slow, not lost.
	owed := t.check().expected
	last, lastAt := t.deliveredCount(), time.Now()
	for end := time.Now().Add(2 * time.Minute); last < owed && time.Since(lastAt) < 15*time.Second && time.Now().Before(end); {
		time.Sleep(50 * time.Millisecond)
		if n := t.deliveredCount(); n != last {
			last, lastAt = n, time.Now()
		}
	}
	rep.sent = snapshot(ctx, insts)
	rep.cut, rep.cutUsers, rep.cutWhy = t.cut()
	rep.outcome = t.check()
	if rep.outcome.lost > 0 {
		// Late or lost? Look again after 30 s more.
		logf("%d deliveries missing; checking again in 30 s", rep.outcome.lost)
		sleepCtx(ctx, 30*time.Second)
		rep.lostAfter30s = t.check().lost
	}
	t.mu.Lock()
	rep.cross, rep.all, rep.statuses, rep.errs, rep.redials = slices.Clone(t.cross), slices.Clone(t.all), t.statuses, t.errs, t.redials
	t.mu.Unlock()
	if err := <-perr; err != nil {
		logf("%v", err)
	}
	pcancel()
	rep.probe = p.latencies()
	rep.deliveriesPerSec = float64(rep.outcome.delivered) / rep.sendTime.Seconds()

	// Churn, then the settled heap and goroutines against before it.
	if c.churn > 0 {
		var pool []int
		for i := range c.churnUsers {
			pool = append(pool, c.users+i)
		}
		rep.beforeChurn = gcAll(ctx, insts, c.profiles, "before-churn")
		ct := time.Now()
		rep.churnFailed = t.churn(ctx, pool, c.churn, c.churnRate, func(n int) { logf("churn %d/%d", n, c.churn) })
		rep.churnTime = time.Since(ct)
		rep.churned = snapshot(ctx, insts)
		logf("churn done in %s; settling %s", rep.churnTime.Round(time.Second), c.settle)
		sleepCtx(ctx, c.settle)
		rep.afterChurn = gcAll(ctx, insts, c.profiles, "after-churn")
	}

	// Disconnect, and what it costs once the presence grace is over.
	rep.beforeClose = snapshot(ctx, insts)
	t.closeAll()
	sleepCtx(ctx, c.settle)
	rep.closed = snapshot(ctx, insts)
	rep.print(out)
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// waitQuiet waits until no instance's Firestore counters moved for d
// (presence writes and first snapshots of the connect are done), 60 s at
// most.
func waitQuiet(ctx context.Context, insts []*instance, d time.Duration) {
	last := snapshot(ctx, insts)
	still := time.Now()
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end) && ctx.Err() == nil; {
		time.Sleep(500 * time.Millisecond)
		now := snapshot(ctx, insts)
		moved := false
		for i := range now {
			if now[i].m["chatapp_firestore_reads_total"] != last[i].m["chatapp_firestore_reads_total"] ||
				now[i].m["chatapp_firestore_writes_total"] != last[i].m["chatapp_firestore_writes_total"] {
				moved = true
			}
		}
		last = now
		if moved {
			still = time.Now()
		} else if time.Since(still) >= d {
			return
		}
	}
}
