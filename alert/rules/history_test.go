package rules

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

const gib = float64(1 << 30)

// openHistory opens a real storage.DB in a temp dir whose clock reads now,
// with its writer running until cleanup.
func openHistory(t testing.TB, now time.Time) *storage.DB {
	t.Helper()
	o := storage.DefaultOptions()
	o.Logger = slog.New(slog.DiscardHandler)
	o.Clock = func() time.Time { return now }
	o.Timeout = 5 * time.Second
	o.InitialMmapSize = 0
	o.Retention.Raw = 30 * 24 * time.Hour
	db, err := storage.Open(filepath.Join(t.TempDir(), "dashd.db"), o)
	if err != nil {
		t.Fatalf("storage.Open: %v", err)
	}
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
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

// writeAvail writes fs.avail of mount every step in [from, to] (offsets
// from t0), value f(hours since t0) in GiB, and waits for the commit.
func writeAvail(t testing.TB, db *storage.DB, mount string, from, to, step time.Duration, f func(h float64) float64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for d := from; d <= to; d += step {
		s := model.Sample{Time: t0.Add(d), Points: []model.Point{{Series: availSeries(mount), Value: f(d.Hours()) * gib}}}
		err := db.WriteSample(s)
		if errors.Is(err, storage.ErrQueueFull) {
			if err := db.Flush(ctx); err != nil {
				t.Fatalf("Flush: %v", err)
			}
			err = db.WriteSample(s)
		}
		if err != nil {
			t.Fatalf("WriteSample at %s: %v", d, err)
		}
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatalf("Flush: %v", err)
	}
}

// countingHistory counts the reads it passes on to a real History.
type countingHistory struct {
	h     History
	calls int
}

func (c *countingHistory) Range(series string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error) {
	c.calls++
	return c.h.Range(series, from, to, maxPoints)
}
