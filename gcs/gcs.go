// Package gcs implements chat.FileStore on Cloud Storage. With
// STORAGE_EMULATOR_HOST set the client library talks to that emulator
// (fake-gcs-server in development and tests) without credentials; in
// production it uses Application Default Credentials. It is the only
// package that knows Cloud Storage types.
package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"

	"cloud.google.com/go/storage"
	"google.golang.org/api/iterator"

	"github.com/chatapp/chat"
)

var _ chat.FileStore = (*Store)(nil)

// uploadChunk is the resumable upload's chunk: the buffer each upload
// holds (8 concurrent 10 MiB uploads hold 4 MiB) and how much a retry
// resends. Cloud Storage wants a multiple of 256 KiB.
const uploadChunk = 512 << 10

// Store keeps attachments in one bucket.
type Store struct {
	client *storage.Client
	bucket *storage.BucketHandle
	name   string
}

// Open connects to Cloud Storage for bucket. It makes no request: a
// missing bucket shows on first use (and in the readiness probe, Ping).
func Open(ctx context.Context, bucket string) (*Store, error) {
	if bucket == "" {
		return nil, errors.New("gcs: no bucket configured")
	}
	client, err := storage.NewClient(ctx)
	if err != nil {
		return nil, fmt.Errorf("gcs client: %w", err)
	}
	return &Store{client: client, bucket: client.Bucket(bucket), name: bucket}, nil
}

// Bucket implements chat.FileStore.
func (s *Store) Bucket() string { return s.name }

// Close releases the client.
func (s *Store) Close() error { return s.client.Close() }

// Ping lists at most one object: the readiness probe's check that the
// bucket exists and this process may use it (listing needs only the
// object role the service account has, not bucket metadata rights).
func (s *Store) Ping(ctx context.Context) error {
	it := s.bucket.Objects(ctx, &storage.Query{Prefix: "health/"})
	it.PageInfo().MaxSize = 1
	if _, err := it.Next(); err != nil && !errors.Is(err, iterator.Done) {
		return fmt.Errorf("gcs ping: %w", err)
	}
	return nil
}

// Put implements chat.FileStore. The body is streamed as a resumable
// upload in chunks of uploadChunk: memory per upload is one chunk
// whatever the file's size, a transient failure is retried chunk by
// chunk, and an upload that is aborted never sends its final chunk, so
// no partial object can appear (a single-request upload cut mid-body can
// be stored by a lenient server, as fake-gcs-server does). The object is
// created only if absent, so a name is never rewritten.
func (s *Store) Put(ctx context.Context, name string, body io.Reader, info chat.FileInfo, limit int64) (int64, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := s.bucket.Object(name).If(storage.Conditions{DoesNotExist: true}).NewWriter(ctx)
	w.ChunkSize = uploadChunk
	w.ContentType = info.ContentType
	w.Metadata = map[string]string{"fileName": info.Name}
	n, err := io.Copy(w, io.LimitReader(body, limit+1))
	switch {
	case err == nil && n > limit:
		err = chat.Errorf(chat.ETOOLARGE, "The file is larger than %d MiB.", limit>>20)
	case err != nil && chat.ErrorCode(err) == chat.EINTERNAL:
		err = fmt.Errorf("gcs put %s: %w", name, err)
	}
	if err != nil {
		// Abort before anything could complete the request: the upload's
		// body ends in an error, so the server makes no object. Cancelling
		// ctx alone (what the deprecation note suggests) races with Close,
		// which would finish the upload with the bytes so far.
		_ = w.CloseWithError(err) //nolint:staticcheck // see above
		cancel()
		_ = w.Close() // waits for the upload goroutine
		return 0, err
	}
	if err := w.Close(); err != nil {
		return 0, fmt.Errorf("gcs put %s: %w", name, err)
	}
	return n, nil
}

// Open implements chat.FileStore: one request for the attributes; the
// bytes are read by Content when asked for.
func (s *Store) Open(ctx context.Context, name string) (*chat.StoredFile, error) {
	obj := s.bucket.Object(name)
	a, err := obj.Attrs(ctx)
	if errors.Is(err, storage.ErrObjectNotExist) {
		return nil, chat.Errorf(chat.ENOTFOUND, "File not found.")
	} else if err != nil {
		return nil, fmt.Errorf("gcs open %s: %w", name, err)
	}
	// Pin the generation: the bytes served are the ones described.
	obj = obj.Generation(a.Generation)
	return &chat.StoredFile{
		FileInfo: chat.FileInfo{Name: a.Metadata["fileName"], ContentType: a.ContentType, Size: a.Size},
		ETag:     `"` + strconv.FormatInt(a.Generation, 36) + `"`,
		ModTime:  a.Created,
		Content:  &rangeReader{ctx: ctx, obj: obj, size: a.Size},
	}, nil
}

// Delete implements chat.FileStore.
func (s *Store) Delete(ctx context.Context, name string) error {
	err := s.bucket.Object(name).Delete(ctx)
	if err != nil && !errors.Is(err, storage.ErrObjectNotExist) {
		return fmt.Errorf("gcs delete %s: %w", name, err)
	}
	return nil
}

// DeletePrefix implements chat.FileStore, one listed object at a time.
func (s *Store) DeletePrefix(ctx context.Context, prefix string) error {
	it := s.bucket.Objects(ctx, &storage.Query{Prefix: prefix, Projection: storage.ProjectionNoACL})
	for {
		a, err := it.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		} else if err != nil {
			return fmt.Errorf("gcs list %s: %w", prefix, err)
		}
		if err := s.Delete(ctx, a.Name); err != nil {
			return err
		}
	}
}
