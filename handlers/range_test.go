package handlers_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// storageProxy puts a proxy in front of the storage emulator for the
// instances made after it (the storage client reads STORAGE_EMULATOR_HOST
// when it is made); before passing a request on it calls hook, which may
// count or hold it.
func storageProxy(t *testing.T, hook func(*http.Request)) {
	t.Helper()
	target, err := url.Parse("http://" + os.Getenv("STORAGE_EMULATOR_HOST"))
	if err != nil || target.Host == "" {
		t.Fatalf("STORAGE_EMULATOR_HOST: %q %v", target, err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook(r)
		r.Host = target.Host // fake-gcs-server routes by it
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("STORAGE_EMULATOR_HOST", srv.Listener.Addr().String())
}

// countingStorage is a storageProxy counting object reads.
func countingStorage(t *testing.T) *atomic.Int32 {
	t.Helper()
	var reads atomic.Int32
	storageProxy(t, func(r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Query().Get("alt") == "media" || !strings.HasPrefix(r.URL.Path, "/storage/v1/")) {
			reads.Add(1)
		}
	})
	return &reads
}

// TestManyRangesGetWholeFile: a download asking for more than 5 ranges
// gets the whole file in one storage read, not one read per range.
func TestManyRangesGetWholeFile(t *testing.T) {
	reads := countingStorage(t)
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ch := a.mustChat(t, u[0].Token, map[string]any{"userIds": []string{u[1].UID}})
	data := pngFile(64 << 10)
	m := mustUpload(t, a, u[0].Token, ch.ID, textPart("content", "x"), filePart("p.png", data))
	count := func(rng string) (chattest.Response, int32) {
		reads.Store(0)
		var h http.Header
		if rng != "" {
			h = http.Header{"Range": {rng}}
		}
		r := a.download(t, u[1].Token, m.FileURL, h)
		return r, reads.Load()
	}
	r, whole := count("")
	if r.Status != 200 || !bytes.Equal(r.Body, data) || whole < 1 {
		t.Fatalf("whole file: %d, %d bytes, %d reads", r.Status, len(r.Body), whole)
	}
	t.Run("FiveRanges", func(t *testing.T) {
		r, n := count("bytes=0-9,100-109,200-209,300-309,400-409")
		if r.Status != 206 || n != whole+4 {
			t.Fatalf("got %d with %d storage reads (whole file: %d)", r.Status, n, whole)
		}
	})
	t.Run("SixRanges", func(t *testing.T) {
		r, n := count("bytes=0-9,100-109,200-209,300-309,400-409,500-509")
		if r.Status != 200 || !bytes.Equal(r.Body, data) || n != whole {
			t.Fatalf("got %d, %d bytes, %d storage reads (whole file: %d)", r.Status, len(r.Body), n, whole)
		}
	})
}
