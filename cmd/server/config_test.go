package main

import (
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	t.Run("Defaults", func(t *testing.T) {
		c, err := LoadConfig(env(map[string]string{"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b"}))
		if err != nil || c.Port != 8080 || c.ProjectID != "p" || c.Database != "(default)" || len(c.CORSOrigins) != 0 {
			t.Fatalf("got %+v %v", c, err)
		}
	})
	t.Run("Everything", func(t *testing.T) {
		c, err := LoadConfig(env(map[string]string{
			"GOOGLE_CLOUD_PROJECT": "p", "PORT": "9090", "CORS_ORIGINS": " https://a.example.com/ ,http://localhost:5173",
			"STORAGE_BUCKET": "b", "FIRESTORE_EMULATOR_HOST": "127.0.0.1:1", "FIRESTORE_DATABASE": "chat-eu",
			"WEB_APP_URL": "https://chat.example.com/", "PUSH_DELAY": "3s", "FCM_ENDPOINT": "http://127.0.0.1:2",
		}))
		if err != nil || c.Port != 9090 || c.Database != "chat-eu" || strings.Join(c.CORSOrigins, " ") != "https://a.example.com http://localhost:5173" || c.StorageBucket != "b" ||
			c.WebAppURL != "https://chat.example.com" || c.PushDelay != 3*time.Second || c.FCMEndpoint != "http://127.0.0.1:2" {
			t.Fatalf("got %+v %v", c, err)
		}
	})
	for name, m := range map[string]map[string]string{
		"ErrNoProject":              {"STORAGE_BUCKET": "b"},
		"ErrNoBucket":               {"GOOGLE_CLOUD_PROJECT": "p"},
		"ErrBadDatabase":            {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "FIRESTORE_DATABASE": "Chat_EU"},
		"ErrDatabaseEndsHyphen":     {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "FIRESTORE_DATABASE": "chat-"},
		"ErrBadPort":                {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "PORT": "http"},
		"ErrPortRange":              {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "PORT": "70000"},
		"ErrBadGrace":               {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "PRESENCE_GRACE": "5"},
		"ErrBadRollover":            {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "LISTENER_ROLLOVER": "-1m"},
		"ErrBadOrigin":              {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "CORS_ORIGINS": "example.com"},
		"ErrWildcardOrigin":         {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "CORS_ORIGINS": "https://a.example.com,*"},
		"ErrWildcardInOrigin":       {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "CORS_ORIGINS": "https://*.example.com"},
		"ErrAuthEmulatorOnRun":      {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "K_SERVICE": "chat", "FIREBASE_AUTH_EMULATOR_HOST": "x:1"},
		"ErrFirestoreEmulatorOnRun": {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "K_SERVICE": "chat", "FIRESTORE_EMULATOR_HOST": "x:1"},
		"ErrStorageEmulatorOnRun":   {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "K_SERVICE": "chat", "STORAGE_EMULATOR_HOST": "x:1"},
		"ErrFakeFCMOnRun":           {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "K_SERVICE": "chat", "FCM_ENDPOINT": "http://x:1"},
		"ErrBadPushDelay":           {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "PUSH_DELAY": "ten"},
		"ErrBadWebAppURL":           {"GOOGLE_CLOUD_PROJECT": "p", "STORAGE_BUCKET": "b", "WEB_APP_URL": "chat.example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := LoadConfig(env(m)); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
