package collectors

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// script is a check whose runs follow a list of steps (the last repeats);
// it counts builds and runs so tests can see restarts.
type script struct {
	mu     sync.Mutex
	steps  []func(ctx context.Context) Outcome
	runs   int
	builds int
}

func (s *script) counts() (builds, runs int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.builds, s.runs
}

func states(names ...string) []func(context.Context) Outcome {
	var steps []func(context.Context) Outcome
	for _, n := range names {
		st, err := model.ParseState(n)
		if err != nil {
			panic(err)
		}
		steps = append(steps, func(context.Context) Outcome { return Outcome{State: st, Reason: "scripted " + n} })
	}
	return steps
}

// scriptSpec plugs a script into the Runner like a real check type.
type scriptSpec struct {
	s   *script
	tag string // changing it makes the config differ
}

func (*scriptSpec) Validate(config.Scope) {}

func (p *scriptSpec) build(config.Check) (Check, error) {
	p.s.mu.Lock()
	p.s.builds++
	p.s.mu.Unlock()
	return &scriptCheck{s: p.s}, nil
}

type scriptCheck struct{ s *script }

var _ Check = (*scriptCheck)(nil)

func (c *scriptCheck) Run(ctx context.Context) Outcome {
	c.s.mu.Lock()
	i := min(c.s.runs, len(c.s.steps)-1)
	c.s.runs++
	step := c.s.steps[i]
	c.s.mu.Unlock()
	return step(ctx)
}

func scriptCheckConfig(name string, s *script) config.Check {
	return config.Check{
		Name: name, Type: "script", Group: "g",
		Interval: config.Duration(20 * time.Millisecond), Timeout: config.Duration(time.Second),
		FailAfter: 2, RecoverAfter: 1, Badge: true, Spec: &scriptSpec{s: s},
	}
}

// recorder collects what the Runner tells its subscribers.
type recorder struct {
	mu      sync.Mutex
	events  []model.Event
	results []model.Result
}

func (r *recorder) Event(e model.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) Result(res model.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.results = append(r.results, res)
}

func (r *recorder) snapshot() ([]model.Event, []model.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]model.Event(nil), r.events...), append([]model.Result(nil), r.results...)
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// startRunner applies checks and runs r until the test ends.
func startRunner(t *testing.T, opts RunnerOptions, checks ...config.Check) *Runner {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	if opts.MaxStartDelay == 0 {
		opts.MaxStartDelay = 10 * time.Millisecond
	}
	r := NewRunner(opts)
	if err := r.Apply(checks); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return within 10s of cancel")
		}
	})
	return r
}

func TestRunner_EventsAndDamping(t *testing.T) {
	s := &script{steps: states("up", "down", "down", "up")}
	rec := &recorder{}
	clock := time.Unix(1_700_000_000, 0)
	r := startRunner(t, RunnerOptions{Sink: rec, Now: func() time.Time { return clock }},
		scriptCheckConfig("web", s))

	eventually(t, 10*time.Second, "three events", func() bool { ev, _ := rec.snapshot(); return len(ev) >= 3 })
	events, results := rec.snapshot()
	want := []struct{ from, to model.State }{
		{model.StateUnknown, model.StateUp}, {model.StateUp, model.StateDown}, {model.StateDown, model.StateUp},
	}
	for i, w := range want {
		e := events[i]
		if e.Kind != model.EventCheck || e.Check != "web" || e.From != w.from || e.To != w.to || !e.Time.Equal(clock) {
			t.Errorf("event %d = %+v, want %s -> %s at the injected clock", i, e, w.from, w.to)
		}
	}
	if events[1].Reason != "scripted down" {
		t.Errorf("event reason = %q", events[1].Reason)
	}
	if len(results) < 4 || results[1].State != model.StateDown || results[1].Check != "web" || results[1].Latency <= 0 {
		t.Errorf("results = %+v", results)
	}
	st, ok := r.Status("web")
	if !ok || st.State != model.StateUp || st.Group != "g" || !st.Badge || st.Interval != 20*time.Millisecond ||
		!st.LastCheck.Equal(clock) || !st.LastChange.Equal(clock) {
		t.Errorf("status = %+v", st)
	}
}

