package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/notify"
	"github.com/dashd/dashd/scheduler"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// stackOptions tunes newTestStack. Zero values are test-speed defaults.
type stackOptions struct {
	dir  string // storage directory; t.TempDir() when empty
	addr string // listen address; a free loopback port when empty
	// checks is the YAML of the checks: section (without the key).
	checks string
	// head is YAML of other sections, put before checks:.
	head string
	// broadcast is the scheduler interval (default 250ms); sample the host
	// sampler's interval (default 250ms).
	broadcast, sample time.Duration
	sparkStep         time.Duration
	sparkPoints       int
	procs             time.Duration // top-process refresh (default 1s)
}

// testStack is a whole dashd assembled from the real parts, as cmd/dashd
// wires it: storage (a bbolt file), the host sampler, the check runner, the
// latest state, the scheduler, the hub and the server on a real listener.
type testStack struct {
	t      testing.TB
	dir    string
	addr   string
	url    string
	db     *storage.DB
	hub    *hub.Hub
	runner *collectors.Runner
	latest *state.Latest
	sched  *scheduler.Scheduler
	srv    *Server
	cancel context.CancelFunc
	wg     sync.WaitGroup
	closed atomic.Bool
}

func newTestStack(t testing.TB, o stackOptions) *testStack {
	t.Helper()
	if o.dir == "" {
		o.dir = t.TempDir()
	}
	if o.broadcast == 0 {
		o.broadcast = 250 * time.Millisecond
	}
	if o.sample == 0 {
		o.sample = 250 * time.Millisecond
	}
	if o.sparkStep == 0 {
		o.sparkStep = time.Second
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("DASHD_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	src := "checks:\n" + o.checks
	if strings.TrimSpace(o.checks) == "" {
		src = "checks: []\n"
	}
	cfg, err := config.Parse("test.yaml", []byte(o.head+src), config.Options{CheckTypes: collectors.Types(), ChannelTypes: channel.Types(),
		LookupEnv: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("config: %v", err)
	}

	st := &testStack{t: t, dir: o.dir}
	ctx, cancel := context.WithCancel(context.Background())
	st.cancel = cancel
	st.db, err = storage.Open(filepath.Join(o.dir, "dashd.db"), storage.Options{Logger: log})
	if err != nil {
		t.Fatalf("storage: %v", err)
	}
	st.hub = hub.New(hub.WithLogger(log), hub.WithHeartbeat(2*time.Second))
	st.latest = state.New(cfg, time.Now())
	rec, err := flow.New(flow.Options{Store: st.db, Latest: st.latest, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	st.runner = collectors.NewRunner(collectors.RunnerOptions{Logger: log, MaxStartDelay: 10 * time.Millisecond, Sink: rec})
	sparks := view.NewSparks(o.sparkStep, o.sparkPoints)
	alerter := newAlerter(t, st.db, rec, st.latest, st.runner)
	st.sched, err = scheduler.New(scheduler.Options{
		Alerts: alerter,
		Hub:    st.hub, Latest: st.latest, Checks: st.runner, Store: st.db, Sparks: sparks,
		Updates:  rec.Subscribe("scheduler", 256),
		Interval: o.broadcast, Version: "test", Logger: log,
	})
	if err != nil {
		t.Fatal(err)
	}
	notifier, err := notify.New(notify.Options{Store: st.db, Hub: st.hub, Events: rec.Subscribe("notify", 256), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.runner.Apply(cfg.Checks); err != nil {
		t.Fatalf("apply checks: %v", err)
	}
	if o.procs == 0 {
		o.procs = time.Second
	}
	sampler := system.New(system.Options{Interval: o.sample, ProcessInterval: o.procs, Logger: log})

	assets, err := ui.LoadAssets()
	if err != nil {
		t.Fatalf("assets: %v", err)
	}
	st.srv, err = New(Deps{
		Logger: log, Assets: assets, Version: "test", Hostname: "testhost", Title: "dashd",
		Latest: st.latest, Checks: st.runner, Store: st.db, Hub: st.hub, Sparks: sparks, Flow: rec, Alerts: alerter,
		Auth:      newAuth(t, ctx, &st.wg, cfg.Auth, st.db, st.hub),
		Incidents: newIncidents(t, ctx, &st.wg, st.db, rec, st.runner, st.hub),
	})
	if err != nil {
		t.Fatal(err)
	}

	addr := o.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	// After a restart the old socket may linger for a moment.
	for i := 0; ; i++ {
		ln, err = net.Listen("tcp", addr)
		if err == nil || i > 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	st.addr = ln.Addr().String()
	st.url = "http://" + st.addr

	run := func(name string, fn func() error) {
		st.wg.Add(1)
		go func() {
			defer st.wg.Done()
			if err := fn(); err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", name, err)
			}
		}()
	}
	run("storage", func() error { return st.db.Run(ctx) })
	run("hub", func() error { return st.hub.Run(ctx) })
	run("runner", func() error { return st.runner.Run(ctx) })
	run("sampler", func() error { return sampler.Run(ctx, rec.Sample) })
	run("scheduler", func() error { return st.sched.Run(ctx) })
	run("notify", func() error { return notifier.Run(ctx) })
	run("alerts", func() error { return alerter.Run(ctx) })
	run("server", func() error { return st.srv.Serve(ln) })
	t.Cleanup(st.Close)
	return st
}

// Close stops everything in the order cmd/dashd does: hub first (ends the
// streams), then the server, then the producers, then storage.
func (st *testStack) Close() {
	if st.closed.Swap(true) {
		return
	}
	st.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := st.srv.Shutdown(ctx); err != nil {
		st.t.Errorf("server shutdown: %v", err)
	}
	st.wg.Wait()
	if err := st.db.Close(); err != nil {
		st.t.Errorf("storage close: %v", err)
	}
}

// get fetches a path and returns the body.
func (st *testStack) get(path string) (int, string) {
	st.t.Helper()
	resp, err := http.Get(st.url + path)
	if err != nil {
		st.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// flipServer is an HTTP check target whose status code the test sets.
type flipServer struct {
	code atomic.Int32
	srv  *http.Server
	url  string
}

func newFlipServer(t testing.TB) *flipServer {
	f := &flipServer{}
	f.code.Store(200)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(f.code.Load()))
		fmt.Fprintln(w, "ok")
	})}
	go f.srv.Serve(ln)
	f.url = "http://" + ln.Addr().String() + "/"
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func httpCheckYAML(name, group, url string) string {
	return fmt.Sprintf("  - name: %s\n    type: http\n    group: %s\n    url: %s\n    interval: 1s\n    timeout: 500ms\n    fail_after: 1\n", name, group, url)
}
