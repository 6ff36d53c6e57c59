// Package emoji decides what the contract accepts as a reaction: one
// grapheme cluster of at most 64 bytes that contains an
// Extended_Pictographic or Regional_Indicator code point or U+20E3
// (keycaps), and gives each emoji one stored form, so that forms differing
// only by U+FE0F (VARIATION SELECTOR-16) count as one.
//
// Segmentation and the emoji properties come from rivo/uniseg, which
// tracks the Unicode standard: no table here is written by hand.
package emoji

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// MaxBytes bounds an emoji in UTF-8 bytes (the contract's 64).
const MaxBytes = 64

const (
	vs16   = '\uFE0F' // asks for emoji presentation
	keycap = '\u20E3' // COMBINING ENCLOSING KEYCAP
	zwj    = "\u200D"
	heart  = "\u2764" // an Extended_Pictographic code point
)

// Normalize returns the stored form of s and true when s is one emoji, or
// "" and false. The stored form has U+FE0F after each code point that
// needs it to be shown as an emoji (text-presentation pictographs such as
// ❤, and keycap bases) and nowhere else.
func Normalize(s string) (string, bool) {
	if s == "" || len(s) > MaxBytes || !utf8.ValidString(s) || uniseg.GraphemeClusterCount(s) != 1 {
		return "", false
	}
	runes := []rune(strings.ReplaceAll(s, string(vs16), ""))
	var b strings.Builder
	found := false
	for i, r := range runes {
		b.WriteRune(r)
		pict := pictographic(r)
		found = found || pict || unicode.Is(unicode.Regional_Indicator, r) || r == keycap
		nextKeycap := i+1 < len(runes) && runes[i+1] == keycap
		if nextKeycap || pict && textDefault(r) && !modified(runes, i) {
			b.WriteRune(vs16)
		}
	}
	out := b.String()
	if !found || len(out) > MaxBytes || uniseg.GraphemeClusterCount(out) != 1 {
		return "", false
	}
	return out, true
}

// pictographic tells whether r is Extended_Pictographic. uniseg keeps the
// property unexported, but its grapheme rules expose it exactly: rule
// GB11 joins "r ZWJ ❤" into one cluster only when r is
// Extended_Pictographic (ZWJ always joins what precedes it, GB9).
func pictographic(r rune) bool {
	return uniseg.GraphemeClusterCount(string(r)+zwj+heart) == 1
}

// textDefault tells whether a pictograph is shown as text unless U+FE0F
// follows: uniseg gives emoji presentation a width of 2.
func textDefault(r rune) bool { return uniseg.StringWidth(string(r)) < 2 }

// modified tells whether the code point after runes[i] is a skin tone,
// which itself selects the emoji presentation.
func modified(runes []rune, i int) bool {
	return i+1 < len(runes) && runes[i+1] >= 0x1F3FB && runes[i+1] <= 0x1F3FF
}
