// Package chattest holds the helpers of the integration tests: emulator
// settings, real Firebase users from the Auth emulator, in-process server
// instances, a Socket.IO client and the contract's schema checks. Tests
// fail, never skip, when an emulator is missing: run them with `make test`.
package chattest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/chatapp/chat/firestore"
	"github.com/chatapp/chat/gcs"
)

// Env is the emulators' settings as `make test` exports them.
type Env struct {
	Project       string
	FirestoreHost string
	AuthHost      string
	StorageHost   string
	// Bucket is the bucket `make test` creates; tests that count objects
	// make their own (MustBucket).
	Bucket string
}

// MustEnv returns the emulator settings or fails the test loudly.
func MustEnv(tb testing.TB) Env {
	tb.Helper()
	e := Env{
		Project:       os.Getenv("GOOGLE_CLOUD_PROJECT"),
		FirestoreHost: os.Getenv("FIRESTORE_EMULATOR_HOST"),
		AuthHost:      os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"),
		StorageHost:   os.Getenv("STORAGE_EMULATOR_HOST"),
		Bucket:        os.Getenv("STORAGE_BUCKET"),
	}
	if e.Project == "" || e.FirestoreHost == "" || e.AuthHost == "" || e.StorageHost == "" || e.Bucket == "" {
		tb.Fatalf("emulators not configured (GOOGLE_CLOUD_PROJECT=%q FIRESTORE_EMULATOR_HOST=%q FIREBASE_AUTH_EMULATOR_HOST=%q STORAGE_EMULATOR_HOST=%q STORAGE_BUCKET=%q): run the tests with `make test`",
			e.Project, e.FirestoreHost, e.AuthHost, e.StorageHost, e.Bucket)
	}
	return e
}

// MustFileStore opens the attachment store on bucket (the shared one when
// empty), closed with the test.
func MustFileStore(tb testing.TB, bucket string) *gcs.Store {
	tb.Helper()
	if bucket == "" {
		bucket = MustEnv(tb).Bucket
	}
	s, err := gcs.Open(context.Background(), bucket)
	if err != nil {
		tb.Fatalf("open bucket: %v", err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// MustOpenDB opens a Firestore client on the emulator, on the test's
// database (Database), closed with the test.
func MustOpenDB(tb testing.TB) *firestore.DB {
	tb.Helper()
	env := MustEnv(tb)
	db, err := firestore.Open(context.Background(), env.Project, Database(tb), nil)
	if err != nil {
		tb.Fatalf("open firestore: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

var seq struct {
	sync.Mutex
	n  int
	db map[string]string // top-level test → its database
}

// Database returns the Firestore database of the test: one per top-level
// test and process, shared by its subtests, instances and clients. The
// emulator's queries scan every document of a database, so a test on a
// database of its own costs the same whatever ran before it, and tests
// running in parallel do not slow each other's queries.
func Database(tb testing.TB) string {
	top, _, _ := strings.Cut(tb.Name(), "/")
	seq.Lock()
	defer seq.Unlock()
	if seq.db == nil {
		seq.db = map[string]string{}
	}
	id, ok := seq.db[top]
	if !ok {
		seq.n++
		id = fmt.Sprintf("t%d-%d", os.Getpid(), seq.n)
		seq.db[top] = id
	}
	return id
}

// Unique returns a number unique within the test process, to keep the
// names of one test's data apart from another's on the shared emulator.
func Unique() int { return next() }

// next returns a number unique within the test process.
func next() int {
	seq.Lock()
	defer seq.Unlock()
	seq.n++
	return seq.n
}
