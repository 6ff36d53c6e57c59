package firestore_test

import (
	"fmt"
	"testing"

	"github.com/chatapp/chat"
	"github.com/chatapp/chat/firestore"
)

func TestUploadSlots(t *testing.T) {
	s := firestore.NewUploadSlots()
	t.Run("ErrFourthOfUser", func(t *testing.T) {
		var releases []func()
		for range 3 {
			release, err := s.Take("ana")
			if err != nil {
				t.Fatal(err)
			}
			releases = append(releases, release)
		}
		_, err := s.Take("ana")
		code(t, err, chat.ERATELIMITED)
		releases[0]()
		releases[0]() // a second release gives nothing back twice
		release, err := s.Take("ana")
		if err != nil {
			t.Fatalf("after a release: %v", err)
		}
		_, err = s.Take("ana")
		code(t, err, chat.ERATELIMITED)
		for _, r := range append(releases[1:], release) {
			r()
		}
	})
	t.Run("ErrInstanceFull", func(t *testing.T) {
		var releases []func()
		for i := range firestore.MaxUploads {
			release, err := s.Take(fmt.Sprint("user", i))
			if err != nil {
				t.Fatalf("slot %d: %v", i, err)
			}
			releases = append(releases, release)
		}
		_, err := s.Take("one-more")
		code(t, err, chat.ERATELIMITED)
		releases[0]()
		if _, err := s.Take("one-more"); err != nil {
			t.Fatalf("after a release: %v", err)
		}
	})
}
