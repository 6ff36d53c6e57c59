package firestore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
	"github.com/chatapp/chat/firestore"
)

// onEOF runs fn when the reader is first read to its end: the moment
// between an upload's last byte and its message's commit.
type onEOF struct {
	io.Reader
	fn   func()
	done bool
}

func (r *onEOF) Read(p []byte) (int, error) {
	n, err := r.Reader.Read(p)
	if err == io.EOF && !r.done {
		r.done = true
		r.fn()
	}
	return n, err
}

func TestUploads(t *testing.T) {
	bucket := chattest.MustBucket(t)
	s := mustServicesIn(t, bucket.Name)
	anaCtx, _ := s.as(t, "ana")
	_, bob := s.as(t, "bob")
	newChat := func() string {
		c, _, err := s.chats.CreateChat(anaCtx, chat.ChatCreate{UserIDs: []string{bob}, IsGroup: true, Name: "g"})
		if err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	file := func(body string) *chat.File { return &chat.File{Name: "a.txt", Body: strings.NewReader(body)} }
	todos := func(chatID string) int {
		return len(chattest.Query(t, "", "uploads", false, chattest.Filter{Field: "chatId", Op: "EQUAL", Value: chatID}))
	}

	t.Run("FailedSendLeavesNothing", func(t *testing.T) {
		// The chat is deleted after the upload and before the commit: the
		// send fails and neither its object nor its to-do remains.
		id := newChat()
		body := &onEOF{Reader: bytes.NewReader(make([]byte, 4096)), fn: func() {
			if err := s.chats.DeleteChat(anaCtx, id); err != nil {
				t.Error(err)
			}
		}}
		_, _, err := s.messages.SendMessage(anaCtx, id, chat.MessageCreate{File: &chat.File{Name: "x.bin", Body: body}})
		code(t, err, chat.ENOTFOUND)
		if objs := bucket.Objects(t, chat.FilePrefix(id)); len(objs) != 0 || todos(id) != 0 {
			t.Fatalf("left: objects %v, %d to-dos", objs, todos(id))
		}
	})
	t.Run("CrashBeforeCommitSwept", func(t *testing.T) {
		id := newChat()
		// Stored two hours ago by an instance that then died; sweeping
		// what is over an hour old cannot touch the uploads of tests
		// running at the same time.
		s.db.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
		object, err := s.messages.StoreWithoutMessage(anaCtx, id, file("orphan"))
		s.db.Now = time.Now
		if err != nil {
			t.Fatal(err)
		}
		sent, _, err := s.messages.SendMessage(anaCtx, id, chat.MessageCreate{File: file("kept")})
		if err != nil {
			t.Fatal(err)
		}
		if objs := bucket.Objects(t, chat.FilePrefix(id)); len(objs) != 2 || todos(id) != 1 {
			t.Fatalf("before the sweep: objects %v, %d to-dos", objs, todos(id))
		}
		// The instances of tests running alongside sweep too (uploads over
		// 30 min old): whichever sweeper comes first, the same code runs.
		if _, err := s.messages.SweepUploads(context.Background(), time.Hour); err != nil {
			t.Fatal(err)
		}
		objs := bucket.Objects(t, chat.FilePrefix(id))
		if len(objs) != 1 || objs[0] == object || todos(id) != 0 {
			t.Fatalf("after the sweep: objects %v (orphan %s), %d to-dos", objs, object, todos(id))
		}
		f, err := s.messages.OpenFile(anaCtx, id, sent.FileURL[strings.LastIndex(sent.FileURL, "/")+1:])
		if err != nil {
			t.Fatal(err)
		}
		defer f.Content.Close()
		if b, err := io.ReadAll(f.Content); err != nil || string(b) != "kept" {
			t.Fatalf("the sent file: %q %v", b, err)
		}
	})
}

// failingDelete is a file store whose deletions fail: the instance that
// deleted a message died before it removed the attachment.
type failingDelete struct{ chat.FileStore }

func (failingDelete) Delete(context.Context, string) error { return errors.New("instance gone") }

func TestDeletedMessageAttachmentSwept(t *testing.T) {
	bucket := chattest.MustBucket(t)
	s := mustServicesIn(t, bucket.Name)
	anaCtx, _, cid := s.pair(t)
	m := s.mustSend(t, anaCtx, cid, chat.MessageCreate{File: &chat.File{Name: "a.txt", Body: strings.NewReader("gone soon")}})
	dying := firestore.NewMessageService(s.db, failingDelete{chattest.MustFileStore(t, bucket.Name)})
	if err := dying.DeleteMessage(anaCtx, cid, m.ID); err != nil {
		t.Fatal(err)
	}
	if objs := bucket.Objects(t, chat.FilePrefix(cid)); len(objs) != 1 {
		t.Fatalf("before the sweep: objects %v", objs)
	}
	// Abandoned to-dos are swept whatever their age: the next sweep, at
	// most 10 minutes away, removes the object.
	if _, err := s.messages.SweepUploads(context.Background(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if objs := bucket.Objects(t, chat.FilePrefix(cid)); len(objs) != 0 {
		t.Fatalf("after the sweep: objects %v", objs)
	}
	if n := len(chattest.Query(t, "", "uploads", false, chattest.Filter{Field: "chatId", Op: "EQUAL", Value: cid})); n != 0 {
		t.Fatalf("after the sweep: %d to-dos", n)
	}
}
