package handlers_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// part is one part of a multipart send; a part with a fileName is the file.
type part struct {
	name, fileName, contentType string
	body                        io.Reader
}

func textPart(name, value string) part { return part{name: name, body: strings.NewReader(value)} }

func filePart(name string, body []byte) part {
	return part{name: "file", fileName: name, body: bytes.NewReader(body)}
}

// upload sends a multipart message, streaming the body as it is written
// (as a browser does), and checks the answer against the contract.
func (a api) upload(t *testing.T, token, chatID string, parts ...part) chattest.Response {
	t.Helper()
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		for _, p := range parts {
			h := textproto.MIMEHeader{}
			// Names go raw (UTF-8, as browsers send them), quotes escaped.
			quote := strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace
			disp := `form-data; name="` + quote(p.name) + `"`
			if p.fileName != "" {
				disp += `; filename="` + quote(p.fileName) + `"`
				ct := p.contentType
				if ct == "" {
					ct = "application/octet-stream"
				}
				h.Set("Content-Type", ct)
			}
			h.Set("Content-Disposition", disp)
			w, err := mw.CreatePart(h)
			if err == nil {
				_, err = io.Copy(w, p.body)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
		pw.CloseWithError(mw.Close())
	}()
	r := a.do(t, "POST", "/api/chats/"+chatID+"/messages", token, pr, mw.FormDataContentType(), nil)
	_ = pr.Close()
	a.c.ValidateREST(t, "POST", "/api/chats/{id}/messages", r)
	return r
}

// do sends a raw request.
func (a api) do(t *testing.T, method, path, token string, body io.Reader, contentType string, header http.Header) chattest.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chattest.WaitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, a.in.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read: %v", method, path, err)
	}
	return chattest.Response{Status: res.StatusCode, Header: res.Header, Body: b}
}

// download fetches an attachment by its fileUrl.
func (a api) download(t *testing.T, token, fileURL string, header http.Header) chattest.Response {
	t.Helper()
	r := a.do(t, "GET", fileURL, token, nil, "", header)
	a.c.ValidateREST(t, "GET", "/api/chats/{id}/files/{fileId}", r)
	return r
}

