package badge

import (
	"math"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func TestFormatUptime(t *testing.T) {
	tests := []struct {
		pct  float64
		want string
	}{
		{100, "100%"},
		{100.5, "100%"},
		{99.999, "99.99%"},
		{99.95, "99.95%"},
		{99.9, "99.90%"},
		{97.123, "97.12%"},
		{0.004, "0.00%"},
		{0, "0.00%"},
		{-3, "0.00%"},
		{math.NaN(), "no data"},
	}
	for _, tt := range tests {
		if got := FormatUptime(tt.pct); got != tt.want {
			t.Errorf("FormatUptime(%v) = %q, want %q", tt.pct, got, tt.want)
		}
	}
}

func TestFormatLatency(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-1, "no data"},
		{0, "<0.1 ms"},
		{50 * time.Microsecond, "<0.1 ms"},
		{420 * time.Microsecond, "0.4 ms"},
		{3250 * time.Microsecond, "3.2 ms"},
		{9949 * time.Microsecond, "9.9 ms"},
		{9960 * time.Microsecond, "10 ms"},
		{312 * time.Millisecond, "312 ms"},
		{999600 * time.Microsecond, "1.00 s"},
		{1250 * time.Millisecond, "1.25 s"},
		{90 * time.Second, "90.00 s"},
	}
	for _, tt := range tests {
		if got := FormatLatency(tt.d); got != tt.want {
			t.Errorf("FormatLatency(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestKindBadges(t *testing.T) {
	tests := []struct {
		name string
		got  Badge
		want Badge
	}{
		{"state", StateBadge("web", model.StateDown), Badge{Label: "web", Message: "down", Color: ColorRed}},
		{"uptime", UptimeBadge("uptime", 99.2), Badge{Label: "uptime", Message: "99.20%", Color: ColorGreen}},
		{"uptime no data", UptimeBadge("uptime", math.NaN()), Badge{Label: "uptime", Message: "no data", Color: ColorLightGrey}},
		{"latency", LatencyBadge("latency", 42*time.Millisecond, nil), Badge{Label: "latency", Message: "42 ms", Color: ColorBrightGreen}},
		{"latency custom", LatencyBadge("p", 42*time.Millisecond, []time.Duration{10 * time.Millisecond}), Badge{Label: "p", Message: "42 ms", Color: ColorRed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Errorf("got %+v, want %+v", tt.got, tt.want)
			}
			if _, err := Render(tt.got); err != nil {
				t.Errorf("Render: %v", err)
			}
		})
	}
}
