package incident

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the
// Manager's loop, the alerter's and the storage writer all end. Two
// fasthttp goroutines (the live push test's server) are its own, not
// per-connection, and outlive a shutdown (see hub's TestMain).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
	)
}

// t0 is when the tests' clocks start.
var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

// clock is a settable clock: a fixed base (or the real time when base is
// zero) plus an offset tests move.
type clock struct {
	mu   sync.Mutex
	base time.Time
	off  time.Duration
}

func fixedClock(base time.Time) *clock { return &clock{base: base} }
func realClock() *clock                { return &clock{} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.base.IsZero() {
		return time.Now().Add(c.off)
	}
	return c.base.Add(c.off)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// logBuf collects log lines from several goroutines; a failed test shows
// them.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// env is a real stack for incidents: storage in a temp dir with its
// writer running, the flow Recorder, and a Manager subscribed to it.
type env struct {
	t      *testing.T
	clk    *clock
	dir    string
	logs   *logBuf
	latest *state.Latest
	db     *storage.DB
	stopDB func()
	rec    *flow.Recorder
	m      *Manager
	// opts, when set, adjusts the Manager's options before New.
	opts func(*Options)
	// stop ends the running Manager (nil while none runs).
	stop func()
}

// newEnv builds the stack with cfg (config.Default when nil) and a
// Manager, not yet running.
func newEnv(t *testing.T, clk *clock, cfg *config.Config, opts func(*Options)) *env {
	t.Helper()
	if cfg == nil {
		cfg = config.Default()
	}
	e := &env{t: t, clk: clk, dir: t.TempDir(), logs: &logBuf{}, opts: opts}
	e.latest = state.New(cfg, clk.Now())
	e.open()
	t.Cleanup(func() {
		e.stopManager()
		e.closeDB()
		if t.Failed() {
			t.Logf("log:\n%s", e.logs.String())
		}
	})
	return e
}

func (e *env) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// open opens the database with its writer, a Recorder on it and a new
// Manager.
func (e *env) open() {
	t := e.t
	t.Helper()
	opts := storage.DefaultOptions()
	opts.Clock = e.clk.Now
	opts.Logger = e.logger().With("part", "storage")
	opts.Timeout = 5 * time.Second
	opts.InitialMmapSize = 0
	db, err := storage.Open(filepath.Join(e.dir, "dashd.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = db.Run(ctx); close(done) }()
	e.db = db
	e.stopDB = func() {
		cancel()
		<-done
		if err := db.Close(); err != nil {
			t.Errorf("storage Close: %v", err)
		}
	}
	e.rec, err = flow.New(flow.Options{Store: db, Latest: e.latest, Logger: e.logger().With("part", "flow")})
	if err != nil {
		t.Fatal(err)
	}
	o := Options{Store: db, Recorder: e.rec, Events: e.rec.Subscribe("incidents", 4096),
		DeliveryPoll: 50 * time.Millisecond, Logger: e.logger().With("part", "incidents"), Now: e.clk.Now}
	if e.opts != nil {
		e.opts(&o)
	}
	if e.m, err = New(o); err != nil {
		t.Fatal(err)
	}
}

func (e *env) closeDB() {
	if e.stopDB != nil {
		e.stopDB()
		e.stopDB = nil
	}
}

// run starts the Manager's Run; stopManager (or the cleanup) ends it and
// fails the test unless it returns nil promptly.
func (e *env) run() {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.m.Run(ctx) }()
	e.stop = func() {
		cancel()
		select {
		case err := <-errc:
			if err != nil {
				e.t.Errorf("Run returned %v, want nil", err)
			}
		case <-time.After(15 * time.Second):
			e.t.Errorf("Run did not return within 15s of its context ending")
		}
	}
}

func (e *env) stopManager() {
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
}

// restart stops the Manager, closes the database and opens both again,
// as a dashd restart does.
func (e *env) restart() {
	e.t.Helper()
	e.stopManager()
	e.closeDB()
	e.open()
}

// check records a check's state change through the flow, as the runner
// does, at the clock's time.
func (e *env) check(name string, from, to model.State, reason string) {
	e.rec.Event(model.Event{Time: e.clk.Now(), Kind: model.EventCheck, Check: name, From: from, To: to, Reason: reason})
}

// rule records a host rule's alert firing or resolving, as the alerter
// does (its key in Check).
func (e *env) rule(key string, firing bool, text string) {
	to := model.StateUp
	if firing {
		to = model.StateDown
	}
	e.rec.Event(model.Event{Time: e.clk.Now(), Kind: model.EventAlert, Check: key, To: to, Reason: text})
}

// settled waits until the Manager has handled everything the flow sent
// it so far: a no-op action queues behind the messages it has read, so
// wait for its buffer to drain first.
func (e *env) settled() {
	e.t.Helper()
	waitFor(e.t, 10*time.Second, "the Manager to read its messages", func() bool { return len(e.m.o.Events.C()) == 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.m.do(ctx, func(context.Context) error { return nil }); err != nil {
		e.t.Fatalf("settle: %v", err)
	}
}

// open returns the open incidents (from storage).
func (e *env) openIncidents() []model.Incident {
	e.t.Helper()
	incs, err := e.db.OpenIncidents()
	if err != nil {
		e.t.Fatal(err)
	}
	return incs
}

// incident returns incident id from storage.
func (e *env) incident(id uint64) model.Incident {
	e.t.Helper()
	inc, err := e.m.Get(id)
	if err != nil {
		e.t.Fatal(err)
	}
	return inc
}

// entries returns the whole timeline of incident id.
func (e *env) entries(id uint64) []model.IncidentEntry {
	e.t.Helper()
	var all []model.IncidentEntry
	for {
		es, err := e.m.Entries(id, uint64(len(all)), 0)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(es) == 0 {
			return all
		}
		all = append(all, es...)
	}
}

// storedEvents returns the stored events of kind, oldest first.
func (e *env) storedEvents(kind model.EventKind) []model.Event {
	e.t.Helper()
	evs, err := e.db.Events(0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []model.Event
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Kind == kind {
			out = append(out, evs[i])
		}
	}
	return out
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ctxT is a context for one call, bounded generously.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// kinds lists the kinds of entries, for messages and comparisons.
func kinds(es []model.IncidentEntry) []string {
	var out []string
	for _, e := range es {
		s := string(e.Kind)
		if e.Check != "" {
			s += ":" + e.Check
		}
		if e.Rule != "" {
			s += ":" + e.Rule
		}
		out = append(out, s)
	}
	return out
}

// isErr is errors.Is for tables, naming the error wanted.
func isErr(err, want error) error {
	if want == nil && err == nil || want != nil && errors.Is(err, want) {
		return nil
	}
	return fmt.Errorf("got %v, want %v", err, want)
}
