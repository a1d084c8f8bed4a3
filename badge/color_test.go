package badge

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func TestResolveColor(t *testing.T) {
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"brightgreen", "#4c1", false},
		{"BrightGreen", "#4c1", false},
		{"success", "#4c1", false},
		{"green", "#97ca00", false},
		{"yellowgreen", "#a4a61d", false},
		{"yellow", "#dfb317", false},
		{"orange", "#fe7d37", false},
		{"red", "#e05d44", false},
		{"critical", "#e05d44", false},
		{"blue", "#007ec6", false},
		{"grey", "#555", false},
		{"gray", "#555", false},
		{"lightgrey", "#9f9f9f", false},
		{"inactive", "#9f9f9f", false},
		{"#ABC", "#abc", false},
		{"abc", "#abc", false},
		{"#12aBcD", "#12abcd", false},
		{"12abcd", "#12abcd", false},
		{"", "", true},
		{"#", "", true},
		{"#1234", "rgba(17,34,51,0.267)", false},
		{"#12345", "", true},
		{"#12345g", "", true},
		// CSS colour names, which shields.io accepts too, drawn as hex.
		{"purple", "#800080", false},
		{"RebeccaPurple", "#663399", false},
		{"darkslategray", "#2f4f4f", false},
		// 4- and 8-digit hex carry alpha; shields takes them with "#" only.
		{"#f008", "rgba(255,0,0,0.533)", false},
		{"#11223344", "rgba(17,34,51,0.267)", false},
		{"#112233ff", "#112233", false},
		{"f008", "", true},
		{"11223344", "", true},
		// rgb()/rgba(), comma and space syntax, numbers and percentages,
		// clamped like CSS.
		{"rgb(1,2,3)", "#010203", false},
		{"RGB( 255 , 0 , 0 )", "#ff0000", false},
		{"rgb(100% 50% 0%)", "#ff8000", false},
		{"rgb(300, -5, 12.6)", "#ff000d", false},
		{"rgba(0, 0, 0, 0.5)", "rgba(0,0,0,0.5)", false},
		{"rgb(0 0 0 / 25%)", "rgba(0,0,0,0.25)", false},
		{"rgba(0,0,0,1)", "#000000", false},
		// hsl()/hsla() with hue units.
		{"hsl(0, 100%, 50%)", "#ff0000", false},
		{"hsl(120deg 100% 25%)", "#008000", false},
		{"hsl(0.5turn, 100%, 50%)", "#00ffff", false},
		{"hsl(-120, 100%, 50%)", "#0000ff", false},
		{"hsla(240, 100%, 50%, .5)", "rgba(0,0,255,0.5)", false},
		// Not colours.
		{"chartreuse-ish", "", true},
		{"rgb(1,2)", "", true},
		{"rgb(1,2,3,4,5)", "", true},
		{"rgb(a,b,c)", "", true},
		{"rgb(1 2 3 / )", "", true},
		{"rgb(1e999, 0, 0)", "", true},
		{"cmyk(1,2,3,4)", "", true},
		{"rgb(1,2,3", "", true},
		{`red" onload="x`, "", true},
		{"rgb(" + strings.Repeat("1,", 40) + "1)", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ResolveColor(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidColor) {
					t.Fatalf("ResolveColor(%q) = %q, %v; want ErrInvalidColor", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ResolveColor(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestTextColors(t *testing.T) {
	tests := []struct {
		bg, wantText string
	}{
		{"#4c1", "#fff"},    // brightgreen: 0.56
		{"#dfb317", "#fff"}, // yellow: 0.68, just under the 0.69 threshold
		{"#9f9f9f", "#fff"}, // lightgrey
		{"#555", "#fff"},    // grey
		{"#ffd", "#333"},    // cream
		{"#eeeeee", "#333"}, // light grey
		{"#FFFFFF", "#333"}, // upper-case hex
		{"#b0b0b0", "#fff"}, // 0.69: the threshold is inclusive
		{"#b1b1b1", "#fff"}, // 0.694 rounds to 0.69 first, as badge-maker does
		{"#b3b3b3", "#333"}, // 0.70
		{"white", "#333"},
		{"navy", "#fff"},
		{"rgb(255,255,255)", "#333"},
		{"rgba(255,255,255,0.1)", "#333"}, // alpha is ignored, as badge-maker does
		{"hsl(0, 0%, 100%)", "#333"},
		{"hsl(120 100% 25%)", "#fff"},
	}
	for _, tt := range tests {
		t.Run(tt.bg, func(t *testing.T) {
			bg, err := resolveColor(tt.bg)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := textColors(bg); got != tt.wantText {
				t.Errorf("text on %s (brightness %v) = %s, want %s", tt.bg, brightness(bg), got, tt.wantText)
			}
		})
	}
}

func TestUptimeColor(t *testing.T) {
	tests := []struct {
		pct  float64
		want string
	}{
		{100, ColorBrightGreen},
		{99.9, ColorBrightGreen},
		{99.89, ColorGreen},
		{99, ColorGreen},
		{98.99, ColorYellowGreen},
		{97, ColorYellowGreen},
		{96.5, ColorYellow},
		{95, ColorYellow},
		{94.9, ColorOrange},
		{90, ColorOrange},
		{89.99, ColorRed},
		{0, ColorRed},
		{math.NaN(), ColorLightGrey},
	}
	for _, tt := range tests {
		if got := UptimeColor(tt.pct); got != tt.want {
			t.Errorf("UptimeColor(%v) = %s, want %s", tt.pct, got, tt.want)
		}
	}
}

func TestStateColor(t *testing.T) {
	tests := []struct {
		state model.State
		want  string
	}{
		{model.StateUp, ColorBrightGreen},
		{model.StateDegraded, ColorOrange},
		{model.StateDown, ColorRed},
		{model.StateUnknown, ColorLightGrey},
		{model.State(42), ColorLightGrey},
	}
	for _, tt := range tests {
		t.Run(tt.state.String(), func(t *testing.T) {
			if got := StateColor(tt.state); got != tt.want {
				t.Errorf("StateColor(%v) = %s, want %s", tt.state, got, tt.want)
			}
		})
	}
}

func TestLatencyColor(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name       string
		d          time.Duration
		thresholds []time.Duration
		want       string
	}{
		{"default fast", 20 * ms, nil, ColorBrightGreen},
		{"default at first threshold", 100 * ms, nil, ColorGreen},
		{"default 300ms", 300 * ms, nil, ColorYellowGreen},
		{"default 700ms", 700 * ms, nil, ColorYellow},
		{"default 1.5s", 1500 * ms, nil, ColorOrange},
		{"default 2s", 2 * time.Second, nil, ColorRed},
		{"default slow", time.Minute, nil, ColorRed},
		{"not measured", -1, nil, ColorLightGrey},
		{"empty means default", 300 * ms, []time.Duration{}, ColorYellowGreen},
		{"one threshold below", 10 * ms, []time.Duration{50 * ms}, ColorBrightGreen},
		{"one threshold above", 60 * ms, []time.Duration{50 * ms}, ColorRed},
		{"two thresholds middle", 60 * ms, []time.Duration{50 * ms, 200 * ms}, ColorYellow},
		{"two thresholds top", 250 * ms, []time.Duration{50 * ms, 200 * ms}, ColorRed},
		{"three thresholds", 60 * ms, []time.Duration{50 * ms, 100 * ms, 200 * ms}, ColorYellowGreen},
		{"unsorted thresholds", 60 * ms, []time.Duration{200 * ms, 50 * ms}, ColorYellow},
		{"many thresholds", 5 * ms, []time.Duration{10 * ms, 20 * ms, 30 * ms, 40 * ms, 50 * ms, 60 * ms, 70 * ms, 80 * ms, 90 * ms, 100 * ms}, ColorBrightGreen},
		{"many thresholds second step", 15 * ms, []time.Duration{10 * ms, 20 * ms, 30 * ms, 40 * ms, 50 * ms, 60 * ms, 70 * ms, 80 * ms, 90 * ms, 100 * ms}, ColorGreen},
		{"many thresholds top", 100 * ms, []time.Duration{10 * ms, 20 * ms, 30 * ms, 40 * ms, 50 * ms, 60 * ms, 70 * ms, 80 * ms, 90 * ms, 100 * ms}, ColorRed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before []time.Duration
			before = append(before, tt.thresholds...)
			if got := LatencyColor(tt.d, tt.thresholds); got != tt.want {
				t.Errorf("LatencyColor(%v, %v) = %s, want %s", tt.d, tt.thresholds, got, tt.want)
			}
			for i := range before {
				if before[i] != tt.thresholds[i] {
					t.Fatalf("LatencyColor reordered the caller's thresholds: %v", tt.thresholds)
				}
			}
		})
	}
}

func TestDefaultLatencyThresholds_Fresh(t *testing.T) {
	a := DefaultLatencyThresholds()
	a[0] = time.Hour
	if b := DefaultLatencyThresholds(); b[0] == time.Hour {
		t.Fatal("DefaultLatencyThresholds returns shared state")
	}
}
