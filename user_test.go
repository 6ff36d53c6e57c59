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
		"Trimmed":     {"  ana  ", "ana", ""},
		"Unicode64":   {strings.Repeat("\u00fc", 64), strings.Repeat("\u00fc", 64), ""},
		"ErrTooLong":  {strings.Repeat("\u00fc", 65), "", chat.EINVALID},
		"ErrEmpty":    {" \t", "", chat.EINVALID},
		"ErrControl":  {"a\x00b", "", chat.EINVALID},
		"ErrBadUTF8":  {"a\xffb", "", chat.EINVALID},
		"ErrNewline":  {"a\nb", "", chat.EINVALID},
		"InnerSpaces": {"Ana Smith", "Ana Smith", ""},
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
