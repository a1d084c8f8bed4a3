package badge

import (
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// face is one of the measured fonts.
type face uint8

const (
	regular face = iota // DejaVu Sans
	bold                // DejaVu Sans Bold
)

// advance returns the advance width of r in font units.
func (f face) advance(r rune) int {
	widths, average := regularWidths, regularAverage
	if f == bold {
		widths, average = boldWidths, boldAverage
	}
	if i := tableIndex(r); i >= 0 {
		w := uint16(widths[2*i])<<8 | uint16(widths[2*i+1])
		if w != noGlyph {
			return int(w)
		}
	}
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Cc):
		return 0
	case isWide(r):
		// Browsers fall back to a CJK or emoji font, whose glyphs are square.
		return unitsPerEm
	}
	return average
}

// width returns the advance of s in pixels at size px, without kerning (as
// badge-maker's measurements).
func (f face) width(s string, px float64) float64 {
	units := 0
	for _, r := range s {
		units += f.advance(r)
	}
	return float64(units) * px / unitsPerEm
}

// preferredWidth is badge-maker's text box width for flat styles: the
// truncated measurement rounded up to odd, which keeps the centred text on the
// pixel grid.
func preferredWidth(s string) int { return regular.preferredWidth(s) }

// preferredWidth is preferredWidth measured in face f at 11 px: the social
// style measures both of its texts bold.
func (f face) preferredWidth(s string) int {
	w := int(f.width(s, 11))
	if w%2 == 0 {
		w++
	}
	return w
}

// spacedWidth is badge-maker's for-the-badge text width: the truncated
// measurement at 10 px plus 1.25 px of letter spacing per character.
func spacedWidth(s string, f face) float64 {
	if s == "" {
		return 0
	}
	return math.Trunc(f.width(s, 10)) + 1.25*float64(utf8.RuneCountInString(s))
}

// isWide reports East Asian wide and fullwidth characters and emoji.
func isWide(r rune) bool {
	switch {
	case r >= 0x1100 && r <= 0x115F, // Hangul Jamo
		r >= 0x2E80 && r <= 0x303E, // CJK radicals, punctuation
		r >= 0x3041 && r <= 0x33FF, // kana, CJK compatibility
		r >= 0x3400 && r <= 0x4DBF, // CJK extension A
		r >= 0x4E00 && r <= 0x9FFF, // CJK unified ideographs
		r >= 0xA000 && r <= 0xA4CF, // Yi
		r >= 0xAC00 && r <= 0xD7A3, // Hangul syllables
		r >= 0xF900 && r <= 0xFAFF, // CJK compatibility ideographs
		r >= 0xFE30 && r <= 0xFE4F, // CJK compatibility forms
		r >= 0xFF00 && r <= 0xFF60, // fullwidth forms
		r >= 0xFFE0 && r <= 0xFFE6,
		r >= 0x1F300 && r <= 0x1F64F, // emoji
		r >= 0x1F900 && r <= 0x1FAFF,
		r >= 0x20000 && r <= 0x3FFFD: // CJK extensions B and later
		return true
	}
	return false
}

// sanitize makes s safe to measure and to put in XML: tabs and line breaks
// become spaces, other control characters and code points XML forbids are
// dropped, invalid UTF-8 becomes U+FFFD. Plain text is returned as is.
func sanitize(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			b.WriteByte(' ')
		case unicode.IsControl(r), r >= 0xFFFE && r <= 0xFFFF, r >= 0xD800 && r <= 0xDFFF:
			// dropped: not allowed (or not sensible) in XML text
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes: valid XML
		}
	}
	return b.String()
}
