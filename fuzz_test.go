package chat_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chatapp/chat"
)

// The fuzz targets below cover every decoder of client input in the domain
// package. `make test` runs each for a few seconds (dev/fuzz.sh); their
// corpora are in testdata/fuzz.

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"abc", "", "a/b", "..", "__x__", strings.Repeat("x", 129), "\xff", "a\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := chat.ValidateID("id", id)
		if err != nil {
			if chat.ErrorCode(err) != chat.EINVALID {
				t.Fatalf("code %q", chat.ErrorCode(err))
			}
			return
		}
		if id == "" || len(id) > chat.MaxIDLen || strings.ContainsAny(id, "/\x00") || !utf8.ValidString(id) || id == "." || id == ".." {
			t.Fatalf("accepted %q", id)
		}
	})
}

func FuzzPageLimit(f *testing.F) {
	f.Add(0)
	f.Add(-1)
	f.Add(101)
	f.Add(50)
	f.Fuzz(func(t *testing.T, n int) {
		got, err := chat.PageLimit(n, chat.DefaultPageLimit, chat.MaxPageLimit)
		if err != nil {
			if chat.ErrorCode(err) != chat.EINVALID || (n >= 1 && n <= chat.MaxPageLimit) || n == 0 {
				t.Fatalf("limit %d refused: %v", n, err)
			}
			return
		}
		if got < 1 || got > chat.MaxPageLimit {
			t.Fatalf("limit %d gave %d", n, got)
		}
	})
}

func FuzzNames(f *testing.F) {
	for _, s := range []string{"ana", " ana ", "a\u202Eb", "\u200B", "a\u200Db", "https://x.example/p.png", "javascript:x", strings.Repeat("é", 70), "\xff", "ok\xc3", "\xed\xa0\x80"} {
		f.Add(s)
	}
	bad := func(s string) bool {
		return strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x20 || (r >= 0x7F && r <= 0x9F) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
				r == 0x200E || r == 0x200F || r == 0x061C || r == 0x200B || r == 0x2060 || r == 0xFEFF
		})
	}
	f.Fuzz(func(t *testing.T, s string) {
		if name, err := chat.ValidateUsername(s); err == nil {
			if bad(name) || name == "" || utf8.RuneCountInString(name) > chat.MaxUsernameLen {
				t.Fatalf("username %q accepted", name)
			}
		} else if chat.ErrorCode(err) != chat.EINVALID {
			t.Fatalf("code %q", chat.ErrorCode(err))
		}
		if err := (chat.MessageCreate{Content: s, ClientMessageID: s}).Validate(); err == nil && !utf8.ValidString(s) {
			t.Fatalf("message with invalid UTF-8 %q accepted", s)
		}
		if name, err := chat.ValidateChatName(s); err == nil && (bad(name) || utf8.RuneCountInString(name) > chat.MaxChatNameLen) {
			t.Fatalf("chat name %q accepted", name)
		}
		if err := chat.ValidateProfilePic(s); err == nil && s != "" && !strings.HasPrefix(strings.ToLower(s), "https://") { // schemes are case-insensitive
			t.Fatalf("picture %q accepted", s)
		}
		// A name from a token is cleaned, never refused.
		base := chat.BaseUsername(chat.Identity{Name: s, Email: s + "@x"})
		if _, err := chat.ValidateUsername(base); err != nil {
			t.Fatalf("base username %q of %q is invalid: %v", base, s, err)
		}
	})
}
