package main_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat/chattest"
)

// build compiles the server once per test binary.
func build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "server")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// start runs the server binary with the test's environment, on the
// test's own Firestore database, plus env.
func start(t testing.TB, bin string, env ...string) *chattest.Process {
	t.Helper()
	return chattest.StartProcess(t, bin, append(append(os.Environ(), "FIRESTORE_DATABASE="+chattest.Database(t)), env...))
}

func TestServerProcess(t *testing.T) {
	t.Parallel()
	chattest.MustEnv(t)
	bin := build(t)
	t.Run("ServesAndStopsOnSIGTERM", func(t *testing.T) {
		port := freePort(t)
		logs := start(t, bin, fmt.Sprint("PORT=", port))
		logs.Until(t, "listening")
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
		line := logs.Until(t, "request")
		for line["path"] != "/api/me" {
			line = logs.Until(t, "request")
		}
		if line["severity"] != "INFO" || line["logging.googleapis.com/trace"] != "projects/"+os.Getenv("GOOGLE_CLOUD_PROJECT")+"/traces/abc123" || line["user"] != u.UID {
			t.Fatalf("access line %v", line)
		}
		took := logs.StopWithin(t, 8*time.Second)
		s.WaitClosed(t)
		t.Logf("stopped %s after SIGTERM", took)
		for m := range logs.Logs {
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
		logs := start(t, bin, fmt.Sprint("PORT=", port), "FIRESTORE_EMULATOR_HOST="+emu.Host)
		logs.Until(t, "listening")
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
		took := logs.StopWithin(t, 8*time.Second)
		t.Logf("stopped %s after SIGTERM with Firestore frozen and %d typing sockets", took, len(socks))
		for _, s := range socks {
			s.WaitClosed(t)
		}
	})
	for name, env := range map[string][]string{
		"ErrEmulatorOnCloudRun": {"K_SERVICE=chat"},
		"ErrNoProject":          {"GOOGLE_CLOUD_PROJECT="},
	} {
		t.Run(name, func(t *testing.T) {
			logs := start(t, bin, append(env, fmt.Sprint("PORT=", freePort(t)))...)
			ctx, cancel := context.WithTimeout(context.Background(), chattest.WaitTimeout)
			defer cancel()
			go func() { <-ctx.Done(); _ = logs.Cmd.Process.Kill() }()
			var lines []map[string]any
			for m := range logs.Logs {
				lines = append(lines, m)
			}
			err := logs.Wait()
			if err == nil || ctx.Err() != nil {
				t.Fatalf("did not refuse to start: %v", err)
			}
			if len(lines) != 1 || lines[0]["severity"] != "ERROR" {
				t.Fatalf("want one error line, got %v", lines)
			}
		})
	}
}
