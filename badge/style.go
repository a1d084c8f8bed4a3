package badge

import (
	"fmt"
	"strconv"
)

// Style is the visual style of a badge. The zero value is StyleFlat.
type Style uint8

// The styles, named as in shields.io's style= parameter. New styles are
// appended so stored or hashed numbers keep their meaning.
const (
	StyleFlat        Style = iota // rounded corners, subtle gradient and text shadow
	StyleFlatSquare               // square corners, no gradient, no shadow
	StyleForTheBadge              // 28 px high, upper-case spaced text
	StylePlastic                  // 18 px high, rounder corners, glossy gradient
	StyleSocial                   // GitHub-like: outlined label, message in a speech bubble
)

// styleNames is the list ParseStyle's error offers, in the order of the
// constants.
const styleNames = "flat, flat-square, for-the-badge, plastic or social"

// String returns the shields.io name of the style.
func (s Style) String() string {
	switch s {
	case StyleFlat:
		return "flat"
	case StyleFlatSquare:
		return "flat-square"
	case StyleForTheBadge:
		return "for-the-badge"
	case StylePlastic:
		return "plastic"
	case StyleSocial:
		return "social"
	}
	return "Style(" + strconv.Itoa(int(s)) + ")"
}

// ParseStyle parses a shields.io style name. The empty string is StyleFlat, so
// an absent style= query parameter needs no special case; anything else
// unknown fails with ErrUnknownStyle.
func ParseStyle(s string) (Style, error) {
	switch s {
	case "", "flat":
		return StyleFlat, nil
	case "flat-square":
		return StyleFlatSquare, nil
	case "for-the-badge":
		return StyleForTheBadge, nil
	case "plastic":
		return StylePlastic, nil
	case "social":
		return StyleSocial, nil
	}
	return StyleFlat, fmt.Errorf("badge: style %q (want %s): %w", s, styleNames, ErrUnknownStyle)
}

// StyleNames lists the accepted style names for messages ("flat,
// flat-square, ..., or social"), so callers word refusals the same way.
func StyleNames() string { return styleNames }

// valid reports whether s is one of the constants.
func (s Style) valid() bool { return s <= StyleSocial }

// MarshalText encodes the style as its name.
func (s Style) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("badge: marshal %v: %w", s, ErrUnknownStyle)
	}
	return []byte(s.String()), nil
}

// UnmarshalText parses a style name with ParseStyle.
func (s *Style) UnmarshalText(b []byte) error {
	v, err := ParseStyle(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}
