package badge

import (
	"fmt"
	"strconv"
	"strings"
)

// Badge is what a badge says and how it looks.
type Badge struct {
	// Label is the left text; empty renders the message alone.
	Label string
	// Message is the right text; it must not be empty.
	Message string
	// Color is the message background: a shields.io name or hex (see
	// ResolveColor). Empty is lightgrey.
	Color string
	// LabelColor is the label background; empty is grey (#555).
	LabelColor string
	// Style is the visual style; the zero value is flat.
	Style Style
}

// FontFamily is the font-family of badge text: DejaVu Sans first because
// widths are measured from it, then the fonts shields.io names.
const FontFamily = "DejaVu Sans,Verdana,Geneva,sans-serif"

// Render returns the badge as a standalone SVG document. It fails when the
// message is empty, a colour is invalid or the style is unknown.
func Render(b Badge) ([]byte, error) {
	return AppendSVG(make([]byte, 0, 1280), b)
}

// AppendSVG appends the badge's SVG to dst and returns the extended slice, for
// callers that reuse buffers. On error dst is returned unchanged.
func AppendSVG(dst []byte, b Badge) ([]byte, error) {
	p, err := prepare(b)
	if err != nil {
		return dst, err
	}
	switch b.Style {
	case StyleFlat, StyleFlatSquare, StylePlastic:
		return appendFlat(dst, p, flatLookOf(b.Style)), nil
	case StyleForTheBadge:
		return appendForTheBadge(dst, p), nil
	case StyleSocial:
		return appendSocial(dst, p), nil
	}
	return dst, fmt.Errorf("badge: render %v: %w", b.Style, ErrUnknownStyle)
}

// prepared is a validated badge: clean text and resolved fills.
type prepared struct {
	label, message     string
	labelFill, msgFill paint
}

