package handlers_test

import (
	"bytes"
	"io"
	"sync"
	"testing"

	"github.com/chatapp/chat/chattest"
)

// gatedReader yields nothing until its gate is closed, then its bytes: an
// upload held in progress.
type gatedReader struct {
	gate chan struct{}
	r    io.Reader
}

func (g *gatedReader) Read(p []byte) (int, error) {
	<-g.gate
	return g.r.Read(p)
}

// TestUploadsInProgressCap: a user has at most 3 uploads in progress on an
// instance; a 4th is 429 rate_limited, another user is not affected, and
// the user may upload again once one has ended.
func TestUploadsInProgressCap(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	gates := make([]chan struct{}, 3)
	results := make([]chattest.Response, 3)
	var wg sync.WaitGroup
	for i := range gates {
		gates[i] = make(chan struct{})
		body := &gatedReader{gates[i], bytes.NewReader(pngFile(4 << 10))}
		wg.Go(func() {
			results[i] = a.upload(t, ana.Token, ch.ID, textPart("content", "held"), part{name: "file", fileName: "p.png", body: body})
		})
	}
	defer func() {
		for _, g := range gates {
			select {
			case <-g:
			default:
				close(g)
			}
		}
		wg.Wait()
	}()
	// Each held upload has written its to-do: its slot is taken.
	waitFor(t, "3 uploads in progress", func() bool {
		return len(chattest.Query(t, "", "uploads", false, chattest.Filter{Field: "chatId", Op: "EQUAL", Value: ch.ID})) == 3
	})
	t.Run("ErrFourth", func(t *testing.T) {
		r := a.upload(t, ana.Token, ch.ID, textPart("content", "4th"), filePart("p.png", pngFile(1024)))
		expect(t, r, 429, "rate_limited")
		if r.Header.Get("Retry-After") == "" {
			t.Error("no Retry-After")
		}
	})
	t.Run("OtherUser", func(t *testing.T) {
		mustUpload(t, a, bob.Token, ch.ID, textPart("content", "bob's"), filePart("p.png", pngFile(1024)))
	})
	t.Run("AfterOneEnded", func(t *testing.T) {
		close(gates[0])
		waitFor(t, "the first upload to end", func() bool {
			return len(chattest.Query(t, "", "uploads", false, chattest.Filter{Field: "chatId", Op: "EQUAL", Value: ch.ID})) == 2
		})
		// The slot is given back when the send has answered, just after
		// its to-do went: retry as a client would on 429.
		waitFor(t, "a new upload taken", func() bool {
			r := a.upload(t, ana.Token, ch.ID, textPart("content", "again"), filePart("p.png", pngFile(1024)))
			return r.Status == 201
		})
	})
}
