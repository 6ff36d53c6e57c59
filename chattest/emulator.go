package chattest

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"

	"github.com/chatapp/chat/firestore"
)

// Emulator is a Firestore emulator of a test's own, for tests that stop and
// restart it. It is started with setsid and stopped as a process group:
// SIGTERM to gcloud alone leaves its java child serving.
type Emulator struct {
	Host string
	tb   testing.TB
	cmd  *exec.Cmd
	log  string
	args []string
}

// StartFirestore starts a private Firestore emulator on a free loopback
// port, stopped with the test. It fails (never skips) when gcloud is missing.
// args go to `gcloud emulators firestore start` (e.g. --rules=FILE).
func StartFirestore(tb testing.TB, args ...string) *Emulator {
	tb.Helper()
	if _, err := exec.LookPath("gcloud"); err != nil {
		tb.Fatalf("gcloud is required for the Firestore emulator: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	e := &Emulator{Host: host, tb: tb, log: filepath.Join(tb.TempDir(), "firestore.log"), args: args}
	e.start()
	tb.Cleanup(e.stop)
	return e
}

func (e *Emulator) start() {
	e.tb.Helper()
	f, err := os.OpenFile(e.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		e.tb.Fatal(err)
	}
	cmd := exec.Command("gcloud", append([]string{"emulators", "firestore", "start", "--host-port=" + e.Host, "--quiet"}, e.args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		e.tb.Fatalf("start firestore emulator: %v", err)
	}
	e.cmd = cmd
	go func() { _ = cmd.Wait(); f.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + e.Host + "/")
		if err == nil {
			resp.Body.Close()
			return
		}
		if time.Now().After(deadline) {
			raw, _ := os.ReadFile(e.log)
			e.tb.Fatalf("firestore emulator not ready: %v\n%s", err, raw)
		}
		time.Sleep(100 * time.Millisecond) // polling for readiness, not standing in for it
	}
}

func (e *Emulator) stop() {
	if e.cmd == nil || e.cmd.Process == nil {
		return
	}
	pgid := e.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The port must be free before a restart binds it again.
	for time.Now().Before(deadline) {
		c, err := net.Dial("tcp", e.Host)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(50 * time.Millisecond)
	}
	e.cmd = nil
}

// Freeze stops the emulator's processes (SIGSTOP) without closing their
// connections: every call hangs, as a Firestore that stopped answering
// would. Thaw resumes them; the test's cleanup thaws too.
func (e *Emulator) Freeze() {
	e.tb.Helper()
	if err := syscall.Kill(-e.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		e.tb.Fatalf("freeze emulator: %v", err)
	}
	e.tb.Cleanup(e.Thaw)
}

// Thaw resumes a frozen emulator.
func (e *Emulator) Thaw() {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = syscall.Kill(-e.cmd.Process.Pid, syscall.SIGCONT)
	}
}

// Restart stops the emulator and starts it again on the same port. The
// emulator keeps data in memory only: it comes back empty.
func (e *Emulator) Restart() {
	e.tb.Helper()
	e.stop()
	e.start()
}

// String names the emulator.
func (e *Emulator) String() string { return fmt.Sprintf("firestore emulator at %s", e.Host) }

// DialFirestore opens a gRPC connection to the Firestore emulator at host
// as the client library would (firestore.DialEmulator), closed with the
// test: for a client on an emulator other than the shared one, or with
// interceptors (opts).
func DialFirestore(tb testing.TB, host string, opts ...grpc.DialOption) *grpc.ClientConn {
	tb.Helper()
	conn, err := firestore.DialEmulator(host, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = conn.Close() })
	return conn
}
