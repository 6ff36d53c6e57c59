package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Config is everything the server reads from the environment, with Cloud
// Run's conventions. It is read once, validated at start, and passed down.
type Config struct {
	Port      int
	ProjectID string
	// Database is the Firestore database ("(default)" unless
	// FIRESTORE_DATABASE names another: a project may hold several).
	Database                 string
	FirestoreEmulatorHost    string
	FirebaseAuthEmulatorHost string
	StorageEmulatorHost      string
	StorageBucket            string
	CORSOrigins              []string
	// MetricsAddr, if set, serves /metrics there (e.g. 127.0.0.1:9090);
	// off by default, never the public port.
	MetricsAddr string
	KService    string // set by Cloud Run
	LogLevel    string
	// PresenceGrace and PresenceLeaseTTL override presence timing (tests
	// and experiments; the defaults are the contract's).
	PresenceGrace, PresenceLeaseTTL time.Duration
	// ListenerRollover overrides how often listeners restart (default
	// 5 min). The emulator re-sends a listener's whole result set on every
	// change, so load runs on it use less (docs/performance.md).
	ListenerRollover time.Duration
	// WebAppURL, PushDelay and FCMEndpoint are the contract's push
	// settings (WEB_APP_URL, PUSH_DELAY, FCM_ENDPOINT); PushSweep
	// (PUSH_SWEEP) overrides how often pushes a dead instance owed are
	// looked for (tests).
	WebAppURL   string
	PushDelay   time.Duration
	FCMEndpoint string
	PushSweep   time.Duration
	// AccountLease and AccountSweep (ACCOUNT_LEASE, ACCOUNT_SWEEP)
	// override how long a deleted account's clean-up is leased and how
	// often lapsed ones are looked for (tests).
	AccountLease, AccountSweep time.Duration
}

// databaseID is Firestore's rule for a database id: a letter first, no
// hyphen last.
var databaseID = regexp.MustCompile(`^[a-z][a-z0-9-]{2,61}[a-z0-9]$`)

// LoadConfig reads the configuration from getenv and validates it. The
// error is one sentence an operator can act on.
func LoadConfig(getenv func(string) string) (Config, error) {
	c := Config{
		Port:                     8080,
		ProjectID:                strings.TrimSpace(getenv("GOOGLE_CLOUD_PROJECT")),
		Database:                 strings.TrimSpace(getenv("FIRESTORE_DATABASE")),
		FirestoreEmulatorHost:    strings.TrimSpace(getenv("FIRESTORE_EMULATOR_HOST")),
		FirebaseAuthEmulatorHost: strings.TrimSpace(getenv("FIREBASE_AUTH_EMULATOR_HOST")),
		StorageEmulatorHost:      strings.TrimSpace(getenv("STORAGE_EMULATOR_HOST")),
		StorageBucket:            strings.TrimSpace(getenv("STORAGE_BUCKET")),
		KService:                 strings.TrimSpace(getenv("K_SERVICE")),
		LogLevel:                 strings.TrimSpace(getenv("LOG_LEVEL")),
		MetricsAddr:              strings.TrimSpace(getenv("METRICS_ADDR")),
		WebAppURL:                strings.TrimSuffix(strings.TrimSpace(getenv("WEB_APP_URL")), "/"),
		FCMEndpoint:              strings.TrimSpace(getenv("FCM_ENDPOINT")),
	}
	durations := map[string]*time.Duration{"PRESENCE_GRACE": &c.PresenceGrace, "PRESENCE_LEASE_TTL": &c.PresenceLeaseTTL,
		"LISTENER_ROLLOVER": &c.ListenerRollover, "PUSH_DELAY": &c.PushDelay, "PUSH_SWEEP": &c.PushSweep,
		"ACCOUNT_LEASE": &c.AccountLease, "ACCOUNT_SWEEP": &c.AccountSweep}
	for name, d := range durations {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			parsed, err := time.ParseDuration(v)
			if err != nil || parsed <= 0 {
				return c, fmt.Errorf("%s must be a positive duration like 5s, got %q", name, v)
			}
			*d = parsed
		}
	}
	if p := strings.TrimSpace(getenv("PORT")); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return c, fmt.Errorf("PORT must be a port number, got %q", p)
		}
		c.Port = n
	}
	for _, o := range strings.Split(getenv("CORS_ORIGINS"), ",") {
		if o = strings.TrimSpace(o); o != "" {
			if strings.Contains(o, "*") {
				// A wildcard with credentials allowed would let any site use
				// a signed-in user's session: the contract says exact origins.
				return c, fmt.Errorf("CORS_ORIGINS must list exact origins; %q holds a wildcard", o)
			}
			if !strings.HasPrefix(o, "http://") && !strings.HasPrefix(o, "https://") {
				return c, fmt.Errorf("CORS_ORIGINS entries must be origins like https://app.example.com, got %q", o)
			}
			c.CORSOrigins = append(c.CORSOrigins, strings.TrimSuffix(o, "/"))
		}
	}
	if c.ProjectID == "" {
		return c, fmt.Errorf("GOOGLE_CLOUD_PROJECT must be set to the Firebase/GCP project id")
	}
	if c.Database == "" {
		c.Database = "(default)"
	} else if c.Database != "(default)" && !databaseID.MatchString(c.Database) {
		return c, fmt.Errorf("FIRESTORE_DATABASE must be (default) or a database id of 4-63 lowercase letters, digits and hyphens, got %q", c.Database)
	}
	if c.StorageBucket == "" {
		return c, fmt.Errorf("STORAGE_BUCKET must name the Cloud Storage bucket for attachments")
	}
	if c.WebAppURL != "" && !strings.HasPrefix(c.WebAppURL, "https://") && !strings.HasPrefix(c.WebAppURL, "http://") {
		return c, fmt.Errorf("WEB_APP_URL must be the web app's URL like https://chat.example.com, got %q", c.WebAppURL)
	}
	if c.KService != "" {
		// On Cloud Run an emulator host would make the Admin SDK accept
		// unsigned tokens: anyone could sign in as anyone; a fake FCM
		// would swallow every push.
		for name, v := range map[string]string{
			"FIRESTORE_EMULATOR_HOST":     c.FirestoreEmulatorHost,
			"FIREBASE_AUTH_EMULATOR_HOST": c.FirebaseAuthEmulatorHost,
			"STORAGE_EMULATOR_HOST":       c.StorageEmulatorHost,
			"FCM_ENDPOINT":                c.FCMEndpoint,
		} {
			if v != "" {
				return c, fmt.Errorf("%s is set while running on Cloud Run (K_SERVICE=%s): it is for development and tests only (emulators, a fake FCM); unset it", name, c.KService)
			}
		}
	}
	return c, nil
}
