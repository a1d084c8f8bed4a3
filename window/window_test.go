package window

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	tests := []struct {
		set  []Window
		name string
		span time.Duration
		ok   bool
	}{
		{All(), "90d", 90 * 24 * time.Hour, true},
		{Chart(), "90d", 0, false},
		{Chart(), "1h", time.Hour, true},
		{Uptime(), "1h", 0, false},
		{Uptime(), "90d", 90 * 24 * time.Hour, true},
		{All(), "2h", 0, false},
		{Latency(), "24h", 24 * time.Hour, true},
		{Latency(), "7d", 0, false},
	}
	for _, tt := range tests {
		w, ok := Parse(tt.set, tt.name)
		if ok != tt.ok || w.Span != tt.span {
			t.Errorf("Parse(%v, %q) = %v, %v", Names(tt.set), tt.name, w, ok)
		}
	}
	if _, ok := Parse(Chart(), DefaultChart); !ok {
		t.Error("the default chart range is not a chart range")
	}
}

// TestLatency_AtMostADay: the latency badge averages every result in its
// window, so every window it accepts is at most a day long.
func TestLatency_AtMostADay(t *testing.T) {
	for _, w := range Latency() {
		if w.Span > 24*time.Hour {
			t.Errorf("latency window %s spans %v, more than a day", w.Name, w.Span)
		}
	}
	if len(Latency()) == 0 {
		t.Error("no latency windows")
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		set  []Window
		want string
	}{
		{Chart(), "1h, 24h, 7d or 30d"},
		{All(), "1h, 24h, 7d, 30d or 90d"},
		{Uptime(), "24h, 7d, 30d or 90d"},
		{Latency(), "1h or 24h"},
		{Latency()[:1], "1h"},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := Names(tt.set); got != tt.want {
			t.Errorf("Names = %q, want %q", got, tt.want)
		}
	}
	// Callers get copies: changing one changes nobody else's.
	a := All()
	a[0].Span = 0
	if All()[0].Span != time.Hour {
		t.Error("the table is shared")
	}
}
