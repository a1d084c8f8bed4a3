package fleet

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
)

const testPassword = "correct-horse-battery"

// fleetConfig parses a fleet section as the daemon would (defaults and
// validation included).
func fleetConfig(t *testing.T, section string) *config.Config {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte("checks: []\n"+section), config.Options{})
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// hubConfig is a hub on a free loopback port with agents web-1 and db-1.
func hubConfig(t *testing.T, listen string) *config.Fleet {
	return fleetConfig(t, fmt.Sprintf(`
fleet:
  unreachable_intervals: 2
  nats:
    embedded:
      listen: %s
      max_store: 64MB
  stream:
    max_bytes: 32MB
  agents:
    - host: web-1
      password: %s
    - host: db-1
      password: %s
`, listen, testPassword, testPassword)).Fleet
}

// openStore opens a real storage file and runs its writer until the test
// ends.
func openStore(t *testing.T, path string) *storage.DB {
	t.Helper()
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = db.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		if err := db.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return db
}

// runPart runs f until stop is called (or the test ends); stop waits for it.
func runPart(t *testing.T, f func(context.Context) error) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("part returned %v", err)
				}
			case <-time.After(15 * time.Second):
				t.Errorf("part did not stop within 15s")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// startHub runs a Hub (embedded server, ingester, registry) on store.
func startHub(t *testing.T, f *config.Fleet, store *storage.DB, dataDir string, events EventSink) (*Hub, func()) {
	t.Helper()
	h, err := NewHub(HubOptions{Fleet: f, Store: store, Events: events, DataDir: dataDir, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	return h, runPart(t, h.Run)
}

// agent is a real agent's publishing side: its own storage, a recorder
// whose store is teed to the publisher, and a spool.
type agent struct {
	host  string
	nc    *nats.Conn
	rec   *flow.Recorder
	store flow.Store // the teed store: WriteSample publishes
	pub   *Publisher
	spool *Spool
	stop  func()
}

func startAgent(t *testing.T, host string, urls []string, dir string) *agent {
	t.Helper()
	n := config.FleetNATS{URLs: urls, User: host, Password: testPassword}
	opts, err := ConnectOptions(n, host, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, nats.ReconnectWait(100*time.Millisecond))
	nc, err := Connect(urls, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	sp, err := OpenSpool(filepath.Join(dir, "spool.db"), 8<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sp.Close() })
	db := openStore(t, filepath.Join(dir, "agent.db"))
	a := &agent{host: host, nc: nc, spool: sp}
	latest := state.New(config.Default(), time.Now())
	// The recorder's store is set after the publisher exists: it needs
	// the subscription first.
	tee := &lateStore{}
	a.rec, err = flow.New(flow.Options{Store: tee, Latest: latest})
	if err != nil {
		t.Fatal(err)
	}
	a.pub, err = NewPublisher(PublisherOptions{Conn: nc, Spool: sp, Events: a.rec.Subscribe("fleet", 4096),
		Hello: Hello{Host: host, OS: "linux", Kernel: "6.1.0", Version: "test", Labels: map[string]string{"env": "test"}, IntervalMs: 100},
		Retry: 100 * time.Millisecond, Timeout: 2 * time.Second, Logger: testLogger(t).With("agent", host)})
	if err != nil {
		t.Fatal(err)
	}
	tee.Store = a.pub.Tee(db)
	a.store = tee.Store
	a.stop = runPart(t, a.pub.Run)
	return a
}

// lateStore lets the recorder be built before the teed store it writes to.
type lateStore struct{ flow.Store }

// sample publishes one sample at t through the agent's teed store.
func (a *agent) sample(t *testing.T, at time.Time, v float64) {
	t.Helper()
	if err := a.store.WriteSample(model.Sample{Time: at, Points: []model.Point{
		{Series: "cpu.total", Value: v}, {Series: "mem.used_pct", Value: v / 2}, {Series: "disk.used_pct{mount=/}", Value: 42.5},
	}}); err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s (last: %s)", what, d, state)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// freePort returns a loopback port nobody listens on right now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// hostSamples reads every stored sample of host.
func hostSamples(t *testing.T, db *storage.DB, host string) []model.Sample {
	t.Helper()
	s, err := db.HostSamples(host, time.Unix(0, 0), time.Now().Add(time.Hour), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// newRecorder is a real recorder on a real store: the hub's event sink.
func newRecorder(t *testing.T, path string) *flow.Recorder {
	t.Helper()
	rec, err := flow.New(flow.Options{Store: openStore(t, path), Latest: state.New(config.Default(), time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// testLogger sends slog lines to the test's log.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func sampleAt(at time.Time, v float64) model.Sample {
	return model.Sample{Time: at, Points: []model.Point{{Series: "cpu.total", Value: v}}}
}
