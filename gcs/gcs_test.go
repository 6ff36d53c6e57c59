package gcs_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/chattest"
)

// failing is a body that breaks after n bytes, as a client that goes away.
type failing struct{ n int }

func (f *failing) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("client went away")
	}
	k := min(len(p), f.n)
	f.n -= k
	return k, nil
}

func TestStore(t *testing.T) {
	bucket := chattest.MustBucket(t)
	s := chattest.MustFileStore(t, bucket.Name)
	ctx := context.Background()
	info := chat.FileInfo{Name: "a.txt", ContentType: "text/plain; charset=utf-8"}
	t.Run("LimitIsInclusive", func(t *testing.T) {
		n, err := s.Put(ctx, "x/at-limit", strings.NewReader("12345"), info, 5)
		if err != nil || n != 5 {
			t.Fatalf("%d %v", n, err)
		}
		_, err = s.Put(ctx, "x/over", strings.NewReader("123456"), info, 5)
		if chat.ErrorCode(err) != chat.ETOOLARGE {
			t.Fatalf("over the limit: %v", err)
		}
	})
	t.Run("ErrBodyFailsNothingStored", func(t *testing.T) {
		if _, err := s.Put(ctx, "x/broken", &failing{n: 100 << 10}, info, 1<<20); err == nil {
			t.Fatal("stored a broken body")
		}
	})
	t.Run("ErrNeverRewritten", func(t *testing.T) {
		if _, err := s.Put(ctx, "x/at-limit", strings.NewReader("other"), info, 5); err == nil {
			t.Fatal("rewrote an object")
		}
	})
	t.Run("OpenReadSeek", func(t *testing.T) {
		f, err := s.Open(ctx, "x/at-limit")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Content.Close()
		if f.Name != "a.txt" || f.ContentType != info.ContentType || f.Size != 5 || f.ETag == "" {
			t.Fatalf("%+v", f.FileInfo)
		}
		if end, err := f.Content.Seek(0, io.SeekEnd); err != nil || end != 5 {
			t.Fatalf("seek end: %d %v", end, err)
		}
		if _, err := f.Content.Seek(2, io.SeekStart); err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(f.Content)
		if err != nil || !bytes.Equal(b, []byte("345")) {
			t.Fatalf("from 2: %q %v", b, err)
		}
	})
	t.Run("ErrOpenMissing", func(t *testing.T) {
		if _, err := s.Open(ctx, "x/none"); chat.ErrorCode(err) != chat.ENOTFOUND {
			t.Fatalf("%v", err)
		}
	})
	t.Run("DeletePrefix", func(t *testing.T) {
		if err := s.Delete(ctx, "x/none"); err != nil {
			t.Fatalf("deleting a missing object: %v", err)
		}
		if _, err := s.Put(ctx, "y/kept", strings.NewReader("k"), info, 5); err != nil {
			t.Fatal(err)
		}
		if err := s.DeletePrefix(ctx, "x/"); err != nil {
			t.Fatal(err)
		}
		if objs := bucket.Objects(t, ""); len(objs) != 1 || objs[0] != "y/kept" {
			t.Fatalf("left %v", objs)
		}
	})
	t.Run("Ping", func(t *testing.T) {
		if err := s.Ping(ctx); err != nil {
			t.Fatal(err)
		}
		if err := chattest.MustFileStore(t, "no-such-bucket-here").Ping(ctx); err == nil {
			t.Fatal("a missing bucket is ready")
		}
	})
}
