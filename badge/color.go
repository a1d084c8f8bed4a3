package badge

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// The shields.io colour names; any of them (or hex) may be used as a Color or
// LabelColor.
const (
	ColorBrightGreen = "brightgreen"
	ColorGreen       = "green"
	ColorYellowGreen = "yellowgreen"
	ColorYellow      = "yellow"
	ColorOrange      = "orange"
	ColorRed         = "red"
	ColorBlue        = "blue"
	ColorGrey        = "grey"
	ColorLightGrey   = "lightgrey"
)

// Defaults when a Badge leaves a colour empty: grey labels as on shields.io,
// and the neutral grey shields.io uses for endpoint badges without a colour.
const (
	defaultLabelColor = ColorGrey
	defaultColor      = ColorLightGrey
)

// namedHex maps shields.io colour names and aliases to the hex badge-maker
// draws them with. A function, not a map variable, so there is no package
// state to mutate.
func namedHex(name string) (string, bool) {
	switch name {
	case ColorBrightGreen, "success":
		return "#4c1", true
	case ColorGreen:
		return "#97ca00", true
	case ColorYellowGreen:
		return "#a4a61d", true
	case ColorYellow:
		return "#dfb317", true
	case ColorOrange, "important":
		return "#fe7d37", true
	case ColorRed, "critical":
		return "#e05d44", true
	case ColorBlue, "informational":
		return "#007ec6", true
	case ColorGrey, "gray":
		return "#555", true
	case ColorLightGrey, "lightgray", "inactive":
		return "#9f9f9f", true
	}
	return "", false
}

// ResolveColor returns the SVG fill for a colour, accepting what shields.io
// accepts: its names and aliases (case-insensitive), 3- or 6-digit hex with
// or without "#", 4- or 8-digit hex with "#", CSS colour names, and rgb(),
// rgba(), hsl() and hsla(). Hex is normalised to lower case with "#"; other
// forms become "#rrggbb", or "rgba(...)" when translucent, written by this
// package. It fails with ErrInvalidColor for anything else, so a caller can
// validate a user-supplied colour before building a Badge.
func ResolveColor(c string) (string, error) {
	p, err := resolveColor(c)
	return p.fill, err
}

// resolveColor is ResolveColor with the colour's RGB and endpoint-JSON name.
func resolveColor(c string) (paint, error) {
	if len(c) <= maxColorLen {
		lc := strings.ToLower(strings.TrimSpace(c))
		if hex, ok := namedHex(lc); ok {
			p, _ := hexPaint(hex[1:])
			p.json = lc // shields resolves its names itself
			return p, nil
		}
		h, hash := strings.CutPrefix(c, "#")
		if len(h) == 3 || len(h) == 6 || (hash && (len(h) == 4 || len(h) == 8)) {
			if p, ok := hexPaint(h); ok {
				return p, nil
			}
		}
		if p, ok := cssNamed(lc); ok {
			return p, nil
		}
		if p, ok := cssFunction(lc); ok {
			return p, nil
		}
	}
	if len(c) > maxColorLen {
		c = c[:maxColorLen] + "..."
	}
	return paint{}, fmt.Errorf("badge: colour %q (want a shields.io name such as brightgreen, hex such as 4c1 or #44cc11, a CSS colour name, rgb() or hsl()): %w", c, ErrInvalidColor)
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// brightness is badge-maker's perceived brightness of a colour, in [0, 1]
// rounded to two decimals.
func brightness(p paint) float64 {
	v := float64(int(p.r)*299+int(p.g)*587+int(p.b)*114) / 255000
	return math.Round(v*100) / 100
}

func hexDigit(c byte) int {
	switch {
	case c >= 'a':
		return int(c-'a') + 10
	case c >= 'A':
		return int(c-'A') + 10
	}
	return int(c - '0')
}

// textColors returns the text and shadow fills that read well on bg.
func textColors(bg paint) (text, shadow string) {
	if brightness(bg) <= 0.69 {
		return "#fff", "#010101"
	}
	return "#333", "#ccc"
}

// UptimeColor colours an uptime percentage: >=99.9 brightgreen, >=99 green,
// >=97 yellowgreen, >=95 yellow, >=90 orange, otherwise red. NaN (no data) is
// lightgrey.
func UptimeColor(pct float64) string {
	switch {
	case math.IsNaN(pct):
		return ColorLightGrey
	case pct >= 99.9:
		return ColorBrightGreen
	case pct >= 99:
		return ColorGreen
	case pct >= 97:
		return ColorYellowGreen
	case pct >= 95:
		return ColorYellow
	case pct >= 90:
		return ColorOrange
	}
	return ColorRed
}

// StateColor colours a check state: up brightgreen, degraded orange, down red,
// unknown lightgrey.
func StateColor(s model.State) string {
	switch s {
	case model.StateUp:
		return ColorBrightGreen
	case model.StateDegraded:
		return ColorOrange
	case model.StateDown:
		return ColorRed
	}
	return ColorLightGrey
}

// latencyLadder is the colour scale latency thresholds map onto, best first.
func latencyLadder(i int) string {
	return [...]string{ColorBrightGreen, ColorGreen, ColorYellowGreen, ColorYellow, ColorOrange, ColorRed}[i]
}

// DefaultLatencyThresholds returns the thresholds LatencyColor uses when given
// none: below 100ms brightgreen, 250ms green, 500ms yellowgreen, 1s yellow,
// 2s orange, and red from 2s on. The slice is new on every call.
func DefaultLatencyThresholds() []time.Duration {
	return []time.Duration{100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second}
}

// LatencyColor colours a latency by thresholds (ascending; an unsorted slice is
// sorted on a copy). A latency below thresholds[0] is brightgreen and one at or
// above the last is red; with other than five thresholds the steps in between
// spread evenly over green, yellowgreen, yellow and orange. Nil or empty
// thresholds mean DefaultLatencyThresholds. A negative latency (not measured)
// is lightgrey.
func LatencyColor(d time.Duration, thresholds []time.Duration) string {
	if d < 0 {
		return ColorLightGrey
	}
	if len(thresholds) == 0 {
		thresholds = DefaultLatencyThresholds()
	} else if !slices.IsSorted(thresholds) {
		thresholds = slices.Sorted(slices.Values(thresholds))
	}
	step := 0
	for _, t := range thresholds {
		if d >= t {
			step++
		}
	}
	const top = 5 // index of red in latencyLadder
	k := len(thresholds)
	return latencyLadder((2*step*top + k) / (2 * k))
}
