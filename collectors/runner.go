package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/internal/grid"
	"github.com/dashd/dashd/model"
)

// Runner defaults, applied by NewRunner to zero RunnerOptions fields.
const (
	DefaultMaxConcurrent = 8
	DefaultFlapWindow    = 10 * time.Minute
	DefaultFlapChanges   = 5
	DefaultMaxStartDelay = 3 * time.Second
	// DefaultAbandonAfter is how long past its timeout a check that ignores
	// its context is waited for before the run is reported as hung.
	DefaultAbandonAfter = 2 * time.Second
)

// RunnerOptions configures a Runner. The zero value is usable.
type RunnerOptions struct {
	// MaxConcurrent bounds how many checks run at the same moment
	// (config collect.max_concurrent_checks; default 8).
	MaxConcurrent int
	// Logger receives check panics, build errors and hung checks; slog.Default when nil.
	Logger *slog.Logger
	// Sink receives every result and every state change (see Sink).
	// Nil discards them (tests that only read Statuses).
	Sink Sink
	// Now stamps results, events and flap windows; time.Now when nil.
	// Scheduling always uses the real clock.
	Now func() time.Time
	// FlapWindow and FlapChanges: a check whose state changed FlapChanges
	// times within FlapWindow is flapping (defaults 10m and 5).
	FlapWindow  time.Duration
	FlapChanges int
	// MaxStartDelay caps the random delay before a check's first run
	// (default 3s): checks spread out without making the dashboard wait a
	// whole interval after start.
	MaxStartDelay time.Duration
	// AbandonAfter: see DefaultAbandonAfter.
	AbandonAfter time.Duration
	// Align, when positive, starts every run on a multiple of Align in wall
	// clock time counted from the Unix epoch (package grid; whole seconds
	// for 1s), if the check's interval is at least Align. dashd aligns runs
	// with host sampling, which ticks on the same grid: the process then
	// wakes once per tick for everything instead of once more for every
	// run, and waking is a large part of an idle daemon's CPU. The random
	// start delay still spreads checks over different ticks.
	Align time.Duration
	// Subreaper makes the process a child subreaper while Run runs, so that
	// processes a command check's command leaves behind (a double-forked
	// daemon) are handed to dashd instead of init, and killed and reaped
	// when the run ends (see the package documentation). It is off by
	// default because the setting is process-wide: at most one Runner of a
	// process may set it, and while it runs, every child process the
	// process starts in a process group of its own must be a command
	// check's. The daemon sets it.
	Subreaper bool
	// Self is where dashd itself listens, for checks that target it
	// (url: self:/healthz, address: self; see SelfAt). Zero: such checks
	// show as down, saying the address is not known.
	Self Self
	// Past is what the checks did before this process started (see
	// PastFromEvents): a check's flap history survives a restart, so a
	// check that was flapping is told to have stopped when it has, instead
	// of the news being lost with the old process. Each check's entry is
	// used once, when the check is first applied.
	Past map[string]Past
}

// Past is a check's recent history from storage.
type Past struct {
	// Changes are its state changes within the flap window, oldest first.
	Changes []time.Time
	// Flapping is whether it was flapping when the last process stopped.
	Flapping bool
}

// PastFromEvents reads, from stored events (any order), each check's
// state changes within window before now and whether its last flapping
// event said it was flapping.
func PastFromEvents(events []model.Event, now time.Time, window time.Duration) map[string]Past {
	out := map[string]Past{}
	last := map[string]time.Time{} // time of the newest flapping event seen per check
	for _, e := range events {
		switch e.Kind {
		case model.EventCheck:
			// Leaving unknown is a check starting up, not instability
			// (as the tracker counts).
			if e.From == model.StateUnknown || now.Sub(e.Time) >= window || e.Time.After(now) {
				continue
			}
			p := out[e.Check]
			p.Changes = append(p.Changes, e.Time)
			out[e.Check] = p
		case model.EventFlapping:
			if t, ok := last[e.Check]; ok && !e.Time.After(t) {
				continue
			}
			last[e.Check] = e.Time
			p := out[e.Check]
			p.Flapping = e.To == model.StateDegraded
			out[e.Check] = p
		}
	}
	for name, p := range out {
		slices.SortFunc(p.Changes, func(a, b time.Time) int { return a.Compare(b) })
		out[name] = p
	}
	return out
}

// Sink is where checks report: the one typed path of results and state
// changes out of the collectors (dashd's flow.Recorder stores each once and
// fans it out). Methods are called from check goroutines, possibly
// concurrently for different checks, in order for any one check, after the
// Status already shows the new result (Kind model.EventCheck for events).
// They must not block for long: a slow sink delays that check's next run.
// They may call Statuses and Status.
type Sink interface {
	Result(model.Result)
	Event(model.Event)
}

