// Package procs sets how many threads run Go code at once (GOMAXPROCS)
// from dashd's own recent CPU use: one while dashd is nearly idle, the
// runtime's default as soon as work could use more.
//
// Why: an idle dashd's CPU is mostly its wake-ups, not its work. Every
// second the sampler, the checks due, the scheduler and storage wake
// together; with more than one P the runtime hands the goroutines that
// wake between threads (a futex wake-up, a spinning thread looking for
// work, a context switch each), and on a virtual machine those switches
// cost more than the work. With one P the same goroutines run one after
// the other on one thread. Measured alternately on this project's 2-core
// VM (20 checks at 10 s, 1 s sampling): 0.12-0.14 % of a core idle and
// 0.14-0.18 % with a dashboard open at one P, against 0.16-0.18 % and
// 0.19-0.20 % at two.
//
// Parallelism only matters under load (thousands of streams, a fleet hub,
// a flood), and load shows in the CPU use the sampler measures every
// interval: at or above Up the default comes back at once; after Hold
// below Down, one P again.
package procs

import (
	"context"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/dashd/dashd/selfstat"
)

// Source is what the governor reads (state.Latest): a signal on each new
// host sample, and dashd's own footprint, recorded before that signal.
type Source interface {
	NextSystem() <-chan struct{}
	Self() (selfstat.Footprint, bool)
}

// Defaults of Options.
const (
	DefaultUp   = 25.0 // % of one core
	DefaultDown = 10.0
	DefaultHold = 10 * time.Second
)

// Options configure a Governor. Zero values take the defaults.
type Options struct {
	Source Source
	// Up is the CPU use (% of one core, over one sampling interval) at
	// which the default GOMAXPROCS comes back.
	Up float64
	// Down is the CPU use below which, held for Hold, one P is enough.
	Down float64
	Hold time.Duration
	// Getenv reads the environment (default os.Getenv): a GOMAXPROCS set
	// there is the operator's choice, and the governor leaves it alone.
	Getenv func(string) string
	Logger *slog.Logger
}

// Governor is the part that sets GOMAXPROCS. Run it once.
type Governor struct {
	o   Options
	log *slog.Logger
}

// New returns a Governor reading o.Source.
func New(o Options) *Governor {
	if o.Up <= 0 {
		o.Up = DefaultUp
	}
	if o.Down <= 0 || o.Down > o.Up {
		o.Down = min(DefaultDown, o.Up)
	}
	if o.Hold <= 0 {
		o.Hold = DefaultHold
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return &Governor{o: o, log: o.Logger}
}

// Run follows the samples until ctx ends, then gives the runtime back its
// default; it returns nil. It starts at the default (start-up is busy)
// and changes nothing when the default is one P already or GOMAXPROCS is
// set in the environment.
func (g *Governor) Run(ctx context.Context) error {
	if v := g.o.Getenv("GOMAXPROCS"); v != "" {
		g.log.Info("GOMAXPROCS set in the environment: left as it is", "gomaxprocs", runtime.GOMAXPROCS(0))
		<-ctx.Done()
		return nil
	}
	if runtime.GOMAXPROCS(0) <= 1 {
		<-ctx.Done()
		return nil
	}
	defer runtime.SetDefaultGOMAXPROCS()
	one := false
	var quietSince time.Time // zero: not quiet
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-g.o.Source.NextSystem():
		}
		f, ok := g.o.Source.Self()
		if !ok || f.Time.IsZero() {
			continue
		}
		switch {
		case f.CPUPercent >= g.o.Up:
			quietSince = time.Time{}
			if one {
				runtime.SetDefaultGOMAXPROCS()
				one = false
				g.log.Debug("busy: default GOMAXPROCS", "gomaxprocs", runtime.GOMAXPROCS(0), "cpu_percent", f.CPUPercent)
			}
		case f.CPUPercent < g.o.Down:
			if quietSince.IsZero() {
				quietSince = f.Time
			}
			if !one && f.Time.Sub(quietSince) >= g.o.Hold {
				runtime.GOMAXPROCS(1)
				one = true
				g.log.Debug("quiet: one P", "cpu_percent", f.CPUPercent)
			}
		default:
			quietSince = time.Time{}
		}
	}
}
