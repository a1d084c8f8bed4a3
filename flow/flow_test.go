package flow

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

func newRecorder(t *testing.T) (*Recorder, *storage.DB, *state.Latest) {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "d.db"), storage.Options{Clock: func() time.Time { return t0.Add(time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = db.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; _ = db.Close() })
	latest := state.New(config.Default(), t0)
	r, err := New(Options{Store: db, Latest: latest})
	if err != nil {
		t.Fatal(err)
	}
	return r, db, latest
}

func TestNew_Required(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Fatal("New without Store and Latest succeeded")
	}
}

// TestRecorder_StoresOnceAndFansOut: an event is stored once, and every
// subscriber sees the stored copy with its ID; results reach subscribers
// and storage, and their latency rides with the next sample.
func TestRecorder_StoresOnceAndFansOut(t *testing.T) {
	r, db, latest := newRecorder(t)
	a, b := r.Subscribe("a", 8), r.Subscribe("b", 8)
	r.Event(model.Event{Time: t0, Kind: model.EventCheck, Check: "web", From: model.StateUp, To: model.StateDown})
	r.Result(model.Result{Check: "web", Time: t0, State: model.StateDown, Latency: 7 * time.Millisecond})
	r.Result(model.Result{Check: "web", Time: t0, State: model.StateUp, Latency: 42 * time.Millisecond})
	for _, s := range []*Subscription{a, b} {
		ev := <-s.C()
		if ev.Kind != KindEvent || ev.Event.ID == 0 || ev.Event.Check != "web" {
			t.Fatalf("%s: first message %+v, want the stored event", s.Name(), ev)
		}
		for _, want := range []model.State{model.StateDown, model.StateUp} {
			res := <-s.C()
			if res.Kind != KindResult || res.Result.State != want || (want == model.StateUp) != (res.Result.Latency == 42*time.Millisecond) {
				t.Fatalf("%s: message %+v, want the %s result", s.Name(), res, want)
			}
		}
	}
	evs, err := db.Events(0, 10)
	if err != nil || len(evs) != 1 {
		t.Fatalf("stored events %v, %v: want exactly one", evs, err)
	}
	r.Sample(system.Snapshot{Time: t0.Add(time.Second), CPU: &system.CPUPercent{Busy: 5}})
	if _, ok := latest.System(); !ok {
		t.Fatal("the sample did not become the latest state")
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	pts, err := db.Range(series.CheckLatency("web"), t0.Add(-time.Minute), t0.Add(time.Minute), 10)
	if err != nil || len(pts) != 1 || pts[0].Value != 42 {
		t.Fatalf("latency series %v, %v: want the up result's 42 ms with the sample", pts, err)
	}
	// (The down run's 7 ms is not in the series: a failed run's latency
	// is not plotted.)
}

// TestRecorder_SlowSubscriberCannotStall: a subscriber that never reads
// costs the producers nothing: results keep flowing to the others and to
// storage, and the missed messages are counted.
func TestRecorder_SlowSubscriberCannotStall(t *testing.T) {
	r, db, _ := newRecorder(t)
	stuck := r.Subscribe("stuck", 4)
	live := r.Subscribe("live", 1000)
	var wg sync.WaitGroup
	const checks, runs = 10, 50
	start := time.Now()
	for c := range checks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range runs {
				r.Result(model.Result{Check: "c" + string(rune('a'+c)), Time: t0.Add(time.Duration(i) * time.Second), State: model.StateUp})
			}
		}()
	}
	wg.Wait()
	if d := time.Since(start); d > 20*time.Second {
		t.Fatalf("producers took %s", d)
	}
	if got := stuck.Dropped(); got != checks*runs-4 {
		t.Fatalf("stuck subscriber dropped %d, want %d (all but its buffer)", got, checks*runs-4)
	}
	if live.Dropped() != 0 || len(live.C()) != checks*runs {
		t.Fatalf("the live subscriber got %d, dropped %d", len(live.C()), live.Dropped())
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	rs, err := db.Results("ca", t0.Add(-time.Hour), t0.Add(time.Hour), 1000)
	if err != nil || len(rs) != runs {
		t.Fatalf("stored results of one check: %d, %v; want %d", len(rs), err, runs)
	}
}

// TestRecorder_CloseFlushesLatency: latency points no sample took along
// are written at Close.
func TestRecorder_CloseFlushesLatency(t *testing.T) {
	r, db, _ := newRecorder(t)
	r.Result(model.Result{Check: "web", Time: t0, State: model.StateUp, Latency: 7 * time.Millisecond})
	if err := r.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, err := db.SeriesNames()
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, n := range names {
		found = found || n == series.CheckLatency("web")
	}
	if !found {
		t.Fatalf("latency series not written at Close: %v", names)
	}
}

var _ collectors.Sink = (*Recorder)(nil)
