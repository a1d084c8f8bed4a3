package procs

import (
	"context"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/state"
)

// feeder plays the sampler: every sample records dashd's CPU use, then
// the sample, on a clock of its own, and waits until the governor took it.
type feeder struct {
	t      *testing.T
	latest *state.Latest
	at     time.Time
	step   time.Duration
	seen   chan time.Time
}

func (f *feeder) sample(cpu float64) {
	f.t.Helper()
	f.at = f.at.Add(f.step)
	f.latest.SetSelf(selfstat.Footprint{Time: f.at, CPUPercent: cpu})
	f.latest.SetSystem(system.Snapshot{Time: f.at})
	deadline := time.After(10 * time.Second)
	for {
		select {
		case got := <-f.seen:
			if !got.Before(f.at) {
				return
			}
		case <-deadline:
			f.t.Fatalf("the governor did not take the sample at %s", f.at)
		}
	}
}

// run feeds n samples of cpu.
func (f *feeder) run(n int, cpu float64) {
	f.t.Helper()
	for range n {
		f.sample(cpu)
	}
}

// want fails unless GOMAXPROCS is n.
func want(t *testing.T, n int, after string) {
	t.Helper()
	if got := runtime.GOMAXPROCS(0); got != n {
		t.Fatalf("GOMAXPROCS %d after %s, want %d", got, after, n)
	}
}

// defaultProcs is the runtime's default GOMAXPROCS; tests skip where the
// governor would not act.
func defaultProcs(t *testing.T) int {
	t.Helper()
	if v := os.Getenv("GOMAXPROCS"); v != "" {
		t.Skipf("SKIPPED: GOMAXPROCS=%s is set in the environment; the governor is tested without it", v)
	}
	runtime.SetDefaultGOMAXPROCS()
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		t.Skipf("SKIPPED: this machine's default GOMAXPROCS is %d; the governor only acts with two or more", def)
	}
	return def
}

func start(t *testing.T, step time.Duration, o Options) *feeder {
	t.Helper()
	f := &feeder{t: t, latest: state.New(config.Default(), time.Now()), at: time.Now(), step: step,
		seen: make(chan time.Time, 1)}
	o.Source = f.latest
	o.seen = func(at time.Time) { f.seen <- at }
	if o.Getenv == nil {
		o.Getenv = noEnv
	}
	g := New(o)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	// Until Run waits for samples, one can pass unseen: publish neutral
	// samples (between the thresholds) until it takes one.
	deadline := time.Now().Add(10 * time.Second)
	for primed := false; !primed; {
		if time.Now().After(deadline) {
			t.Fatal("the governor took no sample")
		}
		f.at = f.at.Add(f.step)
		f.latest.SetSelf(selfstat.Footprint{Time: f.at, CPUPercent: 15})
		f.latest.SetSystem(system.Snapshot{Time: f.at})
		select {
		case <-f.seen:
			primed = true
		case <-time.After(20 * time.Millisecond):
		}
	}
	return f
}

func noEnv(string) string { return "" }

// TestGovernor: quiet samples for Hold bring GOMAXPROCS down to one, one
// busy second brings the default back at once, use between the two
// thresholds changes nothing either way, and quiet spells shorter than
// Hold do not add up.
func TestGovernor(t *testing.T) {
	def := defaultProcs(t)
	f := start(t, time.Second, Options{Hold: 5 * time.Second})
	f.run(10, 15) // between Down and Up: not quiet
	want(t, def, "samples between the thresholds")
	f.run(7, 2) // the first has no predecessor: Hold is reached on the seventh
	want(t, 1, "quiet samples for Hold")
	f.run(10, 15) // between Down and Up: not busy
	want(t, 1, "samples between the thresholds at one P")
	f.sample(60)
	want(t, def, "one busy sample")
	for range 10 {
		f.sample(2)
		f.sample(15)
	}
	want(t, def, "quiet spells shorter than Hold")
}

// TestGovernor_Readings: a reading that is not newer than the last (the
// footprint could not be read), or samples further apart than
// MaxInterval, give the default back; samples 100 ms apart are judged a
// second at a time, not one by one.
func TestGovernor_Readings(t *testing.T) {
	def := defaultProcs(t)
	t.Run("stale", func(t *testing.T) {
		f := start(t, time.Second, Options{Hold: 2 * time.Second})
		f.run(4, 0)
		want(t, 1, "quiet samples")
		// The same footprint again, with a new sample: no current reading.
		f.latest.SetSystem(system.Snapshot{Time: f.at.Add(time.Second)})
		deadline := time.Now().Add(10 * time.Second)
		for runtime.GOMAXPROCS(0) != def {
			if time.Now().After(deadline) {
				t.Fatalf("GOMAXPROCS %d after a stale reading, want the default %d", runtime.GOMAXPROCS(0), def)
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	t.Run("slow sampling", func(t *testing.T) {
		f := start(t, time.Second, Options{Hold: 2 * time.Second})
		f.run(4, 0)
		want(t, 1, "quiet samples")
		f.step = MaxInterval + time.Second
		f.sample(0)
		want(t, def, "a sample after more than MaxInterval")
		f.run(5, 0)
		want(t, def, "quiet samples further apart than MaxInterval")
	})
	t.Run("fast sampling", func(t *testing.T) {
		f := start(t, 100*time.Millisecond, Options{Hold: 2 * time.Second})
		f.run(40, 0)
		want(t, 1, "quiet samples")
		// One 100 ms sample at 30 % (three 10 ms ticks) in a quiet second
		// averages 3 %: still quiet.
		for range 3 {
			f.sample(30)
			f.run(9, 0)
		}
		want(t, 1, "one busy tick a second")
		f.run(10, 40)
		want(t, def, "a busy second")
	})
}

// TestGovernor_StopRestoresDefault: a governor stopped at one P leaves the
// runtime's default behind.
func TestGovernor_StopRestoresDefault(t *testing.T) {
	def := defaultProcs(t)
	t.Run("run", func(t *testing.T) {
		f := start(t, time.Second, Options{Hold: time.Second})
		f.run(3, 0)
		want(t, 1, "quiet samples")
	})
	want(t, def, "the governor stopped")
}

// TestGovernor_EnvironmentWins: GOMAXPROCS set in the environment is the
// operator's choice; the governor does not touch it.
func TestGovernor_EnvironmentWins(t *testing.T) {
	def := defaultProcs(t)
	f := &feeder{t: t, latest: state.New(config.Default(), time.Now()), at: time.Now(), step: time.Second}
	g := New(Options{Source: f.latest, Hold: time.Second, Getenv: func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- g.Run(ctx) }()
	for range 20 {
		f.at = f.at.Add(time.Second)
		f.latest.SetSelf(selfstat.Footprint{Time: f.at})
		f.latest.SetSystem(system.Snapshot{Time: f.at})
		time.Sleep(20 * time.Millisecond)
	}
	// Before the stop: a stopped governor gives the default back anyway.
	got := runtime.GOMAXPROCS(0)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got != def {
		t.Errorf("GOMAXPROCS %d after quiet samples with GOMAXPROCS in the environment, want %d", got, def)
	}
}
