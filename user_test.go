package chat_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/chatapp/chat"
)

func TestValidateUsername(t *testing.T) {
	for name, tc := range map[string]struct {
		in, want string
		code     string
	}{
		"Trimmed":        {"  ana  ", "ana", ""},
		"Unicode64":      {strings.Repeat("\u00fc", 64), strings.Repeat("\u00fc", 64), ""},
		"ErrTooLong":     {strings.Repeat("\u00fc", 65), "", chat.EINVALID},
		"ErrEmpty":       {" \t", "", chat.EINVALID},
		"ErrControl":     {"a\x00b", "", chat.EINVALID},
		"ErrBadUTF8":     {"a\xffb", "", chat.EINVALID},
		"ErrNewline":     {"a\nb", "", chat.EINVALID},
		"InnerSpaces":    {"Ana Smith", "Ana Smith", ""},
		"ErrRTLOverride": {"ana\u202Egnp.exe", "", chat.EINVALID},
		"ErrIsolate":     {"a\u2066b", "", chat.EINVALID},
		"ErrLRM":         {"a\u200Eb", "", chat.EINVALID},
		"ErrALM":         {"a\u061Cb", "", chat.EINVALID},
		"ErrZeroWidth":   {"a\u200Bb", "", chat.EINVALID},
		"ErrWordJoiner":  {"a\u2060b", "", chat.EINVALID},
		"ErrBOM":         {"\uFEFFana", "", chat.EINVALID},
		"ErrC1":          {"a\u0085b", "", chat.EINVALID},
		"ZWJEmoji":       {"ana \U0001F469\u200D\U0001F4BB", "ana \U0001F469\u200D\U0001F4BB", ""},
		"ZWNJ":           {"\u0645\u06CC\u200C\u062E\u0648\u0627\u0645", "\u0645\u06CC\u200C\u062E\u0648\u0627\u0645", ""},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := chat.ValidateUsername(tc.in)
			if code := chat.ErrorCode(err); code != tc.code || got != tc.want {
				t.Fatalf("got %q %q, want %q %q", got, code, tc.want, tc.code)
			}
		})
	}
}

func TestBaseUsername(t *testing.T) {
	for name, tc := range map[string]struct {
		id   chat.Identity
		want string
	}{
		"Name":          {chat.Identity{Name: "Ana", Email: "x@y"}, "Ana"},
		"EmailLocal":    {chat.Identity{Email: "bob.b@example.com"}, "bob.b"},
		"Fallback":      {chat.Identity{}, "user"},
		"BlankName":     {chat.Identity{Name: "  ", Email: "c@d"}, "c"},
		"LongNameCut":   {chat.Identity{Name: strings.Repeat("n", 80)}, strings.Repeat("n", 64)},
		"ControlInName": {chat.Identity{Name: "a\x01b"}, "ab"},
		"BidiCleaned":   {chat.Identity{Name: "\u202Eana\u200B"}, "ana"},
		"OnlyInvisible": {chat.Identity{Name: "\u200B\uFEFF", Email: "d@e"}, "d"},
	} {
		t.Run(name, func(t *testing.T) {
			if got := chat.BaseUsername(tc.id); got != tc.want {
				t.Fatalf("got %q want %q", got, tc.want)
			}
		})
	}
}

func TestSuffixedUsername(t *testing.T) {
	if got := chat.SuffixedUsername("ana", 2); got != "ana2" {
		t.Fatal(got)
	}
	long := strings.Repeat("\u00e9", 64)
	got := chat.SuffixedUsername(long, 12)
	if r := []rune(got); len(r) != 64 || string(r[62:]) != "12" {
		t.Fatalf("got %q", got)
	}
}

func TestErrorCode(t *testing.T) {
	if chat.ErrorCode(nil) != "" || chat.ErrorCode(errors.ErrUnsupported) != chat.EINTERNAL {
		t.Fatal("codes")
	}
	if chat.ErrorMessage(errors.ErrUnsupported) == errors.ErrUnsupported.Error() {
		t.Fatal("internal error text leaked")
	}
}

func TestValidateChatName(t *testing.T) {
	for name, tc := range map[string]struct{ in, code string }{
		"Plain":          {"Team", ""},
		"Empty":          {"", ""},
		"ZWJ":            {"\U0001F468\u200D\U0001F469\u200D\U0001F467", ""},
		"ErrRTLOverride": {"team\u202E", chat.EINVALID},
		"ErrZeroWidth":   {"te\u200Bam", chat.EINVALID},
		"ErrControl":     {"a\x07", chat.EINVALID},
		"ErrTooLong":     {strings.Repeat("x", 65), chat.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := chat.ValidateChatName(tc.in)
			if code := chat.ErrorCode(err); code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
		})
	}
}

func TestValidateProfilePic(t *testing.T) {
	for name, tc := range map[string]struct{ in, code string }{
		"Empty":         {"", ""},
		"HTTPS":         {"https://cdn.example.com/a.png", ""},
		"ErrHTTP":       {"http://cdn.example.com/a.png", chat.EINVALID},
		"ErrJavascript": {"javascript:alert(1)", chat.EINVALID},
		"ErrData":       {"data:image/png;base64,AAAA", chat.EINVALID},
		"ErrRelative":   {"/a.png", chat.EINVALID},
		"ErrNoHost":     {"https:///a.png", chat.EINVALID},
		"ErrControl":    {"https://a.example/\x00", chat.EINVALID},
		"ErrTooLong":    {"https://a.example/" + strings.Repeat("x", 2048), chat.EINVALID},
	} {
		t.Run(name, func(t *testing.T) {
			if code := chat.ErrorCode(chat.ValidateProfilePic(tc.in)); code != tc.code {
				t.Fatalf("code %q, want %q", code, tc.code)
			}
		})
	}
}
