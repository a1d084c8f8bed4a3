package system

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"
)

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestSampler_RunClosesFiles: the /proc files kept open between ticks are
// closed when Run returns, on the real host and on a fixture tree.
func TestSampler_RunClosesFiles(t *testing.T) {
	tests := []struct {
		name    string
		sampler func(t *testing.T) *Sampler
	}{
		{"real host", func(*testing.T) *Sampler {
			return New(Options{Interval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		}},
		{"fixture", func(t *testing.T) *Sampler {
			return newFixtureSampler(newFixtureHost(t, "tick1"), Options{Interval: 10 * time.Millisecond, Now: time.Now})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sampler(t)
			before := openFDs(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			during := 0
			n := 0
			if err := s.Run(ctx, func(Snapshot) {
				n++
				if n == 2 {
					during = openFDs(t)
				}
				if n == 3 {
					cancel()
				}
			}); err != nil {
				t.Fatal(err)
			}
			if after := openFDs(t); after != before {
				t.Errorf("%d descriptors open before Run, %d after", before, after)
			}
			if during < before+7 {
				t.Errorf("%d descriptors open during Run, %d before: per-tick files not kept open", during, before)
			}
		})
	}
}

// TestSampler_RunAligned: after the first tick (at once), ticks land on
// wall-clock multiples of the interval. Run starts half an interval after a
// multiple, where an unaligned ticker would stay. Tolerances are generous:
// the machine is shared and noisy.
func TestSampler_RunAligned(t *testing.T) {
	const interval = 300 * time.Millisecond
	s := newFixtureSampler(newFixtureHost(t, "tick1"), Options{Interval: interval, TopN: -1, Now: time.Now})
	time.Sleep(time.Until(nextTick(time.Now(), interval).Add(interval / 2)))
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ticks []time.Time
	if err := s.Run(ctx, func(Snapshot) {
		ticks = append(ticks, time.Now())
		if len(ticks) == 5 {
			cancel()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if d := ticks[0].Sub(start); d > interval/2 {
		t.Errorf("first tick %v after Run started, want at once", d)
	}
	late := 0
	for i, tk := range ticks[1:] {
		phase := time.Duration(tk.UnixNano() % int64(interval))
		if phase > interval/3 {
			late++
			t.Logf("tick %d at %v after a multiple", i+1, phase)
		}
		if i > 0 && tk.Sub(ticks[i]) < interval/2 { // i == 0: from the immediate first tick
			t.Errorf("tick %d only %v after the previous one", i+1, tk.Sub(ticks[i]))
		}
	}
	if late > 1 {
		t.Errorf("%d of %d ticks more than %v after a multiple of %v", late, len(ticks)-1, interval/3, interval)
	}
}

// TestSampler_RunClockSteps: wall-clock steps back and forward by an hour
// neither stall Run nor make it spin.
func TestSampler_RunClockSteps(t *testing.T) {
	const interval = 20 * time.Millisecond
	var mu sync.Mutex
	var offset time.Duration
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	s := newFixtureSampler(newFixtureHost(t, "tick1"), Options{Interval: interval, TopN: -1, Now: now})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	n := 0
	if err := s.Run(ctx, func(Snapshot) {
		n++
		mu.Lock()
		switch n {
		case 3:
			offset = -time.Hour
		case 6:
			offset = time.Hour + 7*time.Millisecond
		case 9:
			offset = 0
		case 12:
			cancel()
		}
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if el > 20*time.Second {
		t.Errorf("12 ticks took %v at %v: stalled", el, interval)
	}
	// At most one tick per interval, plus the first and some slack.
	if max := int(el/interval) + 3; n > max {
		t.Errorf("%d ticks in %v: spinning", n, el)
	}
}

func TestNextTick(t *testing.T) {
	tests := []struct {
		name string
		now  time.Time
		d    time.Duration
		want time.Time
	}{
		{"mid-second", time.Unix(100, 400e6), time.Second, time.Unix(101, 0)},
		{"on a multiple: the next one", time.Unix(100, 0), time.Second, time.Unix(101, 0)},
		{"7 s from the Unix epoch", time.Unix(100, 0), 7 * time.Second, time.Unix(105, 0)},
		{"before the epoch", time.Unix(-3, -500e6), time.Second, time.Unix(-3, 0)},
		{"time zone does not matter", time.Unix(100, 1).In(time.FixedZone("x", 3600+1800)), time.Hour, time.Unix(3600, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextTick(tt.now, tt.d); !got.Equal(tt.want) {
				t.Errorf("nextTick(%v, %v) = %v, want %v", tt.now, tt.d, got, tt.want)
			}
		})
	}
}