func mustUpload(t *testing.T, a api, token, chatID string, parts ...part) msgBody {
	t.Helper()
	r := a.upload(t, token, chatID, parts...)
	if r.Status != 201 {
		t.Fatalf("upload: %d %s", r.Status, r.Body)
	}
	var m msgBody
	r.JSON(t, &m)
	return m
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// pngFile is n bytes that sniff as PNG.
func pngFile(n int) []byte {
	b := randomBytes(n)
	copy(b, "\x89PNG\r\n\x1a\n")
	return b
}

func TestAttachmentRoundTrip(t *testing.T) {
	t.Parallel()
	bucket := chattest.MustBucket(t)
	a1 := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	a2 := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	u := newUsers(t, a1, 2)
	ana, bob := u[0], u[1]
	ch := a1.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	bobSock := chattest.MustDial(t, a2.in.URL, bob.Token)
	anaSock := chattest.MustDial(t, a1.in.URL, ana.Token)

	data := pngFile(300 << 10)
	m := mustUpload(t, a1, ana.Token, ch.ID, textPart("content", "look"), textPart("clientMessageId", "f1"),
		part{name: "file", fileName: "photo.png", contentType: "text/html", body: bytes.NewReader(data)})
	if !strings.HasPrefix(m.FileURL, "/api/chats/"+ch.ID+"/files/") || m.FileName != "photo.png" || m.Content != "look" {
		t.Fatalf("message %+v", m)
	}
	t.Run("NewMessageToEveryMember", func(t *testing.T) {
		for _, s := range []*chattest.Socket{bobSock, anaSock} {
			got := decode[msgBody](t, s.Wait(t, "newMessage", field("id", m.ID)).Data)
			if got.FileURL != m.FileURL || got.FileName != m.FileName {
				t.Fatalf("event %+v, want %+v", got, m)
			}
		}
	})
	t.Run("ExactBytesFromOtherInstance", func(t *testing.T) {
		r := a2.download(t, bob.Token, m.FileURL, nil)
		if r.Status != 200 || !bytes.Equal(r.Body, data) {
			t.Fatalf("got %d, %d bytes", r.Status, len(r.Body))
		}
		// The type comes from the bytes, not from the client's text/html.
		for k, want := range map[string]string{
			"Content-Type": "image/png", "X-Content-Type-Options": "nosniff",
			"Content-Disposition": `inline; filename=photo.png`, "Cache-Control": "private, no-cache", "Accept-Ranges": "bytes",
		} {
			if got := r.Header.Get(k); got != want {
				t.Errorf("%s: %q, want %q", k, got, want)
			}
		}
		if r.Header.Get("ETag") == "" {
			t.Error("no ETag")
		}
	})
	t.Run("Range", func(t *testing.T) {
		r := a2.download(t, bob.Token, m.FileURL, http.Header{"Range": {"bytes=1000-1999"}})
		if r.Status != 206 || !bytes.Equal(r.Body, data[1000:2000]) || r.Header.Get("Content-Range") != fmt.Sprintf("bytes 1000-1999/%d", len(data)) {
			t.Fatalf("got %d, %d bytes, %q", r.Status, len(r.Body), r.Header.Get("Content-Range"))
		}
		r = a2.download(t, bob.Token, m.FileURL, http.Header{"Range": {fmt.Sprintf("bytes=%d-", len(data)-10)}})
		if r.Status != 206 || !bytes.Equal(r.Body, data[len(data)-10:]) {
			t.Fatalf("suffix: got %d, %d bytes", r.Status, len(r.Body))
		}
	})
	t.Run("IfNoneMatch", func(t *testing.T) {
		etag := a1.download(t, ana.Token, m.FileURL, nil).Header.Get("ETag")
		r := a1.download(t, ana.Token, m.FileURL, http.Header{"If-None-Match": {etag}})
		if r.Status != 304 || len(r.Body) != 0 {
			t.Fatalf("got %d, %d bytes", r.Status, len(r.Body))
		}
	})
	t.Run("RetryStoresNoSecondObject", func(t *testing.T) {
		r := a2.upload(t, ana.Token, ch.ID, textPart("content", "look"), textPart("clientMessageId", "f1"), filePart("photo.png", pngFile(1000)))
		var again msgBody
		r.JSON(t, &again)
		if r.Status != 200 || again.ID != m.ID || again.FileURL != m.FileURL {
			t.Fatalf("retry: %d %s", r.Status, r.Body)
		}
		if objs := bucket.Objects(t, chat.FilePrefix(ch.ID)); len(objs) != 1 {
			t.Fatalf("objects %v", objs)
		}
	})
	t.Run("TextOnlyMultipart", func(t *testing.T) {
		r := a1.upload(t, ana.Token, ch.ID, textPart("content", "just text"))
		var got msgBody
		r.JSON(t, &got)
		if r.Status != 201 || got.FileURL != "" || got.FileName != "" || got.Content != "just text" {
			t.Fatalf("got %d %s", r.Status, r.Body)
		}
	})
}

func TestAttachmentLimits(t *testing.T) {
	t.Parallel()
	bucket := chattest.MustBucket(t)
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	u := newUsers(t, a, 3)
	ana, bob, carol := u[0], u[1], u[2]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	count := func() int { return len(bucket.Objects(t, "")) }

	t.Run("ExactlyTenMiB", func(t *testing.T) {
		data := randomBytes(chat.MaxFileSize)
		m := mustUpload(t, a, ana.Token, ch.ID, filePart("big.bin", data))
		if r := a.download(t, bob.Token, m.FileURL, nil); r.Status != 200 || !bytes.Equal(r.Body, data) {
			t.Fatalf("download: %d, %d bytes", r.Status, len(r.Body))
		}
	})
	before := count()
	for name, tc := range map[string]struct {
		token  string
		parts  []part
		status int
		code   string
	}{
		"ErrOneByteOver":    {ana.Token, []part{filePart("big.bin", randomBytes(chat.MaxFileSize+1))}, 413, chat.ETOOLARGE},
		"ErrNotAMember":     {carol.Token, []part{filePart("x.png", pngFile(100))}, 404, chat.ENOTFOUND},
		"ErrFieldAfterFile": {ana.Token, []part{filePart("x.png", pngFile(100)), textPart("content", "late")}, 400, chat.EINVALID},
		"ErrContentTooLong": {ana.Token, []part{textPart("content", strings.Repeat("ß", chat.MaxContentLen+1)), filePart("x.png", pngFile(100))}, 400, chat.EINVALID},
		"ErrNothing":        {ana.Token, []part{textPart("clientMessageId", "x")}, 400, chat.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			expect(t, a.upload(t, tc.token, ch.ID, tc.parts...), tc.status, tc.code)
		})
	}
	t.Run("NothingStored", func(t *testing.T) {
		if n := count(); n != before {
			t.Fatalf("%d objects, want %d: %v", n, before, bucket.Objects(t, ""))
		}
		p := a.page(t, ana.Token, ch.ID, "limit=10")
		if len(p.Messages) != 1 {
			t.Fatalf("%d messages, want the 10 MiB one only", len(p.Messages))
		}
	})
	t.Run("ErrCutShort", func(t *testing.T) {
		// A client that goes away mid-file leaves nothing behind.
		body := io.MultiReader(strings.NewReader("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n"),
			bytes.NewReader(randomBytes(64<<10)))
		r := a.do(t, "POST", "/api/chats/"+ch.ID+"/messages", ana.Token, body, "multipart/form-data; boundary=b", nil)
		expect(t, r, 400, chat.EINVALID)
		if n := count(); n != before {
			t.Fatalf("%d objects, want %d", n, before)
		}
	})
}