// Status is the latest state of one check: what the dashboard, badges and API read.
type Status struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Group       string `json:"group,omitempty"`
	Description string `json:"description,omitempty"`
	// State is the damped state (see the package documentation).
	State model.State `json:"state"`
	// LastResult is the state of the latest run, which may disagree with
	// State while fail_after or recover_after is still counting.
	LastResult model.State `json:"last_result"`
	// Reason and Detail come from the latest run.
	Reason  string        `json:"reason,omitempty"`
	Detail  string        `json:"detail,omitempty"`
	Latency time.Duration `json:"latency_ns"`
	// LastCheck is when the latest run finished; zero before the first.
	LastCheck time.Time `json:"last_check,omitzero"`
	// LastChange is when State last changed; zero while it never has.
	LastChange time.Time          `json:"last_change,omitzero"`
	Flapping   bool               `json:"flapping"`
	Values     map[string]float64 `json:"values,omitempty"`
	// Badge false means the check's public badges answer 404.
	Badge    bool          `json:"badge"`
	Interval time.Duration `json:"interval_ns"`
	Timeout  time.Duration `json:"timeout_ns"`
}

// Runner runs checks, each in its own goroutine, and keeps their latest state.
//
// Lock order: Runner.mu is never held while a check runs or a callback is called.
type Runner struct {
	opts RunnerOptions
	log  *slog.Logger
	sem  chan struct{}

	mu     sync.Mutex
	order  []string          // check names in configuration order
	checks map[string]*entry // by name
	ctx    context.Context   // non-nil while Run runs
	wg     sync.WaitGroup    // one per started check goroutine
	reaper *reaper           // nil unless opts.Subreaper
}

// entry is one configured check and its live state. cfg and check never
// change; a changed configuration gets a new entry. The other fields are
// guarded by Runner.mu.
type entry struct {
	cfg    config.Check
	check  Check
	cancel context.CancelFunc // nil until started

	// now asks the check's loop for a run at once (RunNow); one request
	// waits at most, more are the same request.
	now chan struct{}

	st        tracker
	last      Outcome
	hasResult bool
	lastCheck time.Time
}

// NewRunner returns a Runner with defaults filled in. It runs nothing until Run.
func NewRunner(opts RunnerOptions) *Runner {
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = DefaultMaxConcurrent
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.FlapWindow <= 0 {
		opts.FlapWindow = DefaultFlapWindow
	}
	if opts.FlapChanges <= 0 {
		opts.FlapChanges = DefaultFlapChanges
	}
	if opts.MaxStartDelay <= 0 {
		opts.MaxStartDelay = DefaultMaxStartDelay
	}
	if opts.AbandonAfter <= 0 {
		opts.AbandonAfter = DefaultAbandonAfter
	}
	r := &Runner{
		opts:   opts,
		log:    opts.Logger,
		sem:    make(chan struct{}, opts.MaxConcurrent),
		checks: map[string]*entry{},
	}
	if opts.Subreaper {
		r.reaper = newReaper(opts.Logger)
	}
	return r
}

// Run starts every applied check and runs them until ctx ends, then stops
// them and waits for their goroutines. With Subreaper, the process is a
// child subreaper from before the first check starts until after the last
// one has stopped and what it left has been reaped. It returns nil on a
// normal stop.
func (r *Runner) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.ctx != nil {
		r.mu.Unlock()
		return errors.New("collectors: runner already running")
	}
	stopReaper := func() {}
	if r.reaper != nil {
		ctx, stopReaper = r.startReaper(ctx)
	}
	r.ctx = ctx
	for _, name := range r.order {
		r.start(r.checks[name])
	}
	r.mu.Unlock()

	<-ctx.Done()

	r.mu.Lock()
	r.ctx = nil // no goroutine starts after this, so Wait below is final
	for _, e := range r.checks {
		e.cancel = nil
	}
	r.mu.Unlock()
	r.wg.Wait()
	stopReaper()
	return nil
}