func TestRunner_Flapping(t *testing.T) {
	s := &script{steps: states("up", "down", "up", "down", "up", "down", "up")}
	c := scriptCheckConfig("flappy", s)
	c.FailAfter = 1
	rec := &recorder{}
	r := startRunner(t, RunnerOptions{FlapChanges: 4, Sink: rec}, c)
	eventually(t, 10*time.Second, "flapping", func() bool { st, _ := r.Status("flappy"); return st.Flapping })
	// Flapping is an event of its own, once, when it starts.
	eventually(t, 10*time.Second, "a flapping event", func() bool {
		evs, _ := rec.snapshot()
		n := 0
		for _, e := range evs {
			if e.Kind == model.EventFlapping && e.Check == "flappy" && e.To == model.StateDegraded && strings.Contains(e.Reason, "changed state 4 times") {
				n++
			}
		}
		return n == 1
	})
}

func TestRunner_PanicRecovered(t *testing.T) {
	s := &script{steps: append([]func(context.Context) Outcome{
		func(context.Context) Outcome { panic("boom: nil map") },
	}, states("up")...)}
	rec := &recorder{}
	r := startRunner(t, RunnerOptions{Sink: rec}, scriptCheckConfig("p", s))
	eventually(t, 10*time.Second, "recovery after the panic", func() bool { ev, _ := rec.snapshot(); return len(ev) >= 2 })
	events, _ := rec.snapshot()
	if events[0].To != model.StateDown || events[0].Reason != "panic: boom: nil map" || events[1].To != model.StateUp {
		t.Errorf("events = %+v", events)
	}
	if st, _ := r.Status("p"); st.State != model.StateUp {
		t.Errorf("status = %+v", st)
	}
}

func TestRunner_Timeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release) // lets the abandoned run finish before goleak looks
	tests := []struct {
		name   string
		step   func(ctx context.Context) Outcome
		reason string
		detail string
	}{
		{"check honours its context", func(ctx context.Context) Outcome {
			<-ctx.Done()
			return down("read: " + errReason(ctx.Err()))
		}, "timeout after 50ms", "read: timeout"},
		{"check ignores its context", func(ctx context.Context) Outcome {
			<-release
			return up("too late")
		}, "timeout after 50ms (check did not stop)", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{steps: []func(context.Context) Outcome{tt.step}}
			c := scriptCheckConfig("slow", s)
			c.Timeout, c.Interval = config.Duration(50*time.Millisecond), config.Duration(time.Second)
			rec := &recorder{}
			r := startRunner(t, RunnerOptions{Sink: rec, AbandonAfter: 50 * time.Millisecond}, c)
			start := time.Now()
			eventually(t, 10*time.Second, "a result", func() bool { _, res := rec.snapshot(); return len(res) > 0 })
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("a 50ms timeout took %s", took)
			}
			st, _ := r.Status("slow")
			if st.State != model.StateDown || st.Reason != tt.reason || st.Detail != tt.detail {
				t.Errorf("status = %s %q detail %q, want down %q detail %q", st.State, st.Reason, st.Detail, tt.reason, tt.detail)
			}
		})
	}
}

func TestRunner_ConcurrencyBound(t *testing.T) {
	var active, peak atomic.Int32
	busy := func(ctx context.Context) Outcome {
		n := active.Add(1)
		defer active.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
		}
		return up("ok")
	}
	var checks []config.Check
	var scripts []*script
	for i := range 6 {
		s := &script{steps: []func(context.Context) Outcome{busy}}
		scripts = append(scripts, s)
		checks = append(checks, scriptCheckConfig(string(rune('a'+i)), s))
	}
	startRunner(t, RunnerOptions{MaxConcurrent: 2}, checks...)
	eventually(t, 20*time.Second, "every check to run 3 times", func() bool {
		for _, s := range scripts {
			if _, runs := s.counts(); runs < 3 {
				return false
			}
		}
		return true
	})
	if p := peak.Load(); p > 2 || p < 1 {
		t.Errorf("peak concurrent runs = %d, want 1..2", p)
	}
}

