package server

import (
	"bufio"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/fleet"
	"github.com/dashd/dashd/fleetview"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
)

// A real hub in the test process: a whole dashd (newTestStack) whose
// storage also takes a fleet.Hub (embedded NATS with JetStream on a free
// loopback port, the stream, the ingester, the registry), the fleet
// pages' live part, and agents publishing through fleet.NewPublisher.

const fleetTestPassword = "correct-horse-battery"

type fleetStack struct {
	*testStack
	hub *fleet.Hub
}

// runUntilCleanup runs f until the test ends and waits for it.
func runUntilCleanup(t testing.TB, f func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = f(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// openTestDB opens a bbolt store in dir and runs its writer until the
// test ends.
func openTestDB(t testing.TB, path string) *storage.DB {
	t.Helper()
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close %s: %v", path, err)
		}
	})
	runUntilCleanup(t, db.Run) // cleanups run last-in first-out: the writer stops before Close
	return db
}

func newFleetStack(t testing.TB) *fleetStack {
	t.Helper()
	st := newTestStack(t, stackOptions{})
	cfg, err := config.Parse("hub.yaml", []byte(`checks: []
fleet:
  unreachable_intervals: 5
  nats:
    embedded:
      listen: 127.0.0.1:0
      max_store: 64MB
  stream:
    max_bytes: 32MB
  agents:
    - host: web-1
      password: `+fleetTestPassword+`
    - host: db-1
      password: `+fleetTestPassword+`
`), config.Options{})
	if err != nil {
		t.Fatalf("hub config: %v", err)
	}
	dir := t.TempDir()
	rec, err := flow.New(flow.Options{Store: openTestDB(t, filepath.Join(dir, "events.db")), Latest: state.New(config.Default(), time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	h, err := fleet.NewHub(fleet.HubOptions{Fleet: cfg.Fleet, Store: st.db, Events: rec, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, h.Run)
	pages, err := fleetview.New(fleetview.Options{Store: st.db, Latest: st.latest, Checks: st.runner, Hub: st.hub,
		Hostname: "testhost", Version: "test", Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, pages.Run)
	return &fleetStack{testStack: st, hub: h}
}

// testAgent is an agent's publishing side: a NATS connection with the
// agent's credentials, a spool, a recorder on its own store and the
// publisher.
type testAgent struct {
	host string
	rec  *flow.Recorder
	pub  *fleet.Publisher
}

func (fs *fleetStack) agent(t testing.TB, host string, labels map[string]string) *testAgent {
	t.Helper()
	urls := []string{fs.hub.Embedded().ClientURL()}
	opts, err := fleet.ConnectOptions(config.FleetNATS{URLs: urls, User: host, Password: fleetTestPassword}, host, nil)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := fleet.Connect(urls, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	dir := t.TempDir()
	sp, err := fleet.OpenSpool(filepath.Join(dir, "spool.db"), 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	a := &testAgent{host: host}
	a.rec, err = flow.New(flow.Options{Store: openTestDB(t, filepath.Join(dir, "agent.db")), Latest: state.New(config.Default(), time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	a.pub, err = fleet.NewPublisher(fleet.PublisherOptions{Conn: nc, Spool: sp, Events: a.rec.Subscribe("fleet", 4096),
		Hello: fleet.Hello{Host: host, OS: "linux", Kernel: "6.1.0", Version: "test", Labels: labels, IntervalMs: 250},
		Retry: 100 * time.Millisecond, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	runUntilCleanup(t, a.pub.Run)
	return a
}

// sample publishes a sample with the given CPU, memory and root disk use.
func (a *testAgent) sample(cpu, mem, disk float64) {
	a.pub.Sample(model.Sample{Time: time.Now(), Points: []model.Point{
		{Series: "cpu.total", Value: cpu}, {Series: "cpu.user", Value: cpu / 2},
		{Series: "mem.used_pct", Value: mem}, {Series: "mem.total", Value: 8 << 30},
		{Series: model.SeriesKey("fs.used_pct", "mount", "/"), Value: disk},
		{Series: model.SeriesKey("fs.total", "mount", "/"), Value: 100 << 30},
	}})
}

// check publishes a check result, and a state change when from != to.
func (a *testAgent) check(name string, from, to model.State, reason string) {
	now := time.Now()
	a.rec.Result(model.Result{Check: name, Time: now, State: to, Latency: 12 * time.Millisecond, Reason: reason})
	if from != to {
		a.rec.Event(model.Event{Time: now, Kind: model.EventCheck, Check: name, From: from, To: to, Reason: reason})
	}
}

// waitFor polls cond until it holds (generous: a shared, slow machine).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// fleetTStream is a stream read on a goroutine until the test ends.
type fleetTStream struct {
	mu  sync.Mutex
	buf strings.Builder
}

// text is everything the stream has sent so far.
func (s *fleetTStream) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// openStream opens path on the stack's listener as a browser's stream.
func (fs *fleetStack) openStream(t *testing.T, path string) *fleetTStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fs.url+path, nil)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	req.Header.Set("Datastar-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatalf("open %s: %v", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		cancel()
		t.Fatalf("open %s: status %d", path, resp.StatusCode)
	}
	s := &fleetTStream{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.buf.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return s
}
