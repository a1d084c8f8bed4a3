package main

import (
	"testing"
	"time"
)

func TestNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // reversed: percentile must sort
	}
	tests := []struct {
		name string
		xs   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(3, 1, 2), 50, 2 * time.Millisecond},
		{"p50 of 100", ms(hundred...), 50, 50 * time.Millisecond},
		{"p99 of 100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p0 is the min", ms(5, 9, 1), 0, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := append([]time.Duration(nil), tt.xs...)
			if got := nearestRank(tt.xs, tt.p); got != tt.want {
				t.Fatalf("nearestRank(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
			}
			for i := range in {
				if in[i] != tt.xs[i] {
					t.Fatalf("input modified: %v, was %v", tt.xs, in)
				}
			}
		})
	}
}

func TestArrivalLatency(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	pub := []time.Time{at(0), at(1000), at(2000)}
	tests := []struct {
		name    string
		arrived time.Time
		want    time.Duration
		ok      bool
	}{
		{"before anything", at(-5), 0, false},
		{"just after the first", at(12), 12 * time.Millisecond, true},
		{"between two: the earlier one", at(1500), 500 * time.Millisecond, true},
		{"exactly at a publish", at(2000), 0, true},
		{"after the last", at(2300), 300 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := arrivalLatency(pub, tt.arrived)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("arrivalLatency(%v) = %v, %v; want %v, %v", tt.arrived.Sub(t0), got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestPerMessageOverhead(t *testing.T) {
	tests := []struct {
		name                string
		wire, payload, msgs uint64
		want                float64
	}{
		{"none", 100, 0, 0, 0},
		{"even", 1000, 600, 4, 100},
		{"wire below payload (counters out of step)", 10, 20, 1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := perMessageOverhead(tt.wire, tt.payload, tt.msgs); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPerHostPerDay(t *testing.T) {
	tests := []struct {
		name   string
		growth int64
		window time.Duration
		hosts  int
		want   float64
	}{
		{"1 KB/s over 10 hosts", 60_000, time.Minute, 10, 100 * 86400},
		{"no window", 1, 0, 1, 0},
		{"no hosts", 1, time.Second, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := perHostPerDay(tt.growth, tt.window, tt.hosts); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