// Apply makes checks the configured set, at any time (before Run, or while
// it runs on a config reload): new checks start, removed ones stop, changed
// ones restart, and unchanged ones keep running with their state untouched.
//
// Checks compare with reflect.DeepEqual on the whole config.Check, Spec
// included, except Line and Column: a check that merely moved in the file is
// unchanged. A changed check keeps showing its previous state until its first
// new result, which then applies at once (its old failure streak judged a
// different configuration).
//
// A check that cannot be built still appears, as down with the reason; the
// returned error joins every such problem (and duplicate names).
func (r *Runner) Apply(checks []config.Check) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	next := make(map[string]*entry, len(checks))
	order := make([]string, 0, len(checks))
	for _, c := range checks {
		if _, dup := next[c.Name]; dup {
			errs = append(errs, fmt.Errorf("collectors: duplicate check name %q ignored", c.Name))
			continue
		}
		old := r.checks[c.Name]
		order = append(order, c.Name)
		if old != nil && sameCheck(old.cfg, c) {
			next[c.Name] = old
			continue
		}
		ch, err := newCheck(c, r.opts.Self)
		if err != nil {
			errs = append(errs, err)
			r.log.Error("check cannot run", "check", c.Name, "err", err)
			ch = brokenCheck{reason: shorten("config: "+err.Error(), maxReason)}
		}
		e := &entry{cfg: c, check: ch, now: make(chan struct{}, 1),
			st: newTracker(c.FailAfter, c.RecoverAfter, r.opts.FlapWindow, r.opts.FlapChanges)}
		if old != nil {
			e.st = old.st.restart(c.FailAfter, c.RecoverAfter)
			e.last, e.hasResult, e.lastCheck = old.last, old.hasResult, old.lastCheck
			old.stop()
		} else if p, ok := r.opts.Past[c.Name]; ok {
			e.st.changes, e.st.flapping = slices.Clone(p.Changes), p.Flapping
			delete(r.opts.Past, c.Name)
		}
		next[c.Name] = e
		if r.ctx != nil {
			r.start(e)
		}
	}
	for name, old := range r.checks {
		if next[name] == nil {
			old.stop()
		}
	}
	r.checks, r.order = next, order
	return errors.Join(errs...)
}

// ErrUnknownCheck is returned by RunNow for a name no check has.
var ErrUnknownCheck = errors.New("collectors: no such check")

// RunNow asks a check to run at once instead of at its next interval (an
// operator confirming a fix). Asking again before the run starts adds
// nothing: runs are never queued up, and the concurrency bound holds.
func (r *Runner) RunNow(name string) error {
	r.mu.Lock()
	e := r.checks[name]
	r.mu.Unlock()
	if e == nil {
		return fmt.Errorf("%w: %q", ErrUnknownCheck, name)
	}
	select {
	case e.now <- struct{}{}:
	default: // a run is already asked for
	}
	return nil
}

func sameCheck(a, b config.Check) bool {
	// Position and spelling in the file do not change what runs.
	a.Line, a.Column, b.Line, b.Column = 0, 0, 0, 0
	a.Source, b.Source = "", ""
	return reflect.DeepEqual(a, b)
}

func (e *entry) stop() {
	if e.cancel != nil {
		e.cancel()
		e.cancel = nil
	}
}

// start launches e's goroutine; r.mu is held and r.ctx is set.
func (r *Runner) start(e *entry) {
	ctx, cancel := context.WithCancel(r.ctx)
	e.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer cancel()
		r.loop(ctx, e)
	}()
}

// loop runs e soon after start (random delay up to MaxStartDelay, so checks
// do not fire in lockstep), then every interval, until ctx ends. With Align
// set, each run waits for the first multiple of Align at or after its due
// time (grid.AtOrAfter).
func (r *Runner) loop(ctx context.Context, e *entry) {
	interval := e.cfg.Interval.D()
	if interval <= 0 {
		interval = config.DefaultCheckInterval
	}
	align := r.opts.Align
	if align > interval {
		align = 0 // never stretch a short interval to the grid
	}
	var delay time.Duration
	if spread := min(interval, r.opts.MaxStartDelay); spread > 0 {
		delay = rand.N(spread)
	}
	// due keeps the cadence of the first run; the timer fires at due
	// moved up to the grid.
	due := time.Now().Add(delay)
	timer := time.NewTimer(time.Until(grid.AtOrAfter(due, align)))
	defer timer.Stop()
	for {
		manual := false
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-e.now:
			// Asked for by someone watching (RunNow): an extra run; the
			// one that was due still comes when due.
			manual = true
		}
		select {
		case r.sem <- struct{}{}:
		case <-ctx.Done():
			return
		}
		out := r.runOnce(ctx, e)
		<-r.sem
		if ctx.Err() != nil {
			return // stopped mid-run: the cancellation is not the service's fault
		}
		r.publish(e, out)

		// Skip runs missed while the check was slow or waiting for a slot.
		now := time.Now()
		if !manual {
			due = due.Add(interval)
		}
		if due.Before(now) {
			due = now.Add(interval - now.Sub(due)%interval)
		}
		timer.Reset(grid.AtOrAfter(due, align).Sub(now))
	}
}

