package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// apiEnv is a Server over real parts: a bbolt file in t.TempDir(), a real
// check Runner probing httptest targets, a state.Latest holding a host
// snapshot and a real hub.
type apiEnv struct {
	srv    *Server
	db     *storage.DB
	runner *collectors.Runner
	latest *state.Latest
	hub    *hub.Hub
	logs   *syncBuffer
	now    time.Time
}

// syncBuffer collects log output from handler goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The checks of the test configuration and what their targets answer.
const (
	checkUp     = "web"      // 200: up
	checkDown   = "api.v2"   // 503: down (and a dot in the name)
	checkHidden = "internal" // 200, badge: false
	checkTLS    = "secure"   // https with a self-signed certificate: up, reports cert days
)

// Stored results written for checkUp: 999 up and 1 down in the last hour,
// each with a latency of storedLatency, so uptime reads 99.90% and the
// 1h average latency 120 ms.
const (
	storedUp      = 999
	storedDown    = 1
	storedLatency = 120 * time.Millisecond
)

func newAPIEnv(t testing.TB) *apiEnv {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); wg.Wait() })

	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(ok.Close)
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(fail.Close)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(tlsSrv.Close)

	yaml := fmt.Sprintf(`
storage:
  path: %s
checks:
  - name: %s
    type: http
    url: %s
    interval: 1s
    fail_after: 1
  - name: %s
    type: http
    url: %s
    interval: 1s
    fail_after: 1
  - name: %s
    type: http
    url: %s
    interval: 1s
    badge: false
  - name: %s
    type: http
    url: %s
    interval: 1s
    insecure_skip_verify: true
`, filepath.Join(t.TempDir(), "unused.db"), checkUp, ok.URL, checkDown, fail.URL, checkHidden, ok.URL, checkTLS, tlsSrv.URL)
	cfg, err := config.Parse("test.yaml", []byte(yaml), config.Options{CheckTypes: collectors.Types()})
	if err != nil {
		t.Fatalf("config: %v", err)
	}

	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))

	db, err := storage.Open(filepath.Join(t.TempDir(), "dashd.db"), storage.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = db.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := db.Close(); err != nil {
			t.Errorf("close db: %v", err)
		}
	})

	now := time.Now()
	e := &apiEnv{db: db, logs: logs, now: now, hub: hub.New()}
	e.writeHistory(t, ctx)

	e.latest = state.New(cfg, now.Add(-time.Minute))
	rec, err := flow.New(flow.Options{Store: db, Latest: e.latest, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	// No sink: the history this env asserts on is the one writeHistory wrote.
	e.runner = collectors.NewRunner(collectors.RunnerOptions{Logger: log, MaxStartDelay: 10 * time.Millisecond})
	if err := e.runner.Apply(cfg.Checks); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = e.runner.Run(ctx) }()

	e.latest.SetSystem(testSnapshot(time.Now()))

	assets, err := ui.LoadAssets()
	if err != nil {
		t.Fatal(err)
	}
	e.srv, err = New(Deps{
		Sparks: view.NewSparks(0, 0),
		Flow:   rec,
		Alerts: newAlerter(t, db, rec, e.latest, e.runner),
		Auth:   newAuth(t, ctx, &wg, cfg.Auth, db, e.hub),
		// No events reach it here (the runner has no sink): the incident
		// API over an empty store.
		Incidents: newIncidents(t, ctx, &wg, db, rec, e.runner, e.hub),
		Logger:    log,
		Assets:    assets,
		Version:   "test",
		// The host-scoped API's own host: /api/v1/hosts/box/...
		Hostname: "box",
		Title:    "test",
		Latest:   e.latest,
		Checks:   e.runner,
		Store:    db,
		Hub:      e.hub,
		// app.Test requests carry httptest's Host.
		AllowedHosts: []string{"example.com"},
	})
	if err != nil {
		t.Fatal(err)
	}

	// Wait until every check has a result, so states are settled.
	deadline := time.Now().Add(15 * time.Second)
	for {
		done := true
		for _, st := range e.runner.Statuses() {
			if st.LastCheck.IsZero() {
				done = false
			}
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checks did not run in time: %+v", e.runner.Statuses())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return e
}

// writeHistory stores deterministic samples, results and events, and waits
// until they are committed (AddEvent returns after its commit, and the
// writer commits in queue order).
func (e *apiEnv) writeHistory(t testing.TB, ctx context.Context) {
	t.Helper()
	start := e.now.Add(-50 * time.Minute)
	for i := 0; i < 60; i++ {
		ts := start.Add(time.Duration(i) * 10 * time.Second)
		err := e.db.WriteSample(model.Sample{Time: ts, Points: []model.Point{
			{Series: "cpu.total", Value: float64(i)},
			{Series: model.SeriesKey("fs.used_pct", "mount", "/"), Value: 42},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < storedUp+storedDown; i++ {
		st := model.StateUp
		if i == 500 {
			st = model.StateDown
		}
		r := model.Result{Check: checkUp, Time: start.Add(time.Duration(i) * 2 * time.Second), State: st, Latency: storedLatency}
		if err := e.db.WriteResult(r); err != nil {
			t.Fatal(err)
		}
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for i := 0; i < 5; i++ {
		_, err := e.db.AddEvent(wctx, model.Event{Time: start.Add(time.Duration(i) * time.Minute), Kind: model.EventCheck, Check: checkUp, From: model.StateUp, To: model.StateDown, Reason: fmt.Sprint("event ", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// testSnapshot is a host snapshot with two CPUs, a filesystem, a disk and
// an interface: enough for every node_* family.
func testSnapshot(at time.Time) system.Snapshot {
	return system.Snapshot{
		Time:          at,
		Duration:      3 * time.Millisecond,
		Host:          &system.Host{Hostname: "box", OS: "linux", Kernel: "6.1.0", Arch: "x86_64", CPUs: 2, BootTime: at.Add(-time.Hour)},
		UptimeSeconds: 3600,
		CPU:           &system.CPUPercent{Core: -1, Busy: 12.5, User: 10, System: 2.5, Idle: 87.5},
		CPUSeconds: []system.CPUTimes{
			{Core: 0, User: 100, System: 20, Idle: 1000, IOWait: 3},
			{Core: 1, User: 90, System: 25, Idle: 1010, IOWait: 1, Guest: 4},
		},
		Load:            system.Load{Load1: 0.5, Load5: 0.4, Load15: 0.3},
		Memory:          system.Memory{Total: 8 << 30, Used: 2 << 30, Available: 6 << 30, Free: 1 << 30, Buffers: 1 << 20, Cached: 3 << 30, UsedPercent: 25},
		Swap:            system.Swap{Total: 1 << 30, Free: 1 << 30},
		Filesystems:     []system.Filesystem{{Mount: "/", Device: "/dev/vda1", FSType: "ext4", Total: 100 << 30, Used: 40 << 30, Avail: 55 << 30, UsedPercent: 42.1, InodesTotal: 1000, InodesFree: 600}},
		Disks:           []system.Disk{{Device: "vda", ReadBytes: 1 << 20, WrittenBytes: 2 << 20, Reads: 10, Writes: 20, IOTimeMs: 1500}},
		Interfaces:      []system.NetInterface{{Name: "eth0", RxBytes: 1000, TxBytes: 2000, RxPackets: 10, TxPackets: 20}},
		Processes:       system.ProcessCounts{Total: 120, Running: 2, Blocked: 0},
		FileDescriptors: system.FileDescriptors{Open: 1000, Max: 100000},
	}
}

// get sends a GET through app.Test and returns the response and its body.
func (e *apiEnv) get(t testing.TB, path string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req := httptest.NewRequest(fiber.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.srv.App().Test(req, 10_000)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

// noErrorLogs fails the test if any handler logged at error level.
func (e *apiEnv) noErrorLogs(t *testing.T) {
	t.Helper()
	if s := e.logs.String(); strings.Contains(s, "level=ERROR") {
		t.Errorf("errors were logged:\n%s", s)
	}
}

// newGet is a GET request for app.Test.
func newGet(path string) *http.Request { return httptest.NewRequest(fiber.MethodGet, path, nil) }

// readAll reads and closes a response body.
func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newAlerter is a real alerter over the test's storage and flow, with the
// real channel types.
// newAuth is the auth of cfg over db, run until the test ends, with ended
// sessions closing their streams as cmd/dashd wires it.
func newAuth(t testing.TB, ctx context.Context, wg *sync.WaitGroup, cfg config.Auth, db *storage.DB, h *hub.Hub) *auth.Service {
	t.Helper()
	a, err := auth.NewService(cfg, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	a.Sessions().Watch(func(key string) { h.CloseSession(key) })
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.Run(ctx) }()
	return a
}

// newIncidents runs a real incident manager on rec's flow until ctx ends.
func newIncidents(t testing.TB, ctx context.Context, wg *sync.WaitGroup, db *storage.DB, rec *flow.Recorder, checks incident.Checks, h *hub.Hub) *incident.Manager {
	t.Helper()
	m, err := incident.New(incident.Options{Store: db, Recorder: rec, Events: rec.Subscribe("incidents", 256), Checks: checks, Hub: h,
		View: view.IncidentPush{}})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := m.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("incidents: %v", err)
		}
	}()
	return m
}

func newAlerter(t testing.TB, db *storage.DB, rec *flow.Recorder, latest *state.Latest, checks alert.Checks) *alert.Alerter {
	t.Helper()
	a, err := alert.New(alert.Options{Store: db, Recorder: rec, Events: rec.Subscribe("alerts", 256), Latest: latest, Checks: checks,
		NewSender: func(c config.Channel) (alert.Sender, error) { return channel.New(c, channel.Options{}) },
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe, Host: "box"})
	if err != nil {
		t.Fatal(err)
	}
	return a
}
