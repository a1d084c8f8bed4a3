package storage

import (
	"testing"
	"time"

	"github.com/dashd/dashd/internal/grid"
	"github.com/dashd/dashd/model"
)

// TestCommitInterval: with Options.CommitInterval a sample and a result
// wait in memory rather than being written at once; they are written at
// the next multiple of the interval on the wall clock, or at once with a
// synchronous request, or when the writer stops. Nothing is lost.
func TestCommitInterval(t *testing.T) {
	const every = 3 * time.Second
	tests := []struct {
		name string
		// store makes the waiting records written; it reports the
		// database to read them from.
		store func(t *testing.T, db *DB, path string, opts Options) *DB
	}{
		{"next grid point", func(t *testing.T, db *DB, _ string, _ Options) *DB {
			due := grid.Next(time.Now(), every)
			deadline := time.Now().Add(every + 10*time.Second)
			for time.Now().Before(deadline) {
				if pts, _ := db.Range("x", base.Add(-time.Hour), base.Add(time.Hour), 0); len(pts) == 1 {
					if early := time.Until(due); early > 0 {
						t.Errorf("written %s before the grid point", early)
					}
					return db
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Fatal("the sample was not written after the grid point")
			return nil
		}},
		{"synchronous request", func(t *testing.T, db *DB, _ string, _ Options) *DB {
			if _, err := db.AddEvent(ctxT(t), model.Event{Kind: model.EventReload}); err != nil {
				t.Fatal(err)
			}
			return db
		}},
		{"stop", func(t *testing.T, db *DB, path string, opts Options) *DB {
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
			db2, err := Open(path, opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = db2.Close() })
			return db2
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(newClock(base))
			opts.CommitInterval = every
			db, path := openTest(t, opts)
			runWriter(t, db)
			if err := db.Flush(ctxT(t)); err != nil { // Run is up once Flush answers
				t.Fatal(err)
			}
			// Start just after a grid point: the records then wait
			// almost the whole interval, so "not yet" cannot race it.
			time.Sleep(time.Until(grid.Next(time.Now(), every).Add(50 * time.Millisecond)))
			if err := db.WriteSample(model.Sample{Time: base, Points: []model.Point{pt("x", 1)}}); err != nil {
				t.Fatal(err)
			}
			if err := db.WriteResult(model.Result{Check: "c", Time: base, State: model.StateUp}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(100 * time.Millisecond)
			if pts, _ := db.Range("x", base.Add(-time.Hour), base.Add(time.Hour), 0); len(pts) != 0 {
				t.Fatalf("the sample was written at once (%d points); it should wait for the commit interval", len(pts))
			}
			read := tt.store(t, db, path, opts)
			pts, err := read.Range("x", base.Add(-time.Hour), base.Add(time.Hour), 0)
			if err != nil || len(pts) != 1 {
				t.Errorf("sample: %d points (%v), want 1", len(pts), err)
			}
			rs, err := read.Results("c", base.Add(-time.Hour), base.Add(time.Hour), 0)
			if err != nil || len(rs) != 1 {
				t.Errorf("result: %d (%v), want 1", len(rs), err)
			}
		})
	}
}

// TestCommitInterval_ReadsSeeWaitingResults: a result waiting for the
// commit interval is in what Results and LastResults return (a heartbeat
// strip read once and kept up from the flow must not lose it), while a
// waiting sample still waits.
func TestCommitInterval_ReadsSeeWaitingResults(t *testing.T) {
	const every = time.Minute // never reached within the test
	tests := []struct {
		name string
		read func(db *DB) ([]model.Result, error)
	}{
		{"LastResults", func(db *DB) ([]model.Result, error) { return db.LastResults("c", 5) }},
		{"Results", func(db *DB) ([]model.Result, error) {
			return db.Results("c", base.Add(-time.Hour), base.Add(time.Hour), 0)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := testOptions(newClock(base))
			opts.CommitInterval = every
			db, _ := openTest(t, opts)
			runWriter(t, db)
			if err := db.Flush(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			if err := db.WriteSample(model.Sample{Time: base, Points: []model.Point{pt("x", 1)}}); err != nil {
				t.Fatal(err)
			}
			if err := db.WriteResult(model.Result{Check: "c", Time: base, State: model.StateDown}); err != nil {
				t.Fatal(err)
			}
			rs, err := tt.read(db)
			if err != nil || len(rs) != 1 || rs[0].State != model.StateDown {
				t.Fatalf("%s = %v (%v), want the waiting result", tt.name, rs, err)
			}
			if n := db.waitingResults.Load(); n != 0 {
				t.Errorf("%d results still counted as waiting after the read's commit", n)
			}
		})
	}
}
