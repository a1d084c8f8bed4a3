package system

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestRunner_Apply: new options replace the sampler (the interval between
// snapshots changes), equal options change nothing, and Run returns when
// its context ends.
func TestRunner_Apply(t *testing.T) {
	var mu sync.Mutex
	var times []time.Time
	r := NewRunner(Options{Interval: time.Hour, TopN: -1}, func(s Snapshot) {
		mu.Lock()
		times = append(times, s.Time)
		mu.Unlock()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(times) }
	waitFor := func(n int, why string) {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%d snapshots, want %d: %s", count(), n, why)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor(1, "the first sample comes at once")
	r.Apply(Options{Interval: time.Hour, TopN: -1}) // the same: nothing restarts
	time.Sleep(200 * time.Millisecond)
	if n := count(); n != 1 {
		t.Fatalf("equal options restarted the sampler: %d snapshots", n)
	}
	r.Apply(Options{Interval: 100 * time.Millisecond, TopN: -1})
	waitFor(5, "at the new 100ms interval")
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run = %v", err)
	}
}
