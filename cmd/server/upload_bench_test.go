package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// BenchmarkUploadRSS: the server process's resident memory while 8
// uploads of 10 MiB run at once. Streaming keeps it far below the 80 MiB
// a buffering server would add. Run it with
//
//	dev/with-emulators.sh go test -run '^$' -bench UploadRSS -benchtime 3x ./cmd/server
func BenchmarkUploadRSS(b *testing.B) {
	chattest.MustEnv(b)
	bin := build(b)
	port := freePort(b)
	p := start(b, bin, fmt.Sprint("PORT=", port), "LOG_LEVEL=warn")
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitReady(b, base)
	ana, bob := chattest.NewUser(b, "ana"), chattest.NewUser(b, "bob")
	chatID := createChat(b, base, ana, bob)
	const uploads = 8
	// Warm up: one upload, so that what is measured is the added cost of
	// concurrent uploads, not first-use allocations.
	upload(b, base, ana.Token, chatID, chat.MaxFileSize)
	idle := rss(b, p.Cmd.Process.Pid)
	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if r := rss(b, p.Cmd.Process.Pid); r > peak.Load() {
				peak.Store(r)
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	b.ResetTimer()
	for range b.N {
		var wg sync.WaitGroup
		for range uploads {
			wg.Go(func() { upload(b, base, ana.Token, chatID, chat.MaxFileSize) })
		}
		wg.Wait()
	}
	b.StopTimer()
	close(stop)
	<-sampled
	above := float64(peak.Load()-idle) / (1 << 20)
	b.ReportMetric(float64(idle)/(1<<20), "MiB-idle")
	b.ReportMetric(above, "MiB-peak-above-idle")
	b.ReportMetric(above/float64(uploads*chat.MaxFileSize>>20), "ratio-to-buffered")
}

// rss reads the process's resident set size in bytes.
func rss(tb testing.TB, pid int) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		tb.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	tb.Fatal("no VmRSS")
	return 0
}

func waitReady(tb testing.TB, base string) {
	tb.Helper()
	deadline := time.Now().Add(chattest.WaitTimeout)
	for {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			tb.Fatal("server not ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// createChat makes both users' profiles and a direct chat between them.
func createChat(tb testing.TB, base string, a, b chattest.User) string {
	call(tb, base, "GET", "/api/me", b.Token, nil)
	call(tb, base, "GET", "/api/me", a.Token, nil)
	var c struct{ ID string }
	if raw := call(tb, base, "POST", "/api/chats", a.Token, map[string]any{"userIds": []string{b.UID}}); json.Unmarshal(raw, &c) != nil || c.ID == "" {
		tb.Fatalf("create chat: %s", raw)
	}
	return c.ID
}

// call sends a JSON request and returns the body of a 2xx answer.
func call(tb testing.TB, base, method, path, token string, body any) []byte {
	var rd io.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		tb.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return raw
}

// upload streams a multipart send of size bytes, generated as it goes.
func upload(tb testing.TB, base, token, chatID string, size int) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, err := mw.CreateFormFile("file", "big.bin")
		if err == nil {
			_, err = io.CopyN(w, zeros{}, int64(size))
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", base+"/api/chats/"+chatID+"/messages", pr)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Error(err)
		return
	}
	raw, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		tb.Errorf("upload: %d %s", res.StatusCode, raw)
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
