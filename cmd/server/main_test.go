package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// build compiles the server once per test binary.
func build(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// logLines reads the process's JSON log lines.
type logLines struct{ ch chan map[string]any }

func start(t *testing.T, bin string, env ...string) (*exec.Cmd, *logLines) {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &logLines{ch: make(chan map[string]any, 1000)}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var m map[string]any
			if json.Unmarshal(sc.Bytes(), &m) != nil {
				m = map[string]any{"message": "NOT JSON: " + sc.Text()}
			}
			l.ch <- m
		}
		close(l.ch)
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	return cmd, l
}

// until returns the first log line whose message is msg.
func (l *logLines) until(t *testing.T, msg string) map[string]any {
	t.Helper()
	timeout := time.After(chattest.WaitTimeout)
	for {
		select {
		case m, ok := <-l.ch:
			if !ok {
				t.Fatalf("process exited before logging %q", msg)
			}
			if m["message"] == msg {
				return m
			}
		case <-timeout:
			t.Fatalf("no %q log line", msg)
		}
	}
}

func TestServerProcess(t *testing.T) {
	chattest.MustEnv(t)
	bin := build(t)
	t.Run("ServesAndStopsOnSIGTERM", func(t *testing.T) {
		port := freePort(t)
		cmd, logs := start(t, bin, fmt.Sprint("PORT=", port))
		logs.until(t, "listening")
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		for _, p := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get(base + p)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("%s: %v %v", p, resp, err)
			}
			resp.Body.Close()
		}
		u := chattest.NewUser(t, "proc")
		s := chattest.MustDial(t, base, u.Token)
		req, _ := http.NewRequest("GET", base+"/api/me", nil)
		req.Header.Set("Authorization", "Bearer "+u.Token)
		req.Header.Set("X-Cloud-Trace-Context", "abc123/1;o=1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		line := logs.until(t, "request")
		for line["path"] != "/api/me" {
			line = logs.until(t, "request")
		}
		if line["severity"] != "INFO" || line["logging.googleapis.com/trace"] != "projects/"+os.Getenv("GOOGLE_CLOUD_PROJECT")+"/traces/abc123" || line["user"] != u.UID {
			t.Fatalf("access line %v", line)
		}
		start := time.Now()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		s.WaitClosed(t)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("still running 8 s after SIGTERM")
		}
		t.Logf("stopped %s after SIGTERM", time.Since(start))
		for m := range logs.ch {
			if s, _ := m["message"].(string); strings.HasPrefix(s, "NOT JSON") || strings.Contains(fmt.Sprint(m), u.Token) {
				t.Fatalf("bad log line %v", m)
			}
		}
	})
	t.Run("StopsIn8sWithFirestoreFrozen", func(t *testing.T) {
		// Many typing sockets, then Firestore stops answering: every
		// typing clean-up and heartbeat removal hangs, and the process
		// must still be gone within the contract's 8 s.
		emu := chattest.StartFirestore(t)
		port := freePort(t)
		cmd, logs := start(t, bin, fmt.Sprint("PORT=", port), "FIRESTORE_EMULATOR_HOST="+emu.Host)
		logs.until(t, "listening")
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		do := func(method, path, token string, body string) *http.Response {
			req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}
		var users []chattest.User
		var ids []string
		for i := 0; i < 20; i++ {
			u := chattest.NewUser(t, "stop")
			do("GET", "/api/me", u.Token, "").Body.Close()
			users = append(users, u)
			ids = append(ids, `"`+u.UID+`"`)
		}
		resp := do("POST", "/api/chats", users[0].Token, `{"isGroup":true,"userIds":[`+strings.Join(ids[1:], ",")+`]}`)
		var g struct{ ID string }
		_ = json.NewDecoder(resp.Body).Decode(&g)
		resp.Body.Close()
		var socks []*chattest.Socket
		for _, u := range users {
			s := chattest.MustDial(t, base, u.Token)
			s.MustEmit(t, "joinChat", g.ID)
			s.MustEmit(t, "typing", g.ID)
			socks = append(socks, s)
		}
		emu.Freeze()
		start := time.Now()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("exit: %v", err)
			}
		case <-time.After(8 * time.Second):
			t.Fatal("still running 8 s after SIGTERM with Firestore frozen")
		}
		t.Logf("stopped %s after SIGTERM with Firestore frozen and %d typing sockets", time.Since(start), len(socks))
		for _, s := range socks {
			s.WaitClosed(t)
		}
	})
	for name, env := range map[string][]string{
		"ErrEmulatorOnCloudRun": {"K_SERVICE=chat"},
		"ErrNoProject":          {"GOOGLE_CLOUD_PROJECT="},
	} {
		t.Run(name, func(t *testing.T) {
			cmd, logs := start(t, bin, append(env, fmt.Sprint("PORT=", freePort(t)))...)
			ctx, cancel := context.WithTimeout(context.Background(), chattest.WaitTimeout)
			defer cancel()
			go func() { <-ctx.Done(); _ = cmd.Process.Kill() }()
			var lines []map[string]any
			for m := range logs.ch {
				lines = append(lines, m)
			}
			err := cmd.Wait()
			if err == nil || ctx.Err() != nil {
				t.Fatalf("did not refuse to start: %v", err)
			}
			if len(lines) != 1 || lines[0]["severity"] != "ERROR" {
				t.Fatalf("want one error line, got %v", lines)
			}
		})
	}
}
