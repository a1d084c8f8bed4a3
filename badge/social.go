package badge

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// Geometry of badge-maker's social template: a 20 px badge whose label sits
// in a light outlined box and whose message sits in a speech bubble 6 px to
// its right, both drawn as 19 px boxes offset by half a pixel so the 1 px
// outline falls on whole pixels. Both texts are bold 11 px.
const (
	socialHeight       = 20
	socialInnerHeight  = 19
	socialLabelPadding = 5
	socialMsgPadding   = 4
	socialGutter       = 6
)

// socialFontFamily names DejaVu Sans first, because social widths are
// measured from DejaVu Sans Bold, then the fonts shields.io's social style
// asks for.
const socialFontFamily = "DejaVu Sans,Helvetica Neue,Helvetica,Arial,sans-serif"

// appendSocial draws the social style. Like shields.io it ignores the
// badge's colours (the look is GitHub's grey buttons) and capitalises the
// first letter of the label; the accessible name keeps the label as given.
func appendSocial(dst []byte, p prepared) []byte {
	label := capitalize(p.label)
	labelW := bold.preferredWidth(label)
	labelRect := labelW + 2*socialLabelPadding
	msgW := bold.preferredWidth(p.message)
	msgRect := msgW + 2*socialMsgPadding
	bubbleX := labelRect + socialGutter // where the bubble's notch starts
	width := labelRect + 1 + socialGutter + msgRect

	dst = appendOpen(dst, float64(width), socialHeight, p)
	dst = append(dst, `<linearGradient id="so" x2="0" y2="100%"><stop offset="0" stop-color="#fcfcfc" stop-opacity="0"/><stop offset="1" stop-opacity=".1"/></linearGradient>`...)
	dst = append(dst, `<g stroke="#d5d5d5"><rect stroke="none" fill="#fcfcfc" x=".5" y=".5" width="`...)
	dst = strconv.AppendInt(dst, int64(labelRect), 10)
	dst = append(dst, `" height="19" rx="2"/><rect x="`...)
	dst = appendNum(dst, float64(bubbleX)+.5)
	dst = append(dst, `" y=".5" width="`...)
	dst = strconv.AppendInt(dst, int64(msgRect), 10)
	dst = append(dst, `" height="19" rx="2" fill="#fafafa"/><rect x="`...)
	// The notch: a short light stroke hides the bubble's outline where the
	// arrow joins it, and the path draws the arrow pointing at the label.
	dst = strconv.AppendInt(dst, int64(bubbleX), 10)
	dst = append(dst, `" y="7.5" width=".5" height="5" stroke="#fafafa"/><path d="M`...)
	dst = appendNum(dst, float64(bubbleX)+.5)
	dst = append(dst, ` 6.5 l-3 3v1 l3 3" fill="#fafafa"/></g>`...)

	// The text group is hidden from assistive technology: the root's
	// aria-label and <title> already say "label: message".
	dst = append(dst, `<g aria-hidden="true" fill="#333" text-anchor="middle" font-family="`+socialFontFamily+`" text-rendering="geometricPrecision" font-weight="700" font-size="110">`...)
	dst = append(dst, `<rect stroke="#d5d5d5" fill="url(#so)" x=".5" y=".5" width="`...)
	dst = strconv.AppendInt(dst, int64(labelRect), 10)
	dst = append(dst, `" height="19" rx="2"/>`...)
	dst = appendSocialText(dst, label, scale*labelW/2+scale*socialLabelPadding, labelW)
	dst = appendSocialText(dst, p.message, scale*bubbleX+scale*msgRect/2, msgW)
	return append(dst, `</g></svg>`...)
}

// appendSocialText writes a run of social text centred on x (at ten times
// the size) with its white emboss 1 px below.
func appendSocialText(dst []byte, text string, x, textW int) []byte {
	if text == "" {
		return dst
	}
	for _, y := range [2]string{"150", "140"} {
		dst = append(dst, `<text `...)
		if y == "150" {
			dst = append(dst, `aria-hidden="true" `...)
		}
		dst = append(dst, `x="`...)
		dst = strconv.AppendInt(dst, int64(x), 10)
		dst = append(dst, `" y="`...)
		dst = append(dst, y...)
		if y == "150" {
			dst = append(dst, `" fill="#fff`...)
		}
		dst = append(dst, `" transform="scale(.1)" textLength="`...)
		dst = strconv.AppendInt(dst, int64(scale*textW), 10)
		dst = append(dst, `">`...)
		dst = appendEscaped(dst, text)
		dst = append(dst, `</text>`...)
	}
	return dst
}

// capitalize upper-cases the first letter, as the social style shows
// labels.
func capitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	if u := unicode.ToUpper(r); u != r {
		return string(u) + s[n:]
	}
	return s
}