func TestAttachmentAccess(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 3)
	ana, bob, carol := u[0], u[1], u[2]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}, "isGroup": true, "name": "g"})
	m := mustUpload(t, a, ana.Token, ch.ID, filePart("a.png", pngFile(100)))
	fileID := m.FileURL[strings.LastIndex(m.FileURL, "/")+1:]
	other := a.mustChat(t, carol.Token, map[string]any{"userIds": []string{ana.UID}})
	for name, tc := range map[string]struct{ token, url string }{
		"ErrNotAMember":      {carol.Token, m.FileURL},
		"ErrUnknownFile":     {ana.Token, "/api/chats/" + ch.ID + "/files/" + strings.Repeat("A", 26)},
		"ErrMalformedFile":   {ana.Token, "/api/chats/" + ch.ID + "/files/..%2f..%2fx"},
		"ErrLowercaseFile":   {ana.Token, "/api/chats/" + ch.ID + "/files/" + strings.ToLower(fileID)},
		"ErrFileOfOtherChat": {carol.Token, "/api/chats/" + other.ID + "/files/" + fileID},
	} {
		t.Run(name, func(t *testing.T) { expect(t, a.download(t, tc.token, tc.url, nil), 404, chat.ENOTFOUND) })
	}
	t.Run("ErrRemovedMember", func(t *testing.T) {
		if r := a.download(t, bob.Token, m.FileURL, nil); r.Status != 200 {
			t.Fatalf("before removal: %d", r.Status)
		}
		r := a.call(t, "DELETE", "/api/chats/{id}/members/{uid}", "/api/chats/"+ch.ID+"/members/"+bob.UID, ana.Token, nil)
		if r.Status != 204 {
			t.Fatalf("remove: %d %s", r.Status, r.Body)
		}
		expect(t, a.download(t, bob.Token, m.FileURL, nil), 404, chat.ENOTFOUND)
	})
	t.Run("ErrNoToken", func(t *testing.T) {
		r := a.do(t, "GET", m.FileURL, "", nil, "", nil)
		expect(t, r, 401, chat.EUNAUTHORIZED)
	})
}

