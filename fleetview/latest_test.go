package fleetview

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// countingStore is the real store, counting the per-host reads the
// overview makes; during, when set, runs inside a HostLatestState read
// (a commit landing while the host is read).
type countingStore struct {
	*storage.DB
	mu     sync.Mutex
	latest map[string]int
	events int
	during func(host string)
}

func (s *countingStore) HostLatestState(host string, scan, perCheck int, checks ...string) (storage.HostLatest, bool, error) {
	l, ok, err := s.DB.HostLatestState(host, scan, perCheck, checks...)
	s.mu.Lock()
	s.latest[host]++
	during := s.during
	s.during = nil
	s.mu.Unlock()
	if during != nil {
		during(host)
	}
	return l, ok, err
}

func (s *countingStore) HostEvents(host string, limit int) ([]model.Event, error) {
	s.mu.Lock()
	s.events++
	s.mu.Unlock()
	return s.DB.HostEvents(host, limit)
}

func (s *countingStore) reads() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.events
	for _, c := range s.latest {
		n += c
	}
	return n
}

// overviewTest is a hub's store with agents, the Fleet the daemon runs
// (fed by the ingester's commits) and a clock the test moves.
type overviewTest struct {
	t     *testing.T
	db    *storage.DB
	store *countingStore
	fed   *Fleet
	now   time.Time
	hosts []string
}

