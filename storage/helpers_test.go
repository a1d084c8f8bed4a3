package storage

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	bolt "go.etcd.io/bbolt"
)

// base is a Monday, midnight UTC: minute, hour and day boundaries line up.
var base = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// fakeClock is a settable clock for Options.Clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func testOptions(c *fakeClock) Options {
	o := DefaultOptions()
	o.Logger = quietLogger()
	if c != nil {
		o.Clock = c.Now
	}
	o.Timeout = 5 * time.Second
	o.InitialMmapSize = 0
	return o
}

// openTest opens a database in a temp dir; cleanup closes it (if the test
// did not) and runs bbolt's consistency check on the file.
func openTest(t testing.TB, opts Options) (*DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "dashd.db")
	db, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		checkFile(t, path)
	})
	return db, path
}

// checkFile runs tx.Check on a closed database file.
func checkFile(t testing.TB, path string) {
	t.Helper()
	bdb, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 5 * time.Second, ReadOnly: true})
	if err != nil {
		t.Errorf("check %s: open: %v", path, err)
		return
	}
	defer bdb.Close()
	err = bdb.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("check %s: %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Errorf("check %s: %v", path, err)
	}
}

// apply commits requests synchronously in one transaction (tests and
// benchmarks drive the writer directly, without Run).
func apply(t testing.TB, db *DB, reqs ...request) {
	t.Helper()
	if err := db.commit(ptrs(reqs)); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// ptrs is the batch the writer's queue hands over.
func ptrs(reqs []request) []*request {
	out := make([]*request, len(reqs))
	for i := range reqs {
		out[i] = &reqs[i]
	}
	return out
}

func sampleReq(at time.Time, pts ...model.Point) request {
	return request{kind: reqSample, sample: model.Sample{Time: at, Points: pts}}
}

func pt(series string, v float64) model.Point { return model.Point{Series: series, Value: v} }

// runWriter starts Run and stops it at cleanup (before the file is closed).
func runWriter(t testing.TB, db *DB) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- db.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("Run did not return")
		}
	})
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
