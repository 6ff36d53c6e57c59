package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// TestSmallRun runs the load tool as an operator would, small: it starts
// two server binaries, signs users up, connects, sends, churns and
// reports; every acknowledged message must have reached every member's
// socket exactly once, and each figure the report promises is there.
func TestSmallRun(t *testing.T) {
	if os.Getenv("FIRESTORE_EMULATOR_HOST") == "" {
		t.Fatal("FIRESTORE_EMULATOR_HOST is unset: run through dev/with-emulators.sh (make test)")
	}
	dir := t.TempDir()
	for _, b := range [][2]string{{"server", "../server"}, {"chatload", "."}} {
		out, err := exec.Command("go", "build", "-o", filepath.Join(dir, b[0]), b[1]).CombinedOutput()
		if err != nil {
			t.Fatalf("build %s: %v\n%s", b[0], err, out)
		}
	}
	cmd := exec.Command(filepath.Join(dir, "chatload"), "-server", filepath.Join(dir, "server"),
		"-instances", "2", "-users", "8", "-devices", "2", "-groups", "2", "-group-size", "4", "-directs", "2",
		"-rate", "10", "-duration", "3s", "-churn", "20", "-churn-users", "4", "-settle", "3s")
	// A database of its own: the emulator's queries scan a whole database.
	cmd.Env = append(os.Environ(), "FIRESTORE_DATABASE="+chattest.Database(t))
	out, err := cmd.CombinedOutput()
	report := string(out)
	t.Log(report)
	if err != nil {
		t.Fatalf("chatload: %v", err)
	}
	for _, want := range []string{
		`messages: offered \d+ \(0 skipped`,
		`deliveries: owed (\d+), delivered (\d+), lost 0, duplicated 0`,
		`latency, REST send start → newMessage on another instance \(\d+\): p50 [\d.]+ ms`,
		`emulator write → listener, same run \(\d+\)`,
		`i0: sockets 8, listeners \d+`,
		`i1: sockets 8, listeners \d+`,
		`connect: +\d+ reads .*per socket: [\d.]+ reads without re-sends`,
		`P5: [\d.]+ reads per delivered event per recipient user`,
		`Commit calls: \d+, [\d.]+ per message .*duration p50 ≤ \d+ ms, p99 ≤ \d+ ms`,
		`disconnect: +\d+ reads`,
		`churn: 20 connect/disconnect cycles of 4 users .* 0 failed`,
		`i0 after churn and 3s: goroutines \d+ → \d+; after GC: HeapInuse .* live heap \(HeapAlloc\)`,
	} {
		if !regexp.MustCompile(want).MatchString(report) {
			t.Errorf("report lacks %q", want)
		}
	}
	m := regexp.MustCompile(`owed (\d+), delivered (\d+)`).FindStringSubmatch(report)
	if m == nil || m[1] != m[2] || m[1] == "0" {
		t.Errorf("not every owed delivery was made")
	}
	// A handshake answered `internal` is retried, as the contract tells
	// clients to (the emulator, loaded by the tests running beside this
	// one, can pass the server's setup deadline); any other error fails.
	for _, line := range strings.Split(report, "\n") {
		if strings.Contains(line, "error:") && !strings.Contains(line, "error: handshake retried: connect_error: internal") {
			t.Errorf("the run reported %q", strings.TrimSpace(line))
		}
	}
}
