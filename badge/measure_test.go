package badge

import (
	"strings"
	"testing"
)

func TestAdvance(t *testing.T) {
	tests := []struct {
		name string
		f    face
		r    rune
		want int
	}{
		// Values read from DejaVu Sans 2.37 (2048 units per em).
		{"space", regular, ' ', 651},
		{"i", regular, 'i', 569},
		{"W", regular, 'W', 2025},
		{"bold W", bold, 'W', 2259},
		{"Latin-1 e acute", regular, 'é', 1260},
		{"combining acute", regular, '\u0301', 0},
		{"zero width joiner", regular, '\u200d', 0},
		{"CJK ideograph", regular, '東', unitsPerEm},
		{"emoji", regular, '😀', unitsPerEm},
		{"variation selector", regular, '\ufe0f', 0},
		{"uncovered script", regular, 'ก', regularAverage},
		{"uncovered script bold", bold, 'ก', boldAverage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.advance(tt.r); got != tt.want {
				t.Errorf("advance(%U) = %d, want %d", tt.r, got, tt.want)
			}
		})
	}
}

func TestPreferredWidth(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 1},
		{"build", 27},
		{"passing", 43},
		{"iiii", 13}, // 4*569 units = 12.2 px -> 12 -> odd 13
		{"WWWW", 43}, // 4*2025 units = 43.5 px -> 43
		{strings.Repeat("W", 100), 1087},
	}
	for _, tt := range tests {
		if got := preferredWidth(tt.s); got != tt.want {
			t.Errorf("preferredWidth(%q) = %d, want %d", tt.s, got, tt.want)
		}
		if got := preferredWidth(tt.s); got%2 != 1 {
			t.Errorf("preferredWidth(%q) = %d is even", tt.s, got)
		}
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"plain", "plain"},
		{"tab\there", "tab here"},
		{"a\r\nb", "a  b"},
		{"nul\x00bell\x07", "nulbell"},
		{"c1\u0085x", "c1x"},
		{"bad\xffutf8", "bad\ufffdutf8"},
		{"non\ufffechar", "nonchar"},
		{"ünï ✓", "ünï ✓"},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
