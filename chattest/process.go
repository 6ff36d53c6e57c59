package chattest

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a server binary started by a test, with its log lines.
type Process struct {
	Cmd *exec.Cmd
	// Logs has every stdout line, decoded; a line that is not JSON comes
	// as {"message": "NOT JSON: …"}. It is closed when the process exits.
	Logs chan map[string]any

	waitOnce sync.Once
	waitErr  error

	mu   sync.Mutex // guards tail
	tail []string   // the last tailLines stdout lines, printed if the test fails
}

// tailLines is how many of a process's last log lines a failed test
// prints: enough to see what the server did around the failure.
const tailLines = 300

// StartProcess starts bin with exactly env as its environment; it is
// killed with the test if still running.
func StartProcess(tb testing.TB, bin string, env []string) *Process {
	tb.Helper()
	cmd := exec.Command(bin)
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &Process{Cmd: cmd, Logs: make(chan map[string]any, 1000)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.keep(sc.Text())
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]any{"message": "NOT JSON: " + sc.Text()}
			}
			p.Logs <- m
		}
		close(p.Logs)
	}()
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = p.Wait()
		if tb.Failed() {
			p.mu.Lock()
			defer p.mu.Unlock()
			tb.Logf("%s (pid %d), last %d log lines:", bin, cmd.Process.Pid, len(p.tail))
			for _, l := range p.tail {
				tb.Log(l)
			}
		}
	})
	return p
}

func (p *Process) keep(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.tail) == tailLines {
		p.tail = p.tail[1:]
	}
	p.tail = append(p.tail, line)
}

// Wait waits for the process to exit (once; later calls return the same).
func (p *Process) Wait() error {
	p.waitOnce.Do(func() { p.waitErr = p.Cmd.Wait() })
	return p.waitErr
}

// Until returns the first log line whose message is msg.
func (p *Process) Until(tb testing.TB, msg string) map[string]any {
	tb.Helper()
	timeout := time.After(WaitTimeout)
	for {
		select {
		case m, ok := <-p.Logs:
			if !ok {
				tb.Fatalf("process exited before logging %q", msg)
			}
			if m["message"] == msg {
				return m
			}
		case <-timeout:
			tb.Fatalf("no %q log line", msg)
		}
	}
}

// StopWithin sends SIGTERM and fails the test unless the process exits
// cleanly within d; it returns how long the exit took.
func (p *Process) StopWithin(tb testing.TB, d time.Duration) time.Duration {
	tb.Helper()
	start := time.Now()
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- p.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Fatalf("exit: %v", err)
		}
	case <-time.After(d):
		tb.Fatalf("still running %v after SIGTERM", d)
	}
	return time.Since(start)
}
