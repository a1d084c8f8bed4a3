package badge

import (
	"math"
	"strconv"
	"strings"

	"golang.org/x/image/colornames"
)

// paint is a resolved colour: the SVG fill to draw, how the endpoint JSON
// names it, and its RGB for the text-contrast rule (alpha is ignored there,
// as badge-maker ignores it).
type paint struct {
	fill    string
	json    string
	r, g, b uint8
}

// maxColorLen bounds a colour before it is parsed: the longest sensible
// form, "hsla(359.999deg, 100.000%, 100.000%, 0.999)", is well below it.
const maxColorLen = 64

// cssNamed resolves a CSS named colour (SVG 1.1's 147 keywords plus CSS
// Color 4's rebeccapurple), which shields.io accepts through
// css-color-converter. The fill is hex: every SVG viewer reads it, while
// rebeccapurple is unknown to SVG 1.1 viewers.
func cssNamed(name string) (paint, bool) {
	if name == "rebeccapurple" {
		return paint{fill: "#663399", json: name, r: 0x66, g: 0x33, b: 0x99}, true
	}
	c, ok := colornames.Map[name]
	if !ok {
		return paint{}, false
	}
	return fromRGBA(name, c.R, c.G, c.B, 1), true
}

// fromRGBA is the paint of an sRGB colour with alpha in [0, 1]: "#rrggbb"
// when opaque, "rgba(r,g,b,a)" otherwise. Either way the fill is text this
// package wrote, never the caller's input. json is the endpoint-JSON name;
// empty means the fill.
func fromRGBA(json string, r, g, b uint8, alpha float64) paint {
	var fill []byte
	if alpha >= 1 {
		fill = append(fill, '#')
		for _, v := range [3]uint8{r, g, b} {
			fill = append(fill, "0123456789abcdef"[v>>4], "0123456789abcdef"[v&15])
		}
	} else {
		fill = append(fill, "rgba("...)
		for _, v := range [3]uint8{r, g, b} {
			fill = strconv.AppendInt(fill, int64(v), 10)
			fill = append(fill, ',')
		}
		fill = strconv.AppendFloat(fill, math.Round(max(alpha, 0)*1000)/1000, 'f', -1, 64)
		fill = append(fill, ')')
	}
	if json == "" {
		json = string(fill)
	}
	return paint{fill: string(fill), json: json, r: r, g: g, b: b}
}

// hexPaint parses 3, 4, 6 or 8 hex digits (no "#"); 4 and 8 carry alpha.
func hexPaint(h string) (paint, bool) {
	if !isHex(h) {
		return paint{}, false
	}
	digit := func(i int) uint8 { return uint8(hexDigit(h[i])) }
	switch len(h) {
	case 3, 6:
		// Kept as written (lower case), as existing badges draw them.
		fill := "#" + strings.ToLower(h)
		if len(h) == 3 {
			return paint{fill: fill, json: fill, r: 17 * digit(0), g: 17 * digit(1), b: 17 * digit(2)}, true
		}
		return paint{fill: fill, json: fill, r: 16*digit(0) + digit(1), g: 16*digit(2) + digit(3), b: 16*digit(4) + digit(5)}, true
	case 4:
		return fromRGBA("", 17*digit(0), 17*digit(1), 17*digit(2), float64(17*digit(3))/255), true
	case 8:
		return fromRGBA("", 16*digit(0)+digit(1), 16*digit(2)+digit(3), 16*digit(4)+digit(5), float64(16*digit(6)+digit(7))/255), true
	}
	return paint{}, false
}

// cssFunction parses rgb(), rgba(), hsl() and hsla() in the legacy comma
// syntax ("rgb(255, 0, 0)") and the modern space syntax ("rgb(255 0 0 /
// 50%)"). Channels may be numbers or percentages; out-of-range values are
// clamped as CSS clamps them. s is lower case.
func cssFunction(s string) (paint, bool) {
	open := strings.IndexByte(s, '(')
	if open < 0 || !strings.HasSuffix(s, ")") {
		return paint{}, false
	}
	name, inner := strings.TrimSpace(s[:open]), s[open+1:len(s)-1]
	var args []string
	if strings.Contains(inner, ",") {
		for _, a := range strings.Split(inner, ",") {
			args = append(args, strings.TrimSpace(a))
		}
	} else {
		main, alpha, slash := strings.Cut(inner, "/")
		args = strings.Fields(main)
		if slash {
			if len(args) != 3 {
				return paint{}, false
			}
			args = append(args, strings.TrimSpace(alpha))
		}
	}
	if len(args) != 3 && len(args) != 4 {
		return paint{}, false
	}
	alpha := 1.0
	if len(args) == 4 {
		a, ok := cssNumber(args[3], 1)
		if !ok {
			return paint{}, false
		}
		alpha = clamp(a, 0, 1)
	}
	switch name {
	case "rgb", "rgba":
		var c [3]uint8
		for i := range c {
			v, ok := cssNumber(args[i], 255)
			if !ok {
				return paint{}, false
			}
			c[i] = uint8(math.Round(clamp(v, 0, 255)))
		}
		return fromRGBA("", c[0], c[1], c[2], alpha), true
	case "hsl", "hsla":
		h, ok := cssHue(args[0])
		if !ok {
			return paint{}, false
		}
		sat, ok1 := cssNumber(args[1], 100)
		light, ok2 := cssNumber(args[2], 100)
		if !ok1 || !ok2 {
			return paint{}, false
		}
		r, g, b := hslToRGB(h, clamp(sat, 0, 100)/100, clamp(light, 0, 100)/100)
		return fromRGBA("", r, g, b, alpha), true
	}
	return paint{}, false
}

// cssNumber parses a finite number, or a percentage of full.
func cssNumber(s string, full float64) (float64, bool) {
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	if pct {
		v = v / 100 * full
	}
	return v, true
}

// cssHue parses a hue in degrees (bare or deg) or in rad, grad or turn, and
// wraps it into [0, 360).
func cssHue(s string) (float64, bool) {
	factor := 1.0
	for _, u := range []struct {
		suffix string
		deg    float64
	}{{"deg", 1}, {"grad", 0.9}, {"rad", 180 / math.Pi}, {"turn", 360}} {
		if strings.HasSuffix(s, u.suffix) {
			s, factor = strings.TrimSuffix(s, u.suffix), u.deg
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, false
	}
	v = math.Mod(v*factor, 360)
	if v < 0 {
		v += 360
	}
	return v, true
}

// hslToRGB converts hue (degrees), saturation and lightness (0-1) to sRGB
// with the CSS Color 4 formula.
func hslToRGB(h, s, l float64) (r, g, b uint8) {
	f := func(n float64) uint8 {
		k := math.Mod(n+h/30, 12)
		a := s * min(l, 1-l)
		v := l - a*max(-1, min(k-3, 9-k, 1))
		return uint8(math.Round(clamp(v, 0, 1) * 255))
	}
	return f(0), f(8), f(4)
}

func clamp(v, lo, hi float64) float64 { return min(max(v, lo), hi) }
