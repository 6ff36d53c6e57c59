package main_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// TestMetrics: METRICS_ADDR serves Prometheus text on its own address,
// with the adapter's Firestore counts and the socket counters; the public
// port does not serve it.
func TestMetrics(t *testing.T) {
	t.Parallel()
	bin := build(t)
	mport := freePort(t)
	s := startServer(t, bin, fmt.Sprintf("METRICS_ADDR=127.0.0.1:%d", mport))
	u := chattest.NewUser(t, "metrics")
	call(t, s.base, "GET", "/api/me", u.Token, nil)
	chattest.MustDial(t, s.base, u.Token)
	get := func(url string) (int, string) {
		res, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get(s.base + "/metrics"); code != 404 {
		t.Fatalf("the public port answers /metrics with %d", code)
	}
	code, body := get(fmt.Sprintf("http://127.0.0.1:%d/metrics", mport))
	if code != 200 {
		t.Fatalf("metrics: %d", code)
	}
	for _, want := range []string{`chatapp_firestore_reads_total{rpc="BatchGetDocuments"}`, `chatapp_firestore_writes_total{rpc="Commit"}`,
		`chatapp_firestore_reads_total{rpc="Listen"}`, "chatapp_socket_connects_total 1", "go_goroutines", "process_resident_memory_bytes"} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
