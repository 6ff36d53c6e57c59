package firestore

import (
	"sync"

	"github.com/chatapp/chat"
)

const (
	// maxUserUploads is the contract's uploads in progress per user and
	// instance: enough for a person sending a few photos at once.
	maxUserUploads = 3
	// uploadBuffer is what one upload in progress holds in memory: the
	// Cloud Storage client's resumable chunk (gcs.uploadChunk).
	uploadBuffer = 512 << 10
	// uploadMemory is the part of an instance's memory (512 MiB on the
	// smallest Cloud Run size we deploy) that uploads may hold together.
	uploadMemory = 64 << 20
	// maxUploads is the instance-wide cap that follows: 128 uploads.
	maxUploads = uploadMemory / uploadBuffer
)

// uploadSlots counts the uploads in progress on this instance, per user and
// in all, so that no user, and no crowd of users, can make the instance
// hold more upload buffers than it has memory for. A slot is taken before
// anything is written for an upload and given back when it has ended.
type uploadSlots struct {
	mu     sync.Mutex
	byUser map[string]int // guarded by mu; users with none are absent
	total  int            // guarded by mu
}

func newUploadSlots() *uploadSlots { return &uploadSlots{byUser: map[string]int{}} }

// take reserves a slot for uid, or refuses with ERATELIMITED; the caller
// calls release once the upload has ended.
func (s *uploadSlots) take(uid string) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.byUser[uid] >= maxUserUploads:
		return nil, chat.Errorf(chat.ERATELIMITED, "At most %d uploads may be in progress at once; retry when one has ended.", maxUserUploads)
	case s.total >= maxUploads:
		return nil, chat.Errorf(chat.ERATELIMITED, "The server is taking too many uploads now; retry.")
	}
	s.byUser[uid]++
	s.total++
	var once sync.Once
	return func() { once.Do(func() { s.give(uid) }) }, nil
}

func (s *uploadSlots) give(uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total--
	if s.byUser[uid]--; s.byUser[uid] == 0 {
		delete(s.byUser, uid)
	}
}