func newOverviewTest(t *testing.T, n int) *overviewTest {
	db, err := storage.Open(filepath.Join(t.TempDir(), "hub.db"), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	ot := &overviewTest{t: t, db: db, store: &countingStore{DB: db, latest: map[string]int{}}, now: time.Now().Truncate(time.Second)}
	ot.fed = ot.fleet(ot.store)
	var b storage.HostBatch
	for i := range n {
		name := fmt.Sprintf("web-%02d", i)
		ot.hosts = append(ot.hosts, name)
		b.Hellos = append(b.Hellos, storage.HostInfo{Name: name, OS: "linux", Labels: map[string]string{"env": "prod"}})
		b.Events = append(b.Events, storage.HostEvent{Host: name, Event: model.Event{ID: 1, Time: ot.now.Add(-time.Minute),
			Kind: model.EventCheck, Check: "nginx", From: model.StateUnknown, To: model.StateUp}})
	}
	ot.commit(b)
	ot.tick(time.Second, 0)
	return ot
}

func (ot *overviewTest) fleet(st Store) *Fleet {
	f, err := New(Options{Store: st, Latest: state.New(config.Default(), ot.now), Checks: collectors.NewRunner(collectors.RunnerOptions{}),
		Hub: hub.New(), Hostname: "hub", Now: func() time.Time { return ot.now }})
	if err != nil {
		ot.t.Fatal(err)
	}
	return f
}

// commit stores b as the ingester does, and tells the fed Fleet.
func (ot *overviewTest) commit(b storage.HostBatch) {
	ot.t.Helper()
	if b.Seen == nil {
		b.Seen = map[string]time.Time{}
		for _, h := range ot.hosts {
			b.Seen[h] = ot.now
		}
	}
	if err := ot.db.IngestHosts(b); err != nil {
		ot.t.Fatal(err)
	}
	ot.fed.HostsCommitted(b)
}

// tick moves the clock by d and commits a sample and a result of every
// host, each at its own phase of the second (as a fleet's agents do),
// with cpu as the figure.
func (ot *overviewTest) tick(d time.Duration, cpu float64) {
	ot.now = ot.now.Add(d)
	var b storage.HostBatch
	b.Seen = map[string]time.Time{}
	for i, h := range ot.hosts {
		at := ot.now.Add(-time.Duration((i*37+int(ot.now.Unix()))%1000) * time.Millisecond)
		b.Seen[h] = at
		b.Samples = append(b.Samples, storage.HostSample{Host: h, Sample: model.Sample{Time: at, Points: []model.Point{
			{Series: "cpu.total", Value: cpu}, {Series: "mem.used_pct", Value: 40}, {Series: "mem.total", Value: 8 << 30}}}})
		b.Results = append(b.Results, storage.HostResult{Host: h, Result: model.Result{Check: "nginx", Time: at,
			State: model.StateUp, Latency: time.Duration(i) * time.Millisecond}})
	}
	ot.commit(b)
}

// overview is what the fed Fleet shows, and what a Fleet that reads
// everything from storage shows.
func (ot *overviewTest) overview() (fed, stored ui.FleetView) {
	ot.t.Helper()
	fed, err := ot.fed.Overview(nil)
	if err != nil {
		ot.t.Fatal(err)
	}
	stored, err = ot.fleet(ot.db).Overview(nil)
	if err != nil {
		ot.t.Fatal(err)
	}
	return fed, stored
}

// TestOverview_FedFromCommits: once the ingester feeds the Fleet, the
// overview reads each agent from storage once, then keeps it from the
// commits: ticks read no agent back, and show exactly what storage
// holds (a check going down included).
func TestOverview_FedFromCommits(t *testing.T) {
	ot := newOverviewTest(t, 20)
	fed, stored := ot.overview()
	if !reflect.DeepEqual(fed, stored) {
		t.Fatalf("first overview differs from storage's:\n%+v\n%+v", fed, stored)
	}
	filled := ot.store.reads()
	if filled != 2*len(ot.hosts) {
		t.Errorf("filling the overview read storage %d times, want %d (state and events per agent)", filled, 2*len(ot.hosts))
	}
	for i := range 5 {
		ot.tick(time.Second, float64(10+i*20))
		if i == 3 { // a check goes down on one agent
			ot.commit(storage.HostBatch{
				Results: []storage.HostResult{{Host: "web-07", Result: model.Result{Check: "nginx", Time: ot.now, State: model.StateDown, Reason: "refused"}}},
				Events: []storage.HostEvent{{Host: "web-07", Event: model.Event{ID: 2, Time: ot.now, Kind: model.EventCheck, Check: "nginx",
					From: model.StateUp, To: model.StateDown, Reason: "refused"}}}})
		}
		fed, stored := ot.overview()
		if !reflect.DeepEqual(fed, stored) {
			t.Fatalf("tick %d: overview differs from storage's:\n%+v\n%+v", i, fed, stored)
		}
	}
	if got := ot.store.reads() - filled; got != 0 {
		t.Errorf("5 ticks read agents back from storage %d times, want 0", got)
	}
	fed, _ = ot.overview()
	if fed.Tiles[0].Name != "web-07" || fed.Tiles[0].State != model.StateDown {
		t.Errorf("first tile %+v, want web-07 down", fed.Tiles[0])
	}
}

// TestOverview_CommitWhileReading: a commit that lands while an agent is
// read from storage makes that read too old to keep: the next tick reads
// the agent again and shows the commit.
func TestOverview_CommitWhileReading(t *testing.T) {
	ot := newOverviewTest(t, 1)
	ot.store.during = func(host string) {
		at := ot.now.Add(time.Millisecond)
		ot.commit(storage.HostBatch{Results: []storage.HostResult{{Host: host, Result: model.Result{Check: "nginx",
			Time: at, State: model.StateDown, Reason: "refused"}}},
			Events: []storage.HostEvent{{Host: host, Event: model.Event{ID: 2, Time: at, Kind: model.EventCheck, Check: "nginx",
				From: model.StateUp, To: model.StateDown, Reason: "refused"}}}})
	}
	if _, err := ot.fed.Overview(nil); err != nil {
		t.Fatal(err)
	}
	before := ot.store.reads()
	fed, stored := ot.overview()
	if !reflect.DeepEqual(fed, stored) {
		t.Fatalf("overview differs from storage's after a commit during its read:\n%+v\n%+v", fed, stored)
	}
	if fed.Tiles[0].Name != "web-00" || fed.Tiles[0].ChecksDown != 1 {
		t.Errorf("first tile %+v, want web-00 with nginx down", fed.Tiles[0])
	}
	if ot.store.reads() == before {
		t.Errorf("the read a commit overtook was kept: the agent was not read again")
	}
}

// TestOverview_ForgetsWhenIdle: nobody reading the overview for
// latestIdle drops the cache, and commits then keep nothing.
func TestOverview_ForgetsWhenIdle(t *testing.T) {
	ot := newOverviewTest(t, 3)
	if _, err := ot.fed.Overview(nil); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		ot.fed.latest.mu.Lock()
		defer ot.fed.latest.mu.Unlock()
		return len(ot.fed.latest.hosts)
	}
	if n := count(); n != 3 {
		t.Fatalf("cache holds %d agents after an overview, want 3", n)
	}
	ot.fed.latest.forget(ot.now.Add(latestIdle / 2))
	if n := count(); n != 3 {
		t.Fatalf("cache dropped while watched: %d agents", n)
	}
	ot.fed.latest.forget(ot.now.Add(2 * latestIdle))
	ot.tick(time.Second, 50)
	if n := count(); n != 0 {
		t.Errorf("cache holds %d agents after latestIdle unwatched, want 0", n)
	}
}

