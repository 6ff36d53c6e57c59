package gcs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"cloud.google.com/go/storage"
)

// rangeReader is an object as an io.ReadSeekCloser for http.ServeContent:
// Seek only records where to read (the size is known), and the first Read
// after it opens one ranged request from there to the end. ServeContent
// seeks before each range it serves, so a range costs one request and a
// 304 none. It is used by one request's goroutine only.
type rangeReader struct {
	ctx  context.Context
	obj  *storage.ObjectHandle
	size int64
	off  int64
	r    *storage.Reader // open from off, or nil
}

func (r *rangeReader) Read(p []byte) (int, error) {
	if r.off >= r.size {
		return 0, io.EOF
	}
	if r.r == nil {
		rd, err := r.obj.NewRangeReader(r.ctx, r.off, -1)
		if err != nil {
			return 0, fmt.Errorf("gcs read %s at %d: %w", r.obj.ObjectName(), r.off, err)
		}
		r.r = rd
	}
	n, err := r.r.Read(p)
	r.off += int64(n)
	return n, err
}

func (r *rangeReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.size
	default:
		return 0, errors.New("gcs: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("gcs: negative position")
	}
	if offset != r.off {
		r.closeReader()
		r.off = offset
	}
	return offset, nil
}

func (r *rangeReader) Close() error {
	r.closeReader()
	return nil
}

func (r *rangeReader) closeReader() {
	if r.r != nil {
		_ = r.r.Close()
		r.r = nil
	}
}
