package emoji_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chatapp/chat/emoji"
)

func TestNormalize(t *testing.T) {
	kiss := "\U0001F469\U0001F3FB\u200D\u2764\uFE0F\u200D\U0001F48B\u200D\U0001F468\U0001F3FC" // 👩🏻‍❤️‍💋‍👨🏼
	tests := []struct {
		name, in, want string // want "" for refused
	}{
		{"ThumbsUp", "👍", "👍"},
		{"SkinTone", "👍🏽", "👍🏽"},
		{"ZWJFamily", "👨‍👩‍👧", "👨‍👩‍👧"},
		{"Flag", "🇫🇷", "🇫🇷"},
		{"Keycap", "1️⃣", "1️⃣"},
		{"KeycapWithoutVS16", "1\u20E3", "1️⃣"},
		{"KissSequence35Bytes", kiss, kiss},
		{"KissWithoutVS16", strings.ReplaceAll(kiss, "\uFE0F", ""), kiss},
		{"HeartText", "\u2764", "\u2764\uFE0F"},
		{"HeartEmoji", "\u2764\uFE0F", "\u2764\uFE0F"},
		{"ThumbsUpWithVS16", "👍\uFE0F", "👍"},
		{"ErrLetter", "a", ""},
		{"ErrDigit", "1", ""},
		{"ErrWhitespace", " ", ""},
		{"ErrEmpty", "", ""},
		{"ErrTwoEmoji", "👍👍", ""},
		{"ErrEmojiAndLetter", "👍a", ""},
		{"ErrVS16Alone", "\uFE0F", ""},
		{"ErrInvalidUTF8", "\xff", ""},
		{"Err65Bytes", "👍" + strings.Repeat("\U000E0061", 15) + "\u200B", ""},
	}
	if n := len(kiss); n != 35 {
		t.Fatalf("kiss sequence is %d bytes", n)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := emoji.Normalize(tc.in)
			if ok != (tc.want != "") || got != tc.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tc.in, got, ok, tc.want)
			}
		})
	}
	t.Run("Err65BytesLong", func(t *testing.T) {
		// A tag sequence (one cluster) just over the bound.
		s := "\U0001F3F4" + strings.Repeat("\U000E0067", 15) + "\U000E007F"
		if len(s) <= emoji.MaxBytes {
			t.Fatalf("%d bytes", len(s))
		}
		if _, ok := emoji.Normalize(s); ok {
			t.Fatalf("a %d-byte emoji accepted", len(s))
		}
	})
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"👍", "❤", "1️⃣", "🇫🇷", "a", "👍👍", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := emoji.Normalize(s)
		if !ok {
			if got != "" {
				t.Fatalf("refused %q but returned %q", s, got)
			}
			return
		}
		if len(got) > emoji.MaxBytes || !utf8.ValidString(got) {
			t.Fatalf("Normalize(%q) = %q", s, got)
		}
		again, ok := emoji.Normalize(got)
		if !ok || again != got {
			t.Fatalf("not stable: %q → %q → %q, %v", s, got, again, ok)
		}
		if bare := strings.ReplaceAll(s, "\uFE0F", ""); bare != "" {
			if alt, ok := emoji.Normalize(bare); ok && alt != got {
				t.Fatalf("%q and %q differ only by U+FE0F but store as %q and %q", s, bare, got, alt)
			}
		}
	})
}