// TestOverview_UnfedReadsStorage: a Fleet nobody feeds (a request's)
// reads storage every time and never goes stale.
func TestOverview_UnfedReadsStorage(t *testing.T) {
	ot := newOverviewTest(t, 2)
	unfed := ot.fleet(ot.db)
	if _, err := unfed.Overview(nil); err != nil {
		t.Fatal(err)
	}
	ot.tick(time.Second, 95)
	v, err := unfed.Overview(nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.Tiles[0].CPU != "95%" {
		t.Errorf("unfed overview shows CPU %q, want the newest 95%%", v.Tiles[0].CPU)
	}
}

// TestOverviewDiff_ArrivalPhases: ticks where every agent sampled again
// at its own phase, with the same figures, patch nothing; a figure that
// moves patches that tile alone.
func TestOverviewDiff_ArrivalPhases(t *testing.T) {
	ot := newOverviewTest(t, 30)
	ctx := context.Background()
	v, _ := ot.overview()
	prev := &sent{overview: &v}
	for i := range 3 {
		ot.tick(time.Second, 0)
		v, _ := ot.overview()
		if evs := overviewDiff(ctx, prev, v); len(evs) != 0 {
			t.Fatalf("tick %d: %d events for new arrival times alone: %v", i, len(evs), ids(t, evs))
		}
		prev = &sent{overview: &v}
	}
	ot.now = ot.now.Add(time.Second)
	ot.commit(storage.HostBatch{Samples: []storage.HostSample{{Host: "web-05", Sample: model.Sample{Time: ot.now,
		Points: []model.Point{{Series: "cpu.total", Value: 3}, {Series: "mem.used_pct", Value: 40}, {Series: "mem.total", Value: 8 << 30}}}}}})
	v, _ = ot.overview()
	if got := ids(t, overviewDiff(ctx, prev, v)); !reflect.DeepEqual(got, []string{ui.FleetTileID("web-05")}) {
		t.Errorf("one tile's figure moved: sent %v, want that tile alone", got)
	}
}

// TestOverview_Refresh: an agent kept in memory is read from storage
// again once its refresh is due (within latestRefresh), once, and the
// overview still matches storage.
func TestOverview_Refresh(t *testing.T) {
	ot := newOverviewTest(t, 10)
	if _, err := ot.fed.Overview(nil); err != nil {
		t.Fatal(err)
	}
	filled := ot.store.reads()
	ot.tick(latestRefresh/4, 20)
	if _, err := ot.fed.Overview(nil); err != nil {
		t.Fatal(err)
	}
	if n := ot.store.reads() - filled; n != 0 {
		t.Errorf("%d reads before any refresh was due", n)
	}
	ot.tick(latestRefresh, 30)
	fed, stored := ot.overview()
	if !reflect.DeepEqual(fed, stored) {
		t.Fatalf("refreshed overview differs from storage's:\n%+v\n%+v", fed, stored)
	}
	if n := ot.store.reads() - filled; n != 2*len(ot.hosts) {
		t.Errorf("refresh read storage %d times, want %d (each agent once)", n, 2*len(ot.hosts))
	}
	for _, h := range ot.hosts {
		if c := ot.store.latest[h]; c != 2 {
			t.Errorf("%s read %d times, want 2 (fill and refresh)", h, c)
		}
	}
}

// TestOverview_InventedChecksBounded: an agent that invents check names
// does not grow its cache entry past maxCachedChecks; the entry is read
// from storage again instead (a bounded scan).
func TestOverview_InventedChecksBounded(t *testing.T) {
	ot := newOverviewTest(t, 2)
	ot.overview()
	host := ot.hosts[0]
	var b storage.HostBatch
	for i := range maxCachedChecks + 50 {
		b.Results = append(b.Results, storage.HostResult{Host: host, Result: model.Result{Check: fmt.Sprintf("c-%d", i),
			Time: ot.now, State: model.StateUp}})
	}
	ot.commit(b)
	l := ot.fed.latest
	l.mu.Lock()
	n, expired := len(l.hosts[host].results), !ot.now.Before(l.hosts[host].expires)
	l.mu.Unlock()
	if n > maxCachedChecks || !expired {
		t.Fatalf("cache entry holds %d checks (bound %d), due for a storage read: %v", n, maxCachedChecks, expired)
	}
	before := ot.store.reads()
	ot.overview()
	if ot.store.reads() == before {
		t.Error("the over-full entry was not read from storage again")
	}
}
