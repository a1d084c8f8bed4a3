package procs

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/state"
)

// feeder plays the sampler: every sample records dashd's CPU use, then
// the sample, on a clock of its own that moves a second per sample.
type feeder struct {
	latest *state.Latest
	at     time.Time
}

func (f *feeder) sample(cpu float64) {
	f.at = f.at.Add(time.Second)
	f.latest.SetSelf(selfstat.Footprint{Time: f.at, CPUPercent: cpu})
	f.latest.SetSystem(system.Snapshot{Time: f.at})
}

// until feeds samples of cpu until GOMAXPROCS is want, or fails.
func (f *feeder) until(t *testing.T, cpu float64, want int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.GOMAXPROCS(0) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS %d after samples at %.0f %%, want %d", runtime.GOMAXPROCS(0), cpu, want)
		}
		f.sample(cpu)
		time.Sleep(10 * time.Millisecond)
	}
}

// hold feeds samples of cpu for a while and fails if GOMAXPROCS leaves want.
func (f *feeder) hold(t *testing.T, cpu float64, want int) {
	t.Helper()
	for range 30 {
		f.sample(cpu)
		time.Sleep(10 * time.Millisecond)
		if got := runtime.GOMAXPROCS(0); got != want {
			t.Fatalf("GOMAXPROCS %d with samples at %.0f %%, want it kept at %d", got, cpu, want)
		}
	}
}

func start(t *testing.T, o Options) *feeder {
	t.Helper()
	f := &feeder{latest: state.New(config.Default(), time.Now()), at: time.Now()}
	o.Source = f.latest
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
	return f
}

func noEnv(string) string { return "" }

// TestGovernor: quiet samples for Hold bring GOMAXPROCS down to one, one
// busy sample brings the default back at once, use between the two
// thresholds changes nothing either way, and a stop leaves the default.
func TestGovernor(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		t.Skipf("SKIPPED: this machine's default GOMAXPROCS is %d; the governor only acts with two or more", def)
	}
	f := start(t, Options{Hold: 5 * time.Second, Getenv: noEnv})

	f.hold(t, 15, def) // between Down and Up: not quiet
	f.until(t, 2, 1)
	f.hold(t, 15, 1) // between Down and Up: not busy
	f.until(t, 60, def)
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Fatalf("GOMAXPROCS %d, want the default %d", got, def)
	}
	// Short quiet spells (a second each, Hold is five) do not add up.
	for range 10 {
		for _, cpu := range []float64{2, 15} {
			f.sample(cpu)
			time.Sleep(10 * time.Millisecond)
		}
	}
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Errorf("GOMAXPROCS %d after quiet spells shorter than Hold, want %d", got, def)
	}
	f.until(t, 2, 1)
}

// TestGovernor_StopRestoresDefault: a governor stopped at one P leaves the
// runtime's default behind.
func TestGovernor_StopRestoresDefault(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		t.Skipf("SKIPPED: this machine's default GOMAXPROCS is %d; the governor only acts with two or more", def)
	}
	t.Run("run", func(t *testing.T) {
		f := start(t, Options{Hold: time.Second, Getenv: noEnv})
		f.until(t, 0, 1)
	})
	if got := runtime.GOMAXPROCS(0); got != def {
		t.Errorf("GOMAXPROCS %d after the governor stopped, want the default %d", got, def)
	}
}

// TestGovernor_EnvironmentWins: GOMAXPROCS set in the environment is the
// operator's choice; quiet samples change nothing.
func TestGovernor_EnvironmentWins(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	if def < 2 {
		t.Skipf("SKIPPED: this machine's default GOMAXPROCS is %d; the governor only acts with two or more", def)
	}
	f := start(t, Options{Hold: time.Second, Getenv: func(k string) string {
		if k == "GOMAXPROCS" {
			return "2"
		}
		return ""
	}})
	f.hold(t, 0, def)
}