// runOnce runs the check under its timeout in a goroutine of its own, so a
// panic is caught and a check that ignores its context cannot hold the
// loop: after AbandonAfter past the timeout, the run is reported as hung and
// left behind.
func (r *Runner) runOnce(ctx context.Context, e *entry) Outcome {
	timeout := e.cfg.Timeout.D()
	if timeout <= 0 {
		timeout = config.DefaultCheckTimeout
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	done := make(chan Outcome, 1) // buffered: an abandoned run must not block
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.log.Error("check panicked", "check", e.cfg.Name, "panic", p, "stack", string(debug.Stack()))
				done <- Outcome{State: model.StateDown, Reason: shorten(fmt.Sprintf("panic: %v", p), maxReason)}
			}
		}()
		done <- e.check.Run(rctx)
	}()

	var out Outcome
	select {
	case out = <-done:
	case <-rctx.Done():
		grace := time.NewTimer(r.opts.AbandonAfter)
		select {
		case out = <-done:
			grace.Stop()
		case <-grace.C:
			r.log.Warn("check ignored its timeout; abandoning the run", "check", e.cfg.Name, "timeout", timeout)
			out = Outcome{State: model.StateDown, Reason: fmt.Sprintf("timeout after %s (check did not stop)", timeout)}
		}
	}
	if out.Latency == 0 {
		out.Latency = time.Since(start)
	}
	if out.State != model.StateUp && out.State != model.StateDegraded {
		out.State = model.StateDown
	}
	// Every check reports its timeout its own way ("read: i/o timeout",
	// "timeout", "signal: killed"); say it once, the same way for all, and
	// keep the check's words as detail.
	if errors.Is(rctx.Err(), context.DeadlineExceeded) && ctx.Err() == nil &&
		out.State == model.StateDown && !strings.HasPrefix(out.Reason, "timeout after") {
		if out.Reason != "" && out.Reason != "timeout" {
			out.Detail = strings.TrimSpace(out.Reason + "\n" + out.Detail)
		}
		out.Reason = fmt.Sprintf("timeout after %s", timeout)
	}
	// Whatever a check type says, credentials in URLs never reach the
	// page, the API, storage or the logs.
	out.Reason, out.Detail = config.RedactURLs(out.Reason), config.RedactURLs(out.Detail)
	return out
}

// publish records a result and tells the subscribers. A result from a check
// that was removed or replaced meanwhile is dropped.
func (r *Runner) publish(e *entry, out Outcome) {
	now := r.opts.Now()
	r.mu.Lock()
	if r.checks[e.cfg.Name] != e {
		r.mu.Unlock()
		return
	}
	wasFlapping := e.st.flapping
	from, to, changed := e.st.observe(out.State, now)
	flapping := e.st.flapping
	changes := len(e.st.changes)
	e.last, e.hasResult, e.lastCheck = out, true, now
	r.mu.Unlock()

	if r.opts.Sink != nil {
		r.opts.Sink.Result(model.Result{
			Check: e.cfg.Name, Time: now, State: out.State, Latency: out.Latency,
			Reason: out.Reason, Values: out.Values,
		})
	}
	if changed && r.opts.Sink != nil {
		r.opts.Sink.Event(model.Event{
			Time: now, Kind: model.EventCheck, Check: e.cfg.Name, From: from, To: to, Reason: out.Reason,
		})
	}
	if flapping != wasFlapping && r.opts.Sink != nil {
		// Flapping is news of its own: a check that keeps changing state
		// is a problem even while each change is damped.
		ev := model.Event{Time: now, Kind: model.EventFlapping, Check: e.cfg.Name, From: to, To: to,
			Reason: fmt.Sprintf("changed state %d times in %s", changes, r.opts.FlapWindow)}
		if !flapping {
			ev.Reason = "stopped flapping"
		}
		ev.From, ev.To = flapStates(flapping)
		r.opts.Sink.Event(ev)
	}
}

// flapStates encodes a flapping change in an event's states: into
// degraded when it starts, back to up when it stops.
func flapStates(flapping bool) (from, to model.State) {
	if flapping {
		return model.StateUp, model.StateDegraded
	}
	return model.StateDegraded, model.StateUp
}

// Statuses returns the latest state of every check in configuration order.
// The values are copies.
func (r *Runner) Statuses() []Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Status, 0, len(r.order))
	for _, name := range r.order {
		out = append(out, r.checks[name].status())
	}
	return out
}

// Status returns the latest state of one check.
func (r *Runner) Status(name string) (Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.checks[name]
	if !ok {
		return Status{}, false
	}
	return e.status(), true
}

// status builds e's Status; Runner.mu is held.
func (e *entry) status() Status {
	s := Status{
		Name: e.cfg.Name, Type: e.cfg.Type, Group: e.cfg.Group, Description: e.cfg.Description,
		State: e.st.state, LastResult: model.StateUnknown,
		LastChange: e.st.lastChange, Flapping: e.st.flapping,
		Badge: e.cfg.Badge, Interval: e.cfg.Interval.D(), Timeout: e.cfg.Timeout.D(),
	}
	if e.hasResult {
		s.LastResult = e.last.State
		s.Reason, s.Detail, s.Latency = e.last.Reason, e.last.Detail, e.last.Latency
		s.LastCheck = e.lastCheck
		s.Values = maps.Clone(e.last.Values)
	}
	return s
}
