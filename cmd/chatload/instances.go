package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// instance is one server the tool drives: started by it (a child process
// whose /proc it can read) or given by -targets.
type instance struct {
	name       string
	url        string // public base URL
	metricsURL string // http://host:port of METRICS_ADDR ("" if unknown)
	cmd        *exec.Cmd
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// startInstance runs the server binary on free ports with metrics on, in
// the emulator environment the tool runs in, and waits until it is ready.
func startInstance(ctx context.Context, bin, name string, extraEnv []string, logTo io.Writer) (*instance, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	mport, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin)
	cmd.Env = append(append(os.Environ(), "PORT="+strconv.Itoa(port), fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", mport), "LOG_LEVEL=warn"), extraEnv...)
	cmd.Stdout, cmd.Stderr = logTo, logTo
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	in := &instance{name: name, url: fmt.Sprintf("http://127.0.0.1:%d", port), metricsURL: fmt.Sprintf("http://127.0.0.1:%d", mport), cmd: cmd}
	deadline := time.Now().Add(60 * time.Second)
	for {
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		req, _ := http.NewRequestWithContext(rctx, "GET", in.url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return in, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			in.stop()
			return nil, fmt.Errorf("instance %s not ready after 60 s", name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM and waits (the server exits within 8 s).
func (in *instance) stop() {
	if in.cmd == nil || in.cmd.Process == nil {
		return
	}
	_ = in.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = in.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = in.cmd.Process.Kill()
		<-done
	}
}

// memory reads the child's resident set now and its peak (VmRSS, VmHWM)
// from /proc; for a target it falls back to the process collector's RSS.
func (in *instance) memory(ctx context.Context) (rss, peak float64, err error) {
	if in.cmd != nil && in.cmd.Process != nil {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", in.cmd.Process.Pid))
		if err != nil {
			return 0, 0, err
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "VmRSS:":
				rss = kb * 1024
			case "VmHWM:":
				peak = kb * 1024
			}
		}
		return rss, peak, nil
	}
	m, err := in.scrape(ctx)
	if err != nil {
		return 0, 0, err
	}
	return m["process_resident_memory_bytes"], m["process_resident_memory_bytes"], nil
}

// sample is one scrape of an instance's metrics, labels summed away:
// name → value (counters and gauges).
type sample map[string]float64

// scrape reads the instance's Prometheus text with the Prometheus
// project's own parser.
func (in *instance) scrape(ctx context.Context) (sample, error) {
	if in.metricsURL == "" {
		return nil, errors.New("no metrics address for " + in.name)
	}
	rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, "GET", in.metricsURL+"/metrics", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, err
	}
	out := sample{}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			v := 0.0
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			case m.Untyped != nil:
				v = m.Untyped.GetValue()
			case m.Histogram != nil: // by its one label: calls{rpc=Commit}
				lp := m.GetLabel()
				if len(lp) != 1 {
					continue
				}
				l := lp[0].GetName() + "=" + lp[0].GetValue()
				out[name+"_count{"+l+"}"] += float64(m.Histogram.GetSampleCount())
				for _, b := range m.Histogram.GetBucket() {
					out[fmt.Sprintf("%s_bucket{%s,le=%g}", name, l, b.GetUpperBound())] += float64(b.GetCumulativeCount())
				}
				continue
			}
			out[name] += v
			if lp := m.GetLabel(); len(lp) == 1 { // by label too: reads{rpc=Listen}
				out[name+"{"+lp[0].GetName()+"="+lp[0].GetValue()+"}"] += v
			}
		}
	}
	return out, nil
}

// gc runs a GC in the instance (pprof's heap?gc=1 does one first) and
// returns its metrics after it: the heap in use without garbage. The heap
// profile is kept in file unless that is "".
func (in *instance) gc(ctx context.Context, file string) (sample, error) {
	var err error
	if file == "" {
		err = in.fetch(ctx, "/debug/pprof/heap?gc=1", io.Discard)
	} else {
		err = in.save(ctx, "/debug/pprof/heap?gc=1", file)
	}
	if err != nil {
		return nil, err
	}
	return in.scrape(ctx)
}

// save writes what the metrics address serves at path (a pprof profile)
// to file.
func (in *instance) save(ctx context.Context, path, file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := in.fetch(ctx, path, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fetch copies what the metrics address serves at path to dst.
func (in *instance) fetch(ctx context.Context, path string, dst io.Writer) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(rctx, "GET", in.metricsURL+path, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.Copy(dst, resp.Body)
	return err
}