func TestRunner_Apply(t *testing.T) {
	a, b, c := &script{steps: states("up")}, &script{steps: states("down")}, &script{steps: states("up")}
	ca, cb := scriptCheckConfig("a", a), scriptCheckConfig("b", b)
	rec := &recorder{}
	r := startRunner(t, RunnerOptions{Sink: rec}, ca, cb)
	// Wait for the recorded results, not the runs: a run is counted before
	// its result lands in the status.
	eventually(t, 10*time.Second, "a and b to have results", func() bool {
		sa, _ := r.Status("a")
		sb, _ := r.Status("b")
		return !sa.LastCheck.IsZero() && !sb.LastCheck.IsZero()
	})
	stB, _ := r.Status("b")

	// b unchanged but moved in the file, a changed, c new.
	cb.Line, cb.Column = 40, 5
	ca2 := ca
	ca2.Spec = &scriptSpec{s: a, tag: "v2"}
	cc := scriptCheckConfig("c", c)
	if err := r.Apply([]config.Check{cb, ca2, cc}); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.Status("a"); st.State != model.StateUp {
		t.Errorf("a changed check must keep showing its state until its next result, got %s", st.State)
	}
	eventually(t, 10*time.Second, "c to run", func() bool { _, rc := c.counts(); return rc > 0 })
	if builds, _ := a.counts(); builds != 2 {
		t.Errorf("a built %d times, want 2 (restarted once)", builds)
	}
	if builds, _ := b.counts(); builds != 1 {
		t.Errorf("b built %d times, want 1 (left alone)", builds)
	}
	if st, _ := r.Status("b"); st.LastChange != stB.LastChange || st.State != model.StateDown {
		t.Errorf("b's state was reset: %+v", st)
	}
	var names []string
	for _, st := range r.Statuses() {
		names = append(names, st.Name)
	}
	if strings.Join(names, ",") != "b,a,c" {
		t.Errorf("Statuses order = %v, want configuration order b,a,c", names)
	}

	// Remove a and c: their goroutines stop, their runs stop.
	if err := r.Apply([]config.Check{cb}); err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Status("a"); ok {
		t.Error("removed check a still has a status")
	}
	time.Sleep(100 * time.Millisecond) // a run in flight at removal may finish
	_, ra := a.counts()
	_, rc := c.counts()
	_, rb := b.counts()
	time.Sleep(200 * time.Millisecond)
	if _, ra2 := a.counts(); ra2 != ra {
		t.Errorf("removed check a kept running: %d -> %d runs", ra, ra2)
	}
	if _, rc2 := c.counts(); rc2 != rc {
		t.Errorf("removed check c kept running: %d -> %d runs", rc, rc2)
	}
	eventually(t, 10*time.Second, "b to keep running", func() bool { _, rb2 := b.counts(); return rb2 > rb })
	for _, e := range func() []model.Event { ev, _ := rec.snapshot(); return ev }() {
		if e.Check == "b" && e.From != model.StateUnknown {
			t.Errorf("b emitted %+v though nothing about it changed", e)
		}
	}
}