func prepare(b Badge) (prepared, error) {
	p := prepared{label: sanitize(b.Label), message: sanitize(b.Message)}
	if strings.TrimSpace(p.message) == "" {
		return p, fmt.Errorf("badge: label %q: %w", b.Label, ErrEmptyMessage)
	}
	var err error
	if p.msgFill, err = resolveColor(orDefault(b.Color, defaultColor)); err != nil {
		return p, err
	}
	if p.labelFill, err = resolveColor(orDefault(b.LabelColor, defaultLabelColor)); err != nil {
		return p, err
	}
	if !b.Style.valid() {
		return p, fmt.Errorf("badge: render %v: %w", b.Style, ErrUnknownStyle)
	}
	return p, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Layout numbers from badge-maker. Text is drawn at ten times the size inside
// transform="scale(.1)" so coordinates keep a decimal of precision as integers.
const (
	flatHeight    = 20
	flatPadding   = 5
	scale         = 10
	ftbHeight     = 28
	ftbTextMargin = 12
)

// flatLook is what tells apart the styles badge-maker draws on one skeleton
// (two boxes, 5 px padding, 11 px text measured regular): flat, flat-square
// and plastic.
type flatLook struct {
	height int
	// radius rounds the corners through a clip path; 0 draws square corners
	// with crispEdges.
	radius int
	// gradient is the <linearGradient> laid over both boxes, with id gradID;
	// empty for none.
	gradient, gradID string
	// clipID prefixes the clip path's id, which ends in the width: badges
	// inlined into one page share an id only when their clip shapes are
	// identical anyway, and each style has its own prefix.
	clipID string
	// textY is the text baseline at ten times the size; the shadow, when
	// drawn, sits 1 px lower.
	textY  int
	shadow bool
}

// flatLookOf returns the look of badge-maker's flat, flat-square or
// plastic template (a function, not package variables, so there is no
// state to mutate).
func flatLookOf(s Style) flatLook {
	switch s {
	case StyleFlatSquare:
		return flatLook{height: flatHeight, textY: 140}
	case StylePlastic:
		// 18 px high with 4 px corners and a glossy four-stop gradient; the
		// text sits 1 px higher than flat's (badge-maker's vertical margin
		// of -10 at ten times the size). Its own ids keep a flat badge on
		// the same page from lending it the flat gradient.
		return flatLook{
			height: 18, radius: 4, gradID: "sp", clipID: "rp", textY: 130, shadow: true,
			gradient: `<linearGradient id="sp" x2="0" y2="100%"><stop offset="0" stop-color="#fff" stop-opacity=".7"/><stop offset=".1" stop-color="#aaa" stop-opacity=".1"/><stop offset=".9" stop-color="#000" stop-opacity=".3"/><stop offset="1" stop-color="#000" stop-opacity=".5"/></linearGradient>`,
		}
	}
	return flatLook{
		height: flatHeight, radius: 3, gradID: "s", clipID: "r", textY: 140, shadow: true,
		gradient: `<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>`,
	}
}

func appendFlat(dst []byte, p prepared, look flatLook) []byte {
	var labelW, leftW int
	if p.label != "" {
		labelW = preferredWidth(p.label)
		leftW = labelW + 2*flatPadding
	}
	msgW := preferredWidth(p.message)
	rightW := msgW + 2*flatPadding
	width := leftW + rightW
	// badge-maker nudges text 1 px right of the box centre (labels start at a
	// margin of 1, messages overlap the label box by 1); kept for the same look.
	msgMargin := 0
	if p.label != "" {
		msgMargin = leftW - 1
	}

	dst = appendOpen(dst, float64(width), look.height, p)
	dst = append(dst, look.gradient...)
	if look.radius > 0 {
		dst = append(dst, `<clipPath id="`...)
		dst = append(dst, look.clipID...)
		dst = strconv.AppendInt(dst, int64(width), 10)
		dst = append(dst, `"><rect width="`...)
		dst = strconv.AppendInt(dst, int64(width), 10)
		dst = append(dst, `" height="`...)
		dst = strconv.AppendInt(dst, int64(look.height), 10)
		dst = append(dst, `" rx="`...)
		dst = strconv.AppendInt(dst, int64(look.radius), 10)
		dst = append(dst, `" fill="#fff"/></clipPath><g clip-path="url(#`...)
		dst = append(dst, look.clipID...)
		dst = strconv.AppendInt(dst, int64(width), 10)
		dst = append(dst, `)">`...)
	} else {
		dst = append(dst, `<g shape-rendering="crispEdges">`...)
	}
	if leftW > 0 {
		dst = appendRect(dst, 0, float64(leftW), look.height, p.labelFill)
	}
	dst = appendRect(dst, float64(leftW), float64(rightW), look.height, p.msgFill)
	if look.gradient != "" {
		dst = append(dst, `<rect width="`...)
		dst = strconv.AppendInt(dst, int64(width), 10)
		dst = append(dst, `" height="`...)
		dst = strconv.AppendInt(dst, int64(look.height), 10)
		dst = append(dst, `" fill="url(#`...)
		dst = append(dst, look.gradID...)
		dst = append(dst, `)"/>`...)
	}
	dst = append(dst, `</g><g fill="#fff" text-anchor="middle" font-family="`+FontFamily+`" text-rendering="geometricPrecision" font-size="110">`...)
	if p.label != "" {
		dst = appendFlatText(dst, look, p.label, 1, labelW, p.labelFill)
	}
	dst = appendFlatText(dst, look, p.message, msgMargin, msgW, p.msgFill)
	return append(dst, `</g></svg>`...)
}

// appendFlatText writes one run of flat text (and its shadow) centred in a box
// starting at margin.
func appendFlatText(dst []byte, look flatLook, text string, margin, textW int, bg paint) []byte {
	fill, shadowFill := textColors(bg)
	x := float64(scale*margin) + float64(scale*textW)/2 + scale*flatPadding
	length := float64(scale * textW)
	if look.shadow {
		dst = append(dst, `<text aria-hidden="true" x="`...)
		dst = appendNum(dst, x)
		dst = append(dst, `" y="`...)
		dst = strconv.AppendInt(dst, int64(look.textY+scale), 10)
		dst = append(dst, `" fill="`...)
		dst = append(dst, shadowFill...)
		dst = append(dst, `" fill-opacity=".3" transform="scale(.1)" textLength="`...)
		dst = appendNum(dst, length)
		dst = append(dst, `">`...)
		dst = appendEscaped(dst, text)
		dst = append(dst, `</text>`...)
	}
	dst = append(dst, `<text x="`...)
	dst = appendNum(dst, x)
	dst = append(dst, `" y="`...)
	dst = strconv.AppendInt(dst, int64(look.textY), 10)
	dst = append(dst, `" transform="scale(.1)" fill="`...)
	dst = append(dst, fill...)
	dst = append(dst, `" textLength="`...)
	dst = appendNum(dst, length)
	dst = append(dst, `">`...)
	dst = appendEscaped(dst, text)
	return append(dst, `</text>`...)
}

func appendForTheBadge(dst []byte, p prepared) []byte {
	label, message := strings.ToUpper(p.label), strings.ToUpper(p.message)
	labelW := spacedWidth(label, regular)
	msgW := spacedWidth(message, bold)
	var leftW float64
	msgMinX := float64(ftbTextMargin)
	if label != "" {
		leftW = ftbTextMargin + labelW + ftbTextMargin
		msgMinX += leftW
	}
	rightW := 2*ftbTextMargin + msgW
	width := leftW + rightW

	dst = appendOpen(dst, width, ftbHeight, p)
	dst = append(dst, `<g shape-rendering="crispEdges">`...)
	if label != "" {
		dst = appendRect(dst, 0, leftW, ftbHeight, p.labelFill)
	}
	dst = appendRect(dst, leftW, rightW, ftbHeight, p.msgFill)
	dst = append(dst, `</g><g fill="#fff" text-anchor="middle" font-family="`+FontFamily+`" text-rendering="geometricPrecision" font-size="100">`...)
	if label != "" {
		dst = appendFTBText(dst, label, ftbTextMargin, labelW, p.labelFill, false)
	}
	dst = appendFTBText(dst, message, msgMinX, msgW, p.msgFill, true)
	return append(dst, `</g></svg>`...)
}

func appendFTBText(dst []byte, text string, minX, textW float64, bg paint, bold bool) []byte {
	fill, _ := textColors(bg)
	dst = append(dst, `<text transform="scale(.1)" x="`...)
	dst = appendNum(dst, scale*(minX+textW/2))
	dst = append(dst, `" y="175" textLength="`...)
	dst = appendNum(dst, scale*textW)
	dst = append(dst, `" fill="`...)
	dst = append(dst, fill...)
	if bold {
		dst = append(dst, `" font-weight="bold`...)
	}
	dst = append(dst, `">`...)
	dst = appendEscaped(dst, text)
	return append(dst, `</text>`...)
}

// appendOpen writes the root element and the accessible name (aria-label for
// the img role, <title> for tooltips and older readers). The name keeps the
// original case even for for-the-badge: screen readers spell out capitals.
func appendOpen(dst []byte, width float64, height int, p prepared) []byte {
	dst = append(dst, `<svg xmlns="http://www.w3.org/2000/svg" width="`...)
	dst = appendNum(dst, width)
	dst = append(dst, `" height="`...)
	dst = strconv.AppendInt(dst, int64(height), 10)
	dst = append(dst, `" role="img" aria-label="`...)
	dst = appendAccessible(dst, p)
	dst = append(dst, `"><title>`...)
	dst = appendAccessible(dst, p)
	return append(dst, `</title>`...)
}

// appendAccessible writes "label: message" (or the message alone), escaped.
func appendAccessible(dst []byte, p prepared) []byte {
	if p.label != "" {
		dst = appendEscaped(dst, p.label)
		dst = append(dst, ": "...)
	}
	return appendEscaped(dst, p.message)
}

func appendRect(dst []byte, x, width float64, height int, fill paint) []byte {
	dst = append(dst, `<rect `...)
	if x != 0 {
		dst = append(dst, `x="`...)
		dst = appendNum(dst, x)
		dst = append(dst, `" `...)
	}
	dst = append(dst, `width="`...)
	dst = appendNum(dst, width)
	dst = append(dst, `" height="`...)
	dst = strconv.AppendInt(dst, int64(height), 10)
	dst = append(dst, `" fill="`...)
	dst = append(dst, fill.fill...)
	return append(dst, `"/>`...)
}

// appendNum writes v in the shortest form that reads back exactly; layout
// values are multiples of 0.25 so this never prints long fractions.
func appendNum(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

// appendEscaped writes s escaped for both XML text and double- or
// single-quoted attribute values. s is already sanitized.
func appendEscaped(dst []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var esc string
		switch s[i] {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		default:
			continue
		}
		dst = append(dst, s[last:i]...)
		dst = append(dst, esc...)
		last = i + 1
	}
	return append(dst, s[last:]...)
}
