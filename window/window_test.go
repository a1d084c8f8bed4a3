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

func TestNames(t *testing.T) {
	if got := Names(Chart()); got != "1h, 24h, 7d or 30d" {
		t.Errorf("Names = %q", got)
	}
	// Callers get copies: changing one changes nobody else's.
	a := All()
	a[0].Span = 0
	if All()[0].Span != time.Hour {
		t.Error("the table is shared")
	}
}
