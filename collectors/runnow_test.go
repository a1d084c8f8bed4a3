package collectors

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
)

func TestRunner_RunNow(t *testing.T) {
	// The second run (the one asked for) holds until gate closes, so the
	// requests below are all made while a run is in progress.
	gate := make(chan struct{})
	up := states("up")[0]
	s := &script{steps: []func(context.Context) Outcome{up, func(ctx context.Context) Outcome {
		select {
		case <-gate:
		case <-ctx.Done():
		}
		return up(ctx)
	}, up}}
	c := scriptCheckConfig("slow-cadence", s)
	c.Interval = config.Duration(time.Hour)
	r := startRunner(t, RunnerOptions{}, c)
	runs := func() int { _, n := s.counts(); return n }
	eventually(t, 10*time.Second, "the first run", func() bool { return runs() == 1 })

	if err := r.RunNow("slow-cadence"); err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	eventually(t, 10*time.Second, "the run asked for", func() bool { return runs() == 2 })

	// Requests made while a run is in progress coalesce into one more
	// run: the check is never queued up by a button held down.
	for range 50 {
		if err := r.RunNow("slow-cadence"); err != nil {
			t.Fatal(err)
		}
	}
	close(gate)
	eventually(t, 10*time.Second, "a third run", func() bool { return runs() >= 3 })
	time.Sleep(300 * time.Millisecond)
	if n := runs(); n != 3 {
		t.Errorf("50 RunNow calls during a run made %d more runs; want them coalesced into 1", n-2)
	}

	if err := r.RunNow("nope"); !errors.Is(err, ErrUnknownCheck) {
		t.Errorf("RunNow(unknown) = %v, want ErrUnknownCheck", err)
	}
}
