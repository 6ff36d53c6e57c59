// Package firestore implements the domain services on Cloud Firestore and
// turns its snapshot listeners into realtime events. It is the only package
// that knows Firestore types; everything leaves it as domain types and
// *chat.Error.
package firestore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/chatapp/chat"
)

// DB is an open Firestore client shared by the services of one process.
type DB struct {
	client *firestore.Client
	// Now is the clock; tests may replace it before use.
	Now func() time.Time
	// Log takes what fails after a request has its answer (clean-ups that
	// the sweepers will retry); the wiring sets it before use.
	Log *slog.Logger
}

// grpcPool sizes the client's connection pool: Firestore serves about 100
// listen streams per gRPC connection, and an instance with 1,000 users runs
// about 3 × 1000/29 + 1000/30 ≈ 138 listeners (see docs/design.md).
const grpcPool = 4

// Open connects to the project's Firestore database (database "" is the
// default one). With FIRESTORE_EMULATOR_HOST set the client library talks
// to the emulator without credentials.
// m, if not nil, counts the operations; opts add to the client's options
// (tests put a gRPC interceptor there).
func Open(ctx context.Context, projectID, database string, m Meter, opts ...option.ClientOption) (*DB, error) {
	if database == "" {
		database = firestore.DefaultDatabaseID
	}
	base := []option.ClientOption{option.WithGRPCConnectionPool(grpcPool)}
	if m != nil {
		mo, err := meterOptions(m, os.Getenv("FIRESTORE_EMULATOR_HOST"))
		if err != nil {
			return nil, fmt.Errorf("firestore meter: %w", err)
		}
		base = append(base, mo...)
	}
	client, err := firestore.NewClientWithDatabase(ctx, projectID, database, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("firestore client: %w", err)
	}
	return &DB{client: client, Now: time.Now, Log: slog.Default()}, nil
}

// Close releases the client.
func (db *DB) Close() error { return db.client.Close() }

// Ping reads one document, answering whether Firestore serves this process:
// the readiness probe.
func (db *DB) Ping(ctx context.Context) error {
	_, err := db.client.Collection("health").Doc("ping").Get(ctx)
	if err != nil && status.Code(err) != codes.NotFound {
		return fmt.Errorf("firestore ping: %w", err)
	}
	return nil
}

// now returns the current time at the millisecond precision the contract
// renders, so that stored and emitted times order alike.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Millisecond) }

// translate is the one place storage errors become domain errors. Domain
// errors pass through; a cancelled caller stays a context error; the rest
// is internal and keeps its cause for the log at the edge.
func translate(err error) error {
	var e *chat.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	switch status.Code(err) {
	case codes.NotFound:
		return chat.Errorf(chat.ENOTFOUND, "Not found.")
	case codes.Canceled:
		// Our context is not done (checked above): the server cancelled
		// the call itself. That is its failure, not the client leaving.
		return fmt.Errorf("firestore: call cancelled by the server: %w", err)
	}
	return fmt.Errorf("firestore: %w", err)
}

func isNotFound(err error) bool      { return status.Code(err) == codes.NotFound }
func isAlreadyExists(err error) bool { return status.Code(err) == codes.AlreadyExists }
func isFailedPrecondition(err error) bool {
	return status.Code(err) == codes.FailedPrecondition
}
