package chat_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/chatapp/chat"
)

func TestCleanFileName(t *testing.T) {
	long := strings.Repeat("é", 300)
	for _, tc := range []struct{ name, in, want string }{
		{"plain", "report.pdf", "report.pdf"},
		{"unix path", "../../etc/passwd", "passwd"},
		{"windows path", `C:\Users\ana\photo.png`, "photo.png"},
		{"only dots", "..", "file"},
		{"empty", "", "file"},
		{"trailing slash", "dir/", "dir"},
		{"bidi override hides extension", "photo\u202Egnp.exe", "photognp.exe"},
		{"controls and zero width", "a\x00b\u200Bc\u2066.txt", "abc.txt"},
		{"invalid utf-8", "a\xffb.txt", "a\uFFFDb.txt"},
		{"surrounding spaces and dots", "  .hidden. ", "hidden"},
		{"unicode kept", "Grüße 日本.txt", "Grüße 日本.txt"},
		{"long keeps extension", long + ".jpeg", strings.Repeat("é", chat.MaxFileNameLen-5) + ".jpeg"},
		{"long with long extension", "a." + long, "a." + strings.Repeat("é", chat.MaxFileNameLen-2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := chat.CleanFileName(tc.in); got != tc.want {
				t.Fatalf("CleanFileName(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestInlineSafe(t *testing.T) {
	for typ, want := range map[string]bool{
		"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
		"image/svg+xml": false, "text/html; charset=utf-8": false, "text/xml; charset=utf-8": false,
		"application/pdf": false, "application/octet-stream": false, "": false,
	} {
		if got := chat.InlineSafe(typ); got != want {
			t.Errorf("InlineSafe(%q) = %v, want %v", typ, got, want)
		}
	}
}

func FuzzCleanFileName(f *testing.F) {
	for _, s := range []string{"a.txt", "../x", `a\b`, "\u202Eexe.png", "", ".", " . ", strings.Repeat("x", 250) + ".tar.gz", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := chat.CleanFileName(in)
		if got == "" || !utf8.ValidString(got) || utf8.RuneCountInString(got) > chat.MaxFileNameLen {
			t.Fatalf("CleanFileName(%q) = %q", in, got)
		}
		if strings.ContainsAny(got, `/\`) || got == "." || got == ".." || strings.ContainsFunc(got, func(r rune) bool {
			return r < 0x20 || (r >= 0x7F && r <= 0x9F) || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069) ||
				r == 0x200E || r == 0x200F || r == 0x061C || r == 0x200B || r == 0x2060 || r == 0xFEFF
		}) {
			t.Fatalf("CleanFileName(%q) = %q keeps a forbidden character", in, got)
		}
		if again := chat.CleanFileName(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", in, got, again)
		}
	})
}