func TestAttachmentSafeToServe(t *testing.T) {
	t.Parallel()
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	for _, tc := range []struct {
		name, fileName, body, wantName, wantType, wantDisposition string
	}{
		{"HTMLAsAttachment", "page.html", "<!DOCTYPE html><script>alert(1)</script>", "page.html", "text/html; charset=utf-8",
			`attachment; filename=page.html`},
		{"SVGAsAttachment", "logo.svg", `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`, "logo.svg",
			"text/xml; charset=utf-8", `attachment; filename=logo.svg`},
		{"PathTricksAndUnicode", "../../etc/Grüße \u202Egnp.js", "alert(1)", "Grüße gnp.js", "text/plain; charset=utf-8",
			`attachment; filename="Gr__e gnp.js"; filename*=utf-8''Gr%C3%BC%C3%9Fe%20gnp.js`},
		{"PNGNamedHTML", "x.html", "\x89PNG\r\n\x1a\nrest", "x.html", "image/png", `inline; filename=x.html`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mustUpload(t, a, ana.Token, ch.ID, part{name: "file", fileName: tc.fileName, contentType: "image/png", body: strings.NewReader(tc.body)})
			if m.FileName != tc.wantName {
				t.Fatalf("fileName %q, want %q", m.FileName, tc.wantName)
			}
			r := a.download(t, bob.Token, m.FileURL, nil)
			if r.Status != 200 || string(r.Body) != tc.body {
				t.Fatalf("got %d %q", r.Status, r.Body)
			}
			for k, want := range map[string]string{"Content-Type": tc.wantType, "Content-Disposition": tc.wantDisposition,
				"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox; frame-ancestors 'none'"} {
				if got := r.Header.Get(k); got != want {
					t.Errorf("%s: %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestAttachmentsOfDeletedChat(t *testing.T) {
	t.Parallel()
	bucket := chattest.MustBucket(t)
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	u := newUsers(t, a, 2)
	ana, bob := u[0], u[1]
	ch := a.mustChat(t, ana.Token, map[string]any{"userIds": []string{bob.UID}})
	keep := a.mustChat(t, bob.Token, map[string]any{"userIds": []string{ana.UID}, "isGroup": true, "name": "keep"})
	kept := mustUpload(t, a, bob.Token, keep.ID, filePart("k.png", pngFile(10)))
	var urls []string
	for i := range 3 {
		urls = append(urls, mustUpload(t, a, ana.Token, ch.ID, filePart(fmt.Sprintf("%d.png", i), pngFile(20<<10))).FileURL)
	}
	if n := len(bucket.Objects(t, chat.FilePrefix(ch.ID))); n != 3 {
		t.Fatalf("%d objects before delete", n)
	}
	if r := a.call(t, "DELETE", "/api/chats/{id}", "/api/chats/"+ch.ID, ana.Token, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	deleted := time.Now()
	for _, url := range urls {
		expect(t, a.download(t, ana.Token, url, nil), 404, chat.ENOTFOUND)
	}
	chattest.WaitWithin(t, "the deleted chat's objects to go", 10*time.Second-time.Since(deleted), func() bool {
		return len(bucket.Objects(t, chat.FilePrefix(ch.ID))) == 0
	})
	if r := a.download(t, ana.Token, kept.FileURL, nil); r.Status != 200 {
		t.Fatalf("another chat's file: %d", r.Status)
	}
}

// TestDeleteAnswersBeforeCleanup: DELETE /api/chats/:id answers 204 once
// the chat is deleted, while storage is still removing its files (held
// here); the files go once storage answers.
func TestDeleteAnswersBeforeCleanup(t *testing.T) {
	bucket := chattest.MustBucket(t)
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	t.Cleanup(release)
	storageProxy(t, func(r *http.Request) {
		if r.Method == http.MethodDelete {
			<-hold
		}
	})
	a := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	u := newUsers(t, a, 2)
	ch := a.mustChat(t, u[0].Token, map[string]any{"userIds": []string{u[1].UID}})
	m := mustUpload(t, a, u[0].Token, ch.ID, filePart("a.png", pngFile(1024)))
	if r := a.call(t, "DELETE", "/api/chats/{id}", "/api/chats/"+ch.ID, u[0].Token, nil); r.Status != 204 {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	expect(t, a.download(t, u[0].Token, m.FileURL, nil), 404, chat.ENOTFOUND)
	if n := len(bucket.Objects(t, chat.FilePrefix(ch.ID))); n != 1 {
		t.Fatalf("%d objects while storage holds the deletes, want 1", n)
	}
	release()
	chattest.WaitWithin(t, "the deleted chat's objects to go", 10*time.Second, func() bool {
		return len(bucket.Objects(t, chat.FilePrefix(ch.ID))) == 0
	})
}

func TestConcurrentUploads(t *testing.T) {
	t.Parallel()
	bucket := chattest.MustBucket(t)
	a1 := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	a2 := newAPI(t, chattest.NewInstance(t, chattest.Options{Bucket: bucket.Name}))
	u := newUsers(t, a1, 3)
	ch := a1.mustChat(t, u[0].Token, map[string]any{"userIds": []string{u[1].UID, u[2].UID}, "isGroup": true, "name": "g"})
	const n = 8
	files := make([][]byte, n)
	msgs := make([]msgBody, n)
	var wg sync.WaitGroup
	for i := range n {
		files[i] = randomBytes(256<<10 + i)
		wg.Go(func() {
			a := []api{a1, a2}[i%2]
			msgs[i] = mustUpload(t, a, u[i%3].Token, ch.ID, textPart("clientMessageId", fmt.Sprint(i)), filePart(fmt.Sprintf("f%d.bin", i), files[i]))
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for i, m := range msgs {
		if seen[m.FileURL] {
			t.Fatalf("fileUrl %s twice", m.FileURL)
		}
		seen[m.FileURL] = true
		if r := a2.download(t, u[(i+1)%3].Token, m.FileURL, nil); r.Status != 200 || !bytes.Equal(r.Body, files[i]) {
			t.Fatalf("file %d: %d, %d bytes", i, r.Status, len(r.Body))
		}
	}
	if objs := bucket.Objects(t, ""); len(objs) != n {
		t.Fatalf("%d objects, want %d", len(objs), n)
	}
}