func TestRunner_BrokenCheckShowsDown(t *testing.T) {
	r := NewRunner(RunnerOptions{Logger: quietLogger(), MaxStartDelay: 10 * time.Millisecond})
	bad := config.Check{Name: "bad", Type: "http", Interval: config.Duration(time.Second), Timeout: config.Duration(100 * time.Millisecond),
		FailAfter: 2, RecoverAfter: 1, Spec: &HTTPSpec{URL: "http://x", Method: "GET", ExpectStatus: []string{"2xx"}}}
	err := r.Apply([]config.Check{bad})
	if err == nil || !strings.Contains(err.Error(), `check "bad"`) {
		t.Fatalf("Apply error = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()
	eventually(t, 10*time.Second, "a result", func() bool { st, _ := r.Status("bad"); return !st.LastCheck.IsZero() })
	st, _ := r.Status("bad")
	if st.State != model.StateDown || !strings.HasPrefix(st.Reason, "config: ") || !strings.Contains(st.Reason, "expect_status") {
		t.Errorf("status = %s %q", st.State, st.Reason)
	}
}

func TestRunner_FirstRunIsSoonAndRunIsExclusive(t *testing.T) {
	s := &script{steps: states("up")}
	c := scriptCheckConfig("hourly", s)
	c.Interval = config.Duration(time.Hour)
	r := startRunner(t, RunnerOptions{MaxStartDelay: 50 * time.Millisecond}, c)
	eventually(t, 5*time.Second, "the first run of an hourly check", func() bool { _, runs := s.counts(); return runs == 1 })
	if err := r.Run(context.Background()); err == nil {
		t.Error("a second concurrent Run must fail")
	}
}

func TestStatus_JSON(t *testing.T) {
	r := NewRunner(RunnerOptions{})
	c := scriptCheckConfig("web", &script{steps: states("up")})
	c.Description = "front page"
	if err := r.Apply([]config.Check{c}); err != nil {
		t.Fatal(err)
	}
	sts := r.Statuses()
	if len(sts) != 1 || sts[0].State != model.StateUnknown || sts[0].LastResult != model.StateUnknown {
		t.Fatalf("before Run: %+v", sts)
	}
	data, err := json.Marshal(sts[0])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"web","type":"script","group":"g","description":"front page","state":"unknown","last_result":"unknown","latency_ns":0,"flapping":false,"badge":true,"interval_ns":20000000,"timeout_ns":1000000000}`
	if string(data) != want {
		t.Errorf("JSON:\n got %s\nwant %s", data, want)
	}
}

// TestRunner_Align: with Align set, runs start on the grid (the check
// interval, not a multiple of it, is kept on average).
func TestRunner_Align(t *testing.T) {
	// 210ms does not divide a day: its grid counted from year 1 (what
	// time.Truncate counts from) lies 60ms after each point of the grid
	// counted from the Unix epoch, on which the host sampler ticks. Runs
	// must land on the latter, so offsets are measured from it.
	const align = 210 * time.Millisecond
	var mu sync.Mutex
	var offsets []time.Duration
	s := &script{steps: []func(context.Context) Outcome{func(context.Context) Outcome {
		now := time.Now()
		mu.Lock()
		offsets = append(offsets, time.Duration(now.UnixNano()%int64(align)))
		mu.Unlock()
		return up("ok")
	}}}
	c := scriptCheckConfig("aligned", s)
	// 2.5 grid steps: without alignment the runs would alternate between two
	// offsets half a step apart, so most could not be near the grid.
	c.Interval = config.Duration(5 * align / 2)
	startRunner(t, RunnerOptions{Align: align, MaxStartDelay: 2 * align}, c)
	const runs = 10
	eventually(t, 30*time.Second, "10 runs", func() bool { _, n := s.counts(); return n >= runs })
	mu.Lock()
	defer mu.Unlock()
	// Timers fire late, never early: an aligned run starts just after a
	// grid point. Unaligned runs would land anywhere in the 210ms, three in
	// four of them later than 52ms, and runs on the year-1 grid all 60ms
	// late (timers never fire early); allow a busy machine three such.
	late := 0
	for _, o := range offsets[:runs] {
		if o > align/4 {
			late++
		}
	}
	if late > 3 {
		t.Errorf("%d of %d runs started more than %s after a %s grid point: %v", late, runs, align/4, align, offsets[:runs])
	}
}

func TestPastFromEvents(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ago := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
	ev := func(kind model.EventKind, check string, at time.Time, from, to model.State) model.Event {
		return model.Event{Kind: kind, Check: check, Time: at, From: from, To: to}
	}
	events := []model.Event{
		// Newest first, as storage returns them.
		ev(model.EventCheck, "a", ago(1), model.StateDown, model.StateUp),
		ev(model.EventFlapping, "a", ago(2), model.StateUp, model.StateDegraded),
		ev(model.EventCheck, "a", ago(3), model.StateUp, model.StateDown),
		ev(model.EventCheck, "a", ago(30), model.StateUp, model.StateDown),   // outside the window
		ev(model.EventCheck, "b", ago(4), model.StateUnknown, model.StateUp), // start-up, not a change
		ev(model.EventFlapping, "c", ago(5), model.StateDegraded, model.StateUp),
		ev(model.EventFlapping, "c", ago(8), model.StateUp, model.StateDegraded),
	}
	got := PastFromEvents(events, now, 10*time.Minute)
	want := map[string]Past{
		"a": {Changes: []time.Time{ago(3), ago(1)}, Flapping: true},
		"c": {Flapping: false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PastFromEvents =\n%+v\nwant\n%+v", got, want)
	}
}

// TestRunner_PastFlappingEnds: a check that was flapping when the last
// process stopped, and no longer changes, is reported to have stopped
// flapping (the alert raised for it would otherwise never resolve).
func TestRunner_PastFlappingEnds(t *testing.T) {
	s := &script{steps: states("up")}
	rec := &recorder{}
	r := startRunner(t, RunnerOptions{Sink: rec, Past: map[string]Past{"steady": {Flapping: true}}}, scriptCheckConfig("steady", s))
	eventually(t, 10*time.Second, "a stopped-flapping event", func() bool {
		evs, _ := rec.snapshot()
		for _, e := range evs {
			if e.Kind == model.EventFlapping && e.Check == "steady" && e.To == model.StateUp {
				return true
			}
		}
		return false
	})
	if st, _ := r.Status("steady"); st.Flapping {
		t.Error("still flapping")
	}
}
