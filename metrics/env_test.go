package metrics

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/alert/channel"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
)

// testTimeout bounds every wait in these tests; generous because the
// machine is shared and noisy. Nothing asserts speed.
const testTimeout = 20 * time.Second

// The checks of the test configuration and what their targets answer.
const (
	checkUp   = "web"    // 200: up
	checkDown = "api.v2" // 503: down (and a dot in the name)
	checkTLS  = "secure" // https with a self-signed certificate: up, reports cert days
)

// The room the env's stream joins.
const testRoom = "dashboard"

// env is a Metrics over real parts: a bbolt file in t.TempDir() with its
// writer running, a check Runner probing httptest targets on 127.0.0.1, a
// state.Latest holding a synthetic host snapshot, and a hub and the
// /metrics handler served by fiber on a connlimit.Listener on 127.0.0.1,
// with one stream connected to testRoom and one stream refused at the
// hub's cap.
type env struct {
	m       *Metrics
	src     Sources
	db      *storage.DB
	dbPath  string
	latest  *state.Latest
	runner  *collectors.Runner
	rec     *flow.Recorder
	alerter *alert.Alerter
	hub     *hub.Hub
	ln      *connlimit.Listener
	base    string // http://127.0.0.1:port
	client  *http.Client
	logs    *syncBuffer
}

// envOptions shapes an env.
type envOptions struct {
	// extraChecks adds that many more up checks (the benchmark's 20).
	extraChecks int
	// snapshot is the host sample; testSnapshot when nil.
	snapshot *system.Snapshot
	// wrap, when set, changes the sources before New (fault injection
	// around the real parts).
	wrap func(*Sources)
	// timeout is the parts' time limit; partTimeout when zero.
	timeout time.Duration
}

// syncBuffer collects log output from many goroutines.
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

func newEnv(t testing.TB, opts envOptions) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	// Cleanups run last-registered first; this one runs after the server
	// and hub are stopped.
	t.Cleanup(func() { cancel(); wg.Wait() })

	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(ok.Close)
	fail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }))
	t.Cleanup(fail.Close)
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(tlsSrv.Close)

	// Long intervals: each check runs once, soon after start, and the
	// runner stays quiet for the rest of the test (or benchmark).
	var y strings.Builder
	fmt.Fprintf(&y, "storage:\n  path: %s\nchecks:\n", filepath.Join(t.TempDir(), "unused.db"))
	check := func(name, url, extra string) {
		fmt.Fprintf(&y, "  - name: %s\n    type: http\n    url: %s\n    interval: 1h\n    fail_after: 1\n%s", name, url, extra)
	}
	check(checkUp, ok.URL, "")
	check(checkDown, fail.URL, "")
	check(checkTLS, tlsSrv.URL, "    insecure_skip_verify: true\n")
	for i := range opts.extraChecks {
		check(fmt.Sprintf("extra-%02d", i), ok.URL, "")
	}
	cfg, err := config.Parse("test.yaml", []byte(y.String()), config.Options{
		CheckTypes: collectors.Types(),
		LookupEnv:  func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("config: %v", err)
	}

	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	e := &env{logs: logs, client: &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}}
	t.Cleanup(e.client.CloseIdleConnections)

	e.dbPath = filepath.Join(t.TempDir(), "dashd.db")
	e.db, err = storage.Open(e.dbPath, storage.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = e.db.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		if err := e.db.Close(); err != nil {
			t.Errorf("close db: %v", err)
		}
	})
	// One committed event, so the last-commit series exists.
	wctx, wcancel := context.WithTimeout(ctx, testTimeout)
	defer wcancel()
	if _, err := e.db.AddEvent(wctx, model.Event{Time: time.Now(), Kind: model.EventCheck, Check: checkUp, From: model.StateUnknown, To: model.StateUp, Reason: "test"}); err != nil {
		t.Fatal(err)
	}

	e.latest = state.New(cfg, time.Now().Add(-time.Minute))
	e.rec, err = flow.New(flow.Options{Store: e.db, Latest: e.latest, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	e.rec.Subscribe("scheduler", 4) // never read: its drops show
	e.runner = collectors.NewRunner(collectors.RunnerOptions{Logger: log, MaxStartDelay: 10 * time.Millisecond, Sink: e.rec})
	e.alerter, err = alert.New(alert.Options{Store: e.db, Recorder: e.rec, Events: e.rec.Subscribe("alerts", 256), Latest: e.latest,
		Checks: e.runner, NewSender: func(c config.Channel) (alert.Sender, error) { return channel.New(c, channel.Options{}) },
		Permanent: channel.IsPermanent, RetryAfter: channel.RetryAfter, Describe: channel.Describe, Host: "box"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.runner.Apply(cfg.Checks); err != nil {
		t.Fatal(err)
	}
	wg.Add(1)
	go func() { defer wg.Done(); _ = e.runner.Run(ctx) }()

	snap := testSnapshot(time.Now())
	if opts.snapshot != nil {
		snap = *opts.snapshot
	}
	e.latest.SetSystem(snap)
	e.latest.SetSystem(snap) // two samples taken

	// The hub allows one stream, so the second one below is refused.
	e.hub = hub.New(hub.WithMaxStreams(1), hub.WithLogger(log))
	hubCtx, hubCancel := context.WithCancel(context.Background())
	hubDone := make(chan error, 1)
	go func() { hubDone <- e.hub.Run(hubCtx) }()

	e.src = Sources{
		Host:     e.latest,
		Checks:   e.runner,
		Hub:      e.hub,
		Storage:  e.db,
		Flow:     e.rec,
		Alerts:   e.alerter,
		Listener: func() connlimit.Stats { return e.ln.Stats() },
		Version:  "test",
		Logger:   log,
	}
	if opts.wrap != nil {
		opts.wrap(&e.src)
	}
	timeout := opts.timeout
	if timeout == 0 {
		timeout = partTimeout
	}
	e.m, err = newMetrics(e.src, timeout)
	if err != nil {
		t.Fatal(err)
	}

	// The server mounts /metrics as the daemon does: through fiber's
	// adaptor, on a connlimit.Listener.
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Get("/events", func(c *fiber.Ctx) error {
		return e.hub.HandleSSE(c, hub.WithRoom(c.Query("room")))
	})
	app.Get("/metrics", adaptor.HTTPHandler(e.m.Handler()))
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.ln = connlimit.New(raw, connlimit.Limits{}, log)
	e.base = "http://" + raw.Addr().String()
	serveDone := make(chan struct{})
	go func() { defer close(serveDone); _ = app.Listener(e.ln) }()
	t.Cleanup(func() {
		hubCancel()
		select {
		case err := <-hubDone:
			if err != nil {
				t.Errorf("hub Run: %v", err)
			}
		case <-time.After(testTimeout):
			t.Error("hub Run did not return")
		}
		if err := app.ShutdownWithTimeout(testTimeout); err != nil {
			t.Errorf("app shutdown: %v", err)
		}
		<-serveDone
	})

	// One stream held open in testRoom, one refused at the hub's cap.
	resp, err := e.client.Get(e.base + "/events?room=" + testRoom)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	refused, err := e.client.Get(e.base + "/events?room=" + testRoom)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, refused.Body)
	refused.Body.Close()
	if refused.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second stream: status %d, want 503 at the hub's cap", refused.StatusCode)
	}

	e.waitFor(t, "every check's first result", func() bool {
		for _, st := range e.runner.Statuses() {
			if st.LastCheck.IsZero() {
				return false
			}
		}
		return true
	})
	return e
}

// waitFor polls cond until it holds or testTimeout passes.
func (e *env) waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// scrape GETs /metrics over the real listener with the given Accept
// header (empty: none) and returns the response and its body.
func (e *env) scrape(t testing.TB, accept string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.base+"/metrics", nil)
	if err != nil {
		t.Fatal(err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d: %s", resp.StatusCode, body)
	}
	return resp, body
}

// testSnapshot is a host snapshot with two CPUs, a filesystem, a disk and
// an interface: enough for every node_* family (the same as the server's
// tests used).
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
		Node:            testNodeStats(),
	}
}

