package alert

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"go.uber.org/goleak"
)

// TestMain fails the package when a test leaves a goroutine behind: the
// deliverers, the direct sends and the loop all end with Run.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testHost is the host label of every test alert.
const testHost = "db-1"

// testTick is the Alerter's evaluation tick in tests (5s in the daemon).
const testTick = 50 * time.Millisecond

// clock is a settable clock: the real time (or a fixed base) plus an
// offset the test moves forward.
type clock struct {
	mu   sync.Mutex
	base time.Time // zero: the real time
	off  time.Duration
}

// realClock follows the wall clock; Advance moves it ahead of it.
func realClock() *clock { return &clock{} }

// fixedClock stands at base until Advance moves it.
func fixedClock(base time.Time) *clock { return &clock{base: base} }

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

// logBuf collects log lines from several goroutines; a failed test shows them.
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

// loadConfig parses testdata/name with the real check and channel types;
// ${VAR} references are read from vars only.
func loadConfig(t *testing.T, name string, vars map[string]string) *config.Config {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(name, data, config.Options{CheckTypes: collectors.Types(), ChannelTypes: channel.Types(),
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }})
	if err != nil {
		t.Fatalf("config %s: %v", name, err)
	}
	return cfg
}

// env is a real alerting stack: storage in a temp dir with its writer
// running, the flow Recorder, the latest state, a collectors.Runner that
// knows the configured checks (not running them unless a test does), and
// an Alerter attached to the flow.
type env struct {
	t      *testing.T
	clk    *clock
	dir    string
	db     *storage.DB
	stopDB func()
	rec    *flow.Recorder
	// sub sees every event the Recorder stores (check reads it).
	sub    *flow.Subscription
	latest *state.Latest
	runner *collectors.Runner
	a      *Alerter
	// stop ends the running Alerter (nil while none runs).
	stop func()
	// wrap, when set, is what newAlerter gives the Alerter as its Store
	// instead of the database itself (an instrumented pass-through).
	wrap func(*storage.DB) Store
	// hosts, when set, gives the Alerter fleet hosts' hello labels (a
	// hub's).
	hosts HostLabels
	logs  *logBuf
}

// newEnv builds the stack for testdata/file in a temp dir.
func newEnv(t *testing.T, file string, vars map[string]string, clk *clock) *env {
	return newEnvIn(t, t.TempDir(), file, vars, clk)
}

// newEnvIn builds the stack with its database in dir.
func newEnvIn(t *testing.T, dir, file string, vars map[string]string, clk *clock) *env {
	t.Helper()
	e := &env{t: t, clk: clk, dir: dir, logs: &logBuf{}}
	cfg := loadConfig(t, file, vars)
	e.latest = state.New(cfg, clk.Now())
	e.runner = collectors.NewRunner(collectors.RunnerOptions{Logger: e.logger(), Now: clk.Now, MaxStartDelay: time.Millisecond})
	if err := e.runner.Apply(cfg.Checks); err != nil {
		t.Fatal(err)
	}
	e.open()
	t.Cleanup(func() {
		e.stopAlerter()
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
// Alerter attached (the runner's sink is the new Recorder).
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
	e.sub = e.rec.Subscribe("test", 4096)
	e.a = e.newAlerter()
}

func (e *env) newAlerter() *Alerter {
	e.t.Helper()
	var store Store = e.db
	if e.wrap != nil {
		store = e.wrap(e.db)
	}
	a, err := New(Options{
		Store: store, Recorder: e.rec, Events: e.rec.Subscribe("alerts", 1024), Latest: e.latest, Checks: e.runner,
		NewSender: func(c config.Channel) (Sender, error) {
			return channel.New(c, channel.Options{Now: e.clk.Now, Hostname: "dashd.test",
				RepeatInterval: e.latest.Config().Alerts.RepeatInterval.D()})
		},
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe,
		Host: testHost, Hosts: e.hosts, Logger: e.logger().With("part", "alerts"), Now: e.clk.Now,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	a.tick = testTick
	return a
}

func (e *env) closeDB() {
	if e.stopDB != nil {
		e.stopDB()
		e.stopDB = nil
	}
}

// run starts the Alerter's Run; stopAlerter (or the cleanup) ends it and
// fails the test unless it returns nil promptly.
func (e *env) run() {
	e.t.Helper()
	if e.stop != nil {
		e.t.Fatal("the Alerter runs already")
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- e.a.Run(ctx) }()
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

func (e *env) stopAlerter() {
	if e.stop != nil {
		e.stop()
		e.stop = nil
	}
}

// restart stops the Alerter, closes the database and opens it again with a
// new Recorder and Alerter, as a dashd restart does.
func (e *env) restart() {
	e.t.Helper()
	e.stopAlerter()
	e.closeDB()
	e.open()
}

// check records a check's state change through the flow, as the runner
// does, at the clock's time; it returns the stored event.
func (e *env) check(name string, from, to model.State, reason string) model.Event {
	e.t.Helper()
	e.rec.Event(model.Event{Time: e.clk.Now(), Kind: model.EventCheck, Check: name, From: from, To: to, Reason: reason})
	return e.stored(func(ev model.Event) bool { return ev.Kind == model.EventCheck && ev.Check == name && ev.To == to })
}

// stored returns the newest event the flow fanned out that match accepts
// (Recorder.Event fans out before it returns); it fails the test when
// the event was not stored.
func (e *env) stored(match func(model.Event) bool) model.Event {
	e.t.Helper()
	var found model.Event
	for {
		select {
		case m := <-e.sub.C():
			if m.Kind == flow.KindEvent && match(m.Event) {
				found = m.Event
			}
			continue
		default:
		}
		break
	}
	if found.ID == 0 {
		e.t.Fatalf("the event was not stored (found %+v)", found)
	}
	return found
}

// outbox returns a channel's pending items.
func (e *env) outbox(ch string) []model.OutboxItem {
	e.t.Helper()
	items, err := e.db.Outbox(ch, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	return items
}

// deliveries returns the finished items, oldest first.
func (e *env) deliveries() []model.OutboxItem {
	e.t.Helper()
	d, err := e.db.Deliveries(1000)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(d)-1; i < j; i, j = i+1, j-1 {
		d[i], d[j] = d[j], d[i]
	}
	return d
}

// active returns the firing alert with key from storage.
func (e *env) active(key string) (model.Alert, bool) {
	e.t.Helper()
	alerts, err := e.db.ActiveAlerts()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, al := range alerts {
		if al.Key == key {
			return al, true
		}
	}
	return model.Alert{}, false
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

// settle gives the Alerter's loop and deliverers time to act on something
// that must NOT happen (a reminder, a retry): generous, as the machine is
// shared.
func settle() { time.Sleep(700 * time.Millisecond) }

// keys lists the alert keys of items.
func keys(items []model.OutboxItem) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.Alert.Key+"/"+string(it.Alert.State))
	}
	return out
}

// isBadSilence is errors.Is(err, ErrBadSilence), for tables.
func isBadSilence(err error) bool { return errors.Is(err, ErrBadSilence) }

// contains reports whether s contains every one of subs.
func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
