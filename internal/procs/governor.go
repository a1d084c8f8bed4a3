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
// Parallelism only matters under load (thousands of streams, a flood),
// and load shows in the CPU use the sampler measures every interval: at or
// above Up the default comes back at once; after Hold below Down, one P
// again. A fleet hub, whose load comes in bursts on the second, does not
// run one (see cmd/dashd).
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
	// MaxInterval is the longest sampling interval the governor follows:
	// a busy minute averaged into a longer interval could read as quiet,
	// so with slower sampling it leaves the default alone.
	MaxInterval = 5 * time.Second
	// minJudged is the least time one judgement covers: CPU time is
	// counted in 10 ms ticks, so a 100 ms sample's share is too coarse to
	// judge alone.
	minJudged = time.Second
)

// Options configure a Governor. Zero values take the defaults.
type Options struct {
	Source Source
	// Up is the CPU use (% of one core, over one sampling interval) at
	// which the default GOMAXPROCS comes back.
	Up float64
	// Down is the CPU use below which, held for Hold, one P is enough.
	Down float64
	// Hold is how long (in sample time) CPU use must stay below Down.
	Hold time.Duration
	// Getenv reads the environment (default os.Getenv): a GOMAXPROCS set
	// there is the operator's choice, and the governor leaves it alone.
	Getenv func(string) string
	Logger *slog.Logger

	// seen, when set (tests), hears the time of every footprint Run took.
	seen func(time.Time)
}

// Governor is the part that sets GOMAXPROCS. Run it once.
type Governor struct {
	o   Options
	log *slog.Logger
}

// New returns a Governor reading o.Source, which must be set.
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
//
// Each judgement covers at least a second of samples (their CPU shares
// averaged by time). A footprint that is not newer than the last one (its
// reading failed) or has no rate yet (the first) is no judgement: the
// quiet spell starts again, and at one P the default comes back, since
// load it cannot see must not be run on one P. So does a sampling
// interval beyond MaxInterval.
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
	j := judge{g: g}
	next := g.o.Source.NextSystem()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-next:
		}
		next = g.o.Source.NextSystem() // before reading: a sample meanwhile is not missed
		j.sample(g.o.Source.Self())
	}
}

// judge is Run's state between samples.
type judge struct {
	g        *Governor
	one      bool
	last     time.Time // the newest footprint seen
	from     time.Time // start of the span being summed; zero: none
	busy     float64   // CPU % x seconds over the span
	quietFor time.Time // start of the quiet spell; zero: not quiet
}

func (j *judge) sample(f selfstat.Footprint, have bool) {
	if j.g.o.seen != nil {
		defer j.g.o.seen(f.Time)
	}
	if !have || !f.Time.After(j.last) || j.last.IsZero() || f.Time.Sub(j.last) > MaxInterval {
		// No reading, a stale one, the first one (no rate) or slow sampling.
		if have && f.Time.After(j.last) {
			j.last = f.Time
		}
		j.from, j.busy, j.quietFor = time.Time{}, 0, time.Time{}
		j.setDefault(f.CPUPercent, "no current reading")
		return
	}
	dt := f.Time.Sub(j.last)
	if j.from.IsZero() {
		j.from = j.last
	}
	j.last = f.Time
	j.busy += f.CPUPercent * dt.Seconds()
	span := f.Time.Sub(j.from)
	if span < minJudged {
		return
	}
	cpu := j.busy / span.Seconds()
	j.from, j.busy = time.Time{}, 0
	switch {
	case cpu >= j.g.o.Up:
		j.quietFor = time.Time{}
		j.setDefault(cpu, "busy")
	case cpu < j.g.o.Down:
		if j.quietFor.IsZero() {
			j.quietFor = f.Time.Add(-span)
		}
		if !j.one && f.Time.Sub(j.quietFor) >= j.g.o.Hold {
			runtime.GOMAXPROCS(1)
			j.one = true
			j.g.log.Debug("quiet: one P", "cpu_percent", cpu)
		}
	default:
		j.quietFor = time.Time{}
	}
}

// setDefault gives the runtime its default back if it runs on one P.
func (j *judge) setDefault(cpu float64, why string) {
	if !j.one {
		return
	}
	runtime.SetDefaultGOMAXPROCS()
	j.one = false
	j.g.log.Debug(why+": default GOMAXPROCS", "gomaxprocs", runtime.GOMAXPROCS(0), "cpu_percent", cpu)
}