// testNodeStats are the node_exporter figures of testSnapshot: meminfo
// with Cached apart from SReclaimable, and one of everything else.
func testNodeStats() system.NodeStats {
	return system.NodeStats{
		Meminfo: []system.NamedValue{
			{Name: "MemTotal_bytes", Value: 8 << 30}, {Name: "MemFree_bytes", Value: 1 << 30},
			{Name: "MemAvailable_bytes", Value: 6 << 30}, {Name: "Buffers_bytes", Value: 1 << 20},
			{Name: "Cached_bytes", Value: 2 << 30}, {Name: "SReclaimable_bytes", Value: 1 << 30},
			{Name: "Active_anon_bytes", Value: 1 << 29}, {Name: "HugePages_Total", Value: 0},
			{Name: "SwapTotal_bytes", Value: 1 << 30}, {Name: "SwapFree_bytes", Value: 1 << 30},
		},
		Stat:      system.KernelCounters{ContextSwitches: 5000, Interrupts: 7000, Forks: 300},
		HasStat:   true,
		VMStat:    []system.NamedValue{{Name: "pgmajfault", Value: 42}, {Name: "oom_kill", Value: 0}},
		Pressure:  &system.Pressure{CPUWaiting: 1.5, IOWaiting: 2, IOStalled: 1, MemoryWaiting: 0.5, MemoryStalled: 0.25, HasCPU: true, HasIO: true, HasMemory: true},
		Sockstat:  []system.NamedValue{{Name: "sockets_used", Value: 45}, {Name: "TCP_inuse", Value: 3}, {Name: "TCP_mem_bytes", Value: 8192}},
		Netstat:   []system.NamedValue{{Name: "Tcp_CurrEstab", Value: 8}, {Name: "TcpExt_ListenDrops", Value: 0}},
		Conntrack: &system.Conntrack{Entries: 12, Limit: 262144},
		NetClass: []system.NetClass{
			{Name: "eth0", OperState: "up", Address: "02:00:00:00:00:01", Broadcast: "ff:ff:ff:ff:ff:ff", Duplex: "full",
				Carrier: 1, HasCarrier: true, MTU: 1500, HasMTU: true, SpeedMbps: 1000, HasSpeed: true},
			{Name: "lo", OperState: "unknown", Address: "00:00:00:00:00:00", Carrier: 1, HasCarrier: true, MTU: 65536, HasMTU: true},
		},
		Timex:     &system.Timex{FrequencyRatio: 1, MaxErrorSeconds: 16, EstimatedErrorSeconds: 16, Status: 8256, TickSeconds: 0.01, SyncStatus: 1},
		Uname:     &system.Uname{Sysname: "Linux", Release: "6.1.0", Version: "#1 SMP", Machine: "x86_64", Nodename: "box", Domainname: "(none)"},
		OSRelease: map[string]string{"ID": "debian", "NAME": "Debian GNU/Linux", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)", "VERSION_ID": "12", "VERSION_CODENAME": "bookworm"},
	}
}
