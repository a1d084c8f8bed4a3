package collectors

import (
	"errors"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
)

func TestRunner_RunNow(t *testing.T) {
	s := &script{steps: states("up")}
	c := scriptCheckConfig("slow-cadence", s)
	c.Interval = config.Duration(time.Hour)
	r := startRunner(t, RunnerOptions{}, c)
	runs := func() int { _, n := s.counts(); return n }
	eventually(t, 10*time.Second, "the first run", func() bool { return runs() == 1 })

	if err := r.RunNow("slow-cadence"); err != nil {
		t.Fatalf("RunNow: %v", err)
	}
	eventually(t, 10*time.Second, "the run asked for", func() bool { return runs() == 2 })

	// Requests made while none can start yet coalesce into one run: the
	// check is never queued up by a button held down.
	for range 50 {
		if err := r.RunNow("slow-cadence"); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 10*time.Second, "a third run", func() bool { return runs() >= 3 })
	time.Sleep(200 * time.Millisecond)
	if n := runs(); n > 4 {
		t.Errorf("50 RunNow calls made %d runs; want them coalesced (at most 2)", n-2)
	}

	if err := r.RunNow("nope"); !errors.Is(err, ErrUnknownCheck) {
		t.Errorf("RunNow(unknown) = %v, want ErrUnknownCheck", err)
	}
}
