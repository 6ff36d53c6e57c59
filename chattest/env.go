// Package chattest holds the helpers of the integration tests: emulator
// settings, real Firebase users from the Auth emulator, in-process server
// instances, a Socket.IO client and the contract's schema checks. Tests
// fail, never skip, when an emulator is missing: run them with `make test`.
package chattest

import (
	"context"
	"os"
	"sync"
	"testing"

	"github.com/chatapp/chat/firestore"
)

// Env is the emulators' settings as `make test` exports them.
type Env struct {
	Project       string
	FirestoreHost string
	AuthHost      string
}

// MustEnv returns the emulator settings or fails the test loudly.
func MustEnv(tb testing.TB) Env {
	tb.Helper()
	e := Env{
		Project:       os.Getenv("GOOGLE_CLOUD_PROJECT"),
		FirestoreHost: os.Getenv("FIRESTORE_EMULATOR_HOST"),
		AuthHost:      os.Getenv("FIREBASE_AUTH_EMULATOR_HOST"),
	}
	if e.Project == "" || e.FirestoreHost == "" || e.AuthHost == "" {
		tb.Fatalf("emulators not configured (GOOGLE_CLOUD_PROJECT=%q FIRESTORE_EMULATOR_HOST=%q FIREBASE_AUTH_EMULATOR_HOST=%q): run the tests with `make test`",
			e.Project, e.FirestoreHost, e.AuthHost)
	}
	return e
}

// MustOpenDB opens a Firestore client on the emulator, closed with the test.
func MustOpenDB(tb testing.TB) *firestore.DB {
	tb.Helper()
	env := MustEnv(tb)
	db, err := firestore.Open(context.Background(), env.Project)
	if err != nil {
		tb.Fatalf("open firestore: %v", err)
	}
	tb.Cleanup(func() { _ = db.Close() })
	return db
}

var seq struct {
	sync.Mutex
	n int
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
