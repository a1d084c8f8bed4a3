package grid

import (
	"testing"
	"time"
)

func TestNext(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
		d    time.Duration
		want time.Time
	}{
		{"mid-second", time.Unix(100, 400e6), time.Second, time.Unix(101, 0)},
		{"on a multiple: the next one", time.Unix(100, 0), time.Second, time.Unix(101, 0)},
		{"one nanosecond before a multiple", time.Unix(100, 999_999_999), time.Second, time.Unix(101, 0)},
		{"7s counts from the Unix epoch", time.Unix(100, 0), 7 * time.Second, time.Unix(105, 0)},
		{"7s on a multiple", time.Unix(105, 0), 7 * time.Second, time.Unix(112, 0)},
		// Midnight 2026-01-02 is 1767312000 s, 6 mod 7: 7s does not divide a day.
		{"7s across midnight", time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), 7 * time.Second, time.Date(2026, 1, 2, 0, 0, 1, 0, time.UTC)},
		{"before the epoch", time.Unix(-3, -500e6), time.Second, time.Unix(-3, 0)},
		{"before the epoch on a multiple", time.Unix(-3, 0), time.Second, time.Unix(-2, 0)},
		{"before the epoch, 7s", time.Unix(-10, 0), 7 * time.Second, time.Unix(-7, 0)},
		{"just before the epoch", time.Unix(0, -1), time.Second, time.Unix(0, 0)},
		{"time zone does not matter", time.Unix(100, 1).In(time.FixedZone("x", 3600+1800)), time.Hour, time.Unix(3600, 0)},
		{"no grid", time.Unix(100, 400e6), 0, time.Unix(100, 400e6)},
		{"negative interval: no grid", time.Unix(100, 400e6), -time.Second, time.Unix(100, 400e6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Next(tt.t, tt.d); !got.Equal(tt.want) {
				t.Errorf("Next(%v, %v) = %v, want %v", tt.t, tt.d, got, tt.want)
			}
		})
	}
}

func TestAtOrAfter(t *testing.T) {
	base := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		t    time.Time
		d    time.Duration
		want time.Time
	}{
		{"no grid", base.Add(300 * time.Millisecond), 0, base.Add(300 * time.Millisecond)},
		{"on the grid stays", base, time.Second, base},
		{"just after moves up", base.Add(time.Nanosecond), time.Second, base.Add(time.Second)},
		{"mid second", base.Add(1500 * time.Millisecond), time.Second, base.Add(2 * time.Second)},
		{"coarser grid", base.Add(7 * time.Second), 5 * time.Second, base.Add(10 * time.Second)},
		{"7s counts from the Unix epoch", time.Unix(100, 0), 7 * time.Second, time.Unix(105, 0)},
		{"7s on a multiple stays", time.Unix(105, 0), 7 * time.Second, time.Unix(105, 0)},
		{"before the epoch", time.Unix(-3, -500e6), time.Second, time.Unix(-3, 0)},
		{"before the epoch on a multiple stays", time.Unix(-3, 0), time.Second, time.Unix(-3, 0)},
		{"before the epoch, 7s", time.Unix(-10, 0), 7 * time.Second, time.Unix(-7, 0)},
		{"before the epoch, 7s on a multiple", time.Unix(-14, 0), 7 * time.Second, time.Unix(-14, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AtOrAfter(tt.t, tt.d); !got.Equal(tt.want) {
				t.Errorf("AtOrAfter(%v, %v) = %v, want %v", tt.t, tt.d, got, tt.want)
			}
		})
	}
}

// TestEpoch: a 7s grid is not time.Truncate's grid (which counts from year
// 1); the sampler, the runner and the status loop agree only because all
// three use this package.
func TestEpoch(t *testing.T) {
	const d = 7 * time.Second
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	truncated := now.Truncate(d).Add(d)
	if got := Next(now, d); got.Equal(truncated) {
		t.Fatalf("Next(%v, 7s) = %v, the year-1 grid: want the Unix epoch's", now, got)
	}
	for _, got := range []time.Time{Next(now, d), AtOrAfter(now, d)} {
		if got.UnixNano()%int64(d) != 0 {
			t.Errorf("%v is not a multiple of 7s since the Unix epoch", got)
		}
	}
}

// TestLocation: the result keeps the caller's time zone.
func TestLocation(t *testing.T) {
	zone := time.FixedZone("x", 3600)
	in := time.Unix(100, 1).In(zone)
	for name, got := range map[string]time.Time{"Next": Next(in, time.Second), "AtOrAfter": AtOrAfter(in, time.Second)} {
		if got.Location() != zone {
			t.Errorf("%s: location %v, want %v", name, got.Location(), zone)
		}
	}
}

// TestUntil: the wait ends on the grid, within one interval.
func TestUntil(t *testing.T) {
	for _, d := range []time.Duration{time.Second, 7 * time.Second, 250 * time.Millisecond} {
		now := time.Now()
		w := Until(d)
		// Until read the clock a moment after now: aim falls that moment
		// short of the grid point, never past it.
		aim := now.Add(w)
		g := AtOrAfter(aim, d)
		if w <= 0 || w > d || g.Sub(aim) > 100*time.Millisecond {
			t.Errorf("Until(%s) = %s from %s: aims at %s, grid point %s", d, w, now, aim, g)
		}
	}
}
