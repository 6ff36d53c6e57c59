package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// TestOfficialJSClient runs the official socket.io-client (pinned in
// dev/package.json) against an instance, websocket and polling, and checks
// every payload it saw against docs/asyncapi.yaml.
func TestOfficialJSClient(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node is required for the official client: %v", err)
	}
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "dev", "js-client-check.mjs")
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	c := chattest.MustContract(t)
	u := newUsers(t, a, 2)
	ch := a.mustChat(t, u[0].Token, map[string]any{"userIds": []string{u[1].UID}})

	cmd := exec.Command(node, script)
	cmd.Env = append(cmd.Environ(), "BASE="+a.in.URL, "TOKEN_A="+u[0].Token, "TOKEN_B="+u[1].Token, "CHAT_ID="+ch.ID, "UID_B="+u[1].UID)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("js client: %v\n%s\n%s", err, out, stderr.String())
	}
	seen := map[string]int{}
	done := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var line struct {
			Kind, Transport, Event, Message string
			Data                            json.RawMessage
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		switch line.Kind {
		case "event":
			if err := c.ValidateEvent(line.Event, line.Data); err != nil {
				t.Errorf("%s: %v", line.Transport, err)
			}
			seen[line.Transport+"/"+line.Event]++
		case "ack":
			if err := c.ValidateEvent("ack", line.Data); err != nil {
				t.Errorf("%s ack: %v", line.Transport, err)
			}
			seen[line.Transport+"/ack"]++
		case "connect_error":
			if line.Message != "unauthorized" {
				t.Errorf("connect_error message %q", line.Message)
			}
			if err := c.ValidateEvent("connect_error", line.Data); err != nil {
				t.Error(err)
			}
		case "done":
			done = true
		case "fail":
			t.Fatalf("js client: %s", sc.Text())
		}
	}
	if !done {
		t.Fatalf("js client did not finish: %s", out)
	}
	for _, want := range []string{"websocket/newMessage", "polling/newMessage", "polling/chatSummary", "websocket/typing", "websocket/ack", "polling/ack"} {
		if seen[want] == 0 {
			t.Errorf("no %s; saw %v", want, seen)
		}
	}
}
