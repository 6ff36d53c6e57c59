package chat

import (
	"context"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxUsernameLen is the contract's limit, in Unicode code points.
const MaxUsernameLen = 64

// MaxProfilePicLen bounds a profile picture URL; the contract does not fix
// one, and an unbounded string is a storage abuse vector.
const MaxProfilePicLen = 2048

// User is a profile as the contract's UserPublic shows it. LastSeen is nil
// until the user first connects a socket.
type User struct {
	ID         string
	Username   string
	ProfilePic string
	LastSeen   *time.Time
	Online     bool
	// Privacy is the user's own choices, when read with the profile (nil
	// otherwise); only its owner is ever shown it.
	Privacy *Privacy
}

// UserUpdate holds the fields of PATCH /api/me; nil leaves a field alone.
type UserUpdate struct {
	Username     *string
	ProfilePic   *string
	ReadReceipts *bool
}

// UserFilter selects users by username prefix, case-insensitively.
type UserFilter struct {
	Prefix string
	Limit  int
}

// UserService manages profiles. Every method acts for the caller found in ctx.
type UserService interface {
	// Me returns the caller's profile, creating it from the token on first call.
	Me(ctx context.Context) (*User, error)
	// UpdateMe changes the caller's username or picture.
	UpdateMe(ctx context.Context, upd UserUpdate) (*User, error)
	// FindUsers searches by username prefix.
	FindUsers(ctx context.Context, filter UserFilter) ([]*User, error)
}

// ValidateUsername trims name and checks it against the contract. Control
// characters are refused: they render as nothing and enable impersonation.
func ValidateUsername(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Errorf(EINVALID, "Username must not be empty.")
	}
	if n := utf8.RuneCountInString(name); n > MaxUsernameLen {
		return "", Errorf(EINVALID, "Username must be at most %d characters.", MaxUsernameLen)
	}
	if !utf8.ValidString(name) || strings.IndexFunc(name, forbiddenInName) >= 0 {
		return "", Errorf(EINVALID, "Username must not contain control, bidirectional or invisible formatting characters.")
	}
	return name, nil
}

// forbiddenInName reports the characters the contract refuses in user and
// chat names: C0/C1 controls; the bidi controls U+202A–U+202E,
// U+2066–U+2069, U+200E, U+200F, U+061C, which can make a name display as
// another (U+202E turns "gnp.exe" around); and the invisible U+200B,
// U+2060, U+FEFF, which make look-alike duplicates. ZWJ and ZWNJ stay:
// emoji sequences and several scripts need them.
func forbiddenInName(r rune) bool {
	switch {
	case unicode.IsControl(r):
		return true
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069:
		return true
	}
	switch r {
	case 0x200E, 0x200F, 0x061C, 0x200B, 0x2060, 0xFEFF:
		return true
	}
	return false
}

// ValidateProfilePic checks a picture URL: empty, or an https URL with a
// host (a javascript: or data: URL in an <img> or link is an attack on the
// people who see it).
func ValidateProfilePic(pic string) error {
	if pic == "" {
		return nil
	}
	if utf8.RuneCountInString(pic) > MaxProfilePicLen {
		return Errorf(EINVALID, "Profile picture must be at most %d characters.", MaxProfilePicLen)
	}
	u, err := url.Parse(pic)
	if err != nil || u.Scheme != "https" || u.Host == "" || strings.IndexFunc(pic, unicode.IsControl) >= 0 {
		return Errorf(EINVALID, "Profile picture must be an https:// URL.")
	}
	return nil
}

// BaseUsername is the name a new profile starts from: the token's name,
// else the email's local part, else "user".
func BaseUsername(id Identity) string {
	candidates := []string{id.Name}
	if at := strings.IndexByte(id.Email, '@'); at > 0 {
		candidates = append(candidates, id.Email[:at])
	}
	for _, c := range candidates {
		if name, err := ValidateUsername(c); err == nil {
			return name
		}
		// A too-long name is cut rather than dropped: the user chose it.
		c = strings.TrimSpace(strings.Map(func(r rune) rune {
			if forbiddenInName(r) {
				return -1
			}
			return r
		}, c))
		if r := []rune(c); len(r) > 0 {
			if len(r) > MaxUsernameLen {
				r = r[:MaxUsernameLen]
			}
			if name, err := ValidateUsername(string(r)); err == nil {
				return name
			}
		}
	}
	return "user"
}

// SuffixedUsername returns base with numeric suffix n (n ≥ 2), cutting base
// so the result stays within MaxUsernameLen.
func SuffixedUsername(base string, n int) string {
	if n < 2 {
		return base
	}
	suffix := []rune(strconv.Itoa(n))
	r := []rune(base)
	if len(r)+len(suffix) > MaxUsernameLen {
		r = r[:MaxUsernameLen-len(suffix)]
	}
	return string(r) + string(suffix)
}
