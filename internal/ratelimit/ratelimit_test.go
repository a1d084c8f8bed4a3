package ratelimit

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiter_Allow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	tests := []struct {
		name             string
		perMinute, burst int
		at               []time.Duration // offsets from t0 of each attempt (one key)
		want             []bool
	}{
		{"burst then refused", 60, 3, []time.Duration{0, 0, 0, 0}, []bool{true, true, true, false}},
		{"refills at the rate", 60, 1, []time.Duration{0, 500 * time.Millisecond, time.Second, 2 * time.Second}, []bool{true, false, true, true}},
		{"slow rate", 6, 2, []time.Duration{0, 0, 5 * time.Second, 10 * time.Second}, []bool{true, true, false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := New(tt.perMinute, tt.burst, 10)
			for i, d := range tt.at {
				ok, wait := l.Allow("k", t0.Add(d))
				if ok != tt.want[i] {
					t.Fatalf("attempt %d at +%s: allowed = %v, want %v", i, d, ok, tt.want[i])
				}
				if !ok && wait <= 0 {
					t.Fatalf("attempt %d refused with no wait", i)
				}
			}
		})
	}
}

func TestLimiter_KeysAreIndependent(t *testing.T) {
	l := New(60, 1, 10)
	now := time.Unix(1_700_000_000, 0)
	if ok, _ := l.Allow("a", now); !ok {
		t.Fatal("a refused")
	}
	if ok, _ := l.Allow("a", now); ok {
		t.Fatal("a allowed twice")
	}
	if ok, _ := l.Allow("b", now); !ok {
		t.Fatal("b refused because of a")
	}
}

func TestLimiter_BoundedKeys(t *testing.T) {
	l := New(60, 1, 100)
	now := time.Unix(1_700_000_000, 0)
	refused := 0
	for i := range 1000 {
		if ok, _ := l.Allow(strconv.Itoa(i), now); !ok {
			refused++
		}
	}
	if l.Keys() > 100 {
		t.Fatalf("tracking %d keys, bound is 100", l.Keys())
	}
	if refused != 900 {
		t.Fatalf("refused %d new keys at the bound, want 900", refused)
	}
	// Once their buckets refill, old keys are forgotten and room is made.
	if ok, _ := l.Allow("late", now.Add(2*time.Second)); !ok {
		t.Fatal("a new key is refused after the others refilled")
	}
}

func TestLimiter_SetRate(t *testing.T) {
	l := New(60, 5, 10)
	now := time.Unix(1_700_000_000, 0)
	l.SetRate(60, 1)
	if ok, _ := l.Allow("k", now); !ok {
		t.Fatal("first refused")
	}
	if ok, _ := l.Allow("k", now); ok {
		t.Fatal("burst of 1 allowed a second event")
	}
}
