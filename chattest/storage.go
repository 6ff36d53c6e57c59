package chattest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"
)

// Bucket is a fresh bucket on fake-gcs-server for one test, so that what
// it counts is its own.
type Bucket struct {
	Name   string
	handle *storage.BucketHandle
}

// MustBucket creates a bucket with a unique name, deleted with the test.
func MustBucket(tb testing.TB) *Bucket {
	tb.Helper()
	env := MustEnv(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	client, err := storage.NewClient(ctx)
	if err != nil {
		tb.Fatalf("storage client: %v", err)
	}
	name := fmt.Sprintf("test-%d-%d", time.Now().UnixNano(), next())
	b := &Bucket{Name: name, handle: client.Bucket(name)}
	if err := b.handle.Create(ctx, env.Project, nil); err != nil {
		tb.Fatalf("create bucket %s: %v", name, err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, o := range b.objects(ctx, tb) {
			_ = b.handle.Object(o).Delete(ctx)
		}
		_ = b.handle.Delete(ctx)
		_ = client.Close()
	})
	return b
}

// Objects lists the names of the bucket's objects under prefix.
func (b *Bucket) Objects(tb testing.TB, prefix string) []string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var names []string
	for _, n := range b.objects(ctx, tb) {
		if strings.HasPrefix(n, prefix) {
			names = append(names, n)
		}
	}
	return names
}

func (b *Bucket) objects(ctx context.Context, tb testing.TB) []string {
	var names []string
	it := b.handle.Objects(ctx, nil)
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return names
		} else if err != nil {
			tb.Errorf("list bucket %s: %v", b.Name, err)
			return names
		}
		names = append(names, a.Name)
	}
}
