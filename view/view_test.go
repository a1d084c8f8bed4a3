package view

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

var t0 = time.Date(2026, 3, 14, 15, 0, 0, 0, time.UTC)

func snapshot(at time.Time, cpu float64) system.Snapshot {
	return system.Snapshot{
		Time: at, UptimeSeconds: 3 * 86400,
		Host:        &system.Host{Hostname: "box", Platform: "debian", PlatformVersion: "12.5", Kernel: "6.1.0", Arch: "x86_64", CPUs: 2},
		CPU:         &system.CPUPercent{Core: -1, Busy: cpu, User: cpu / 2, System: cpu / 2, Idle: 100 - cpu},
		Memory:      system.Memory{Total: 8 << 30, Used: 2 << 30, Available: 6 << 30, UsedPercent: 25},
		Filesystems: []system.Filesystem{{Mount: "/", Device: "/dev/sda1", FSType: "ext4", Total: 100 << 30, Used: 40 << 30, Avail: 60 << 30, UsedPercent: 40}},
		Processes:   system.ProcessCounts{Total: 100, Running: 1},
	}
}

// openDB is a real storage file with its writer running.
func openDB(t *testing.T) *storage.DB {
	t.Helper()
	db, err := storage.Open(filepath.Join(t.TempDir(), "d.db"), storage.Options{Clock: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = db.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; _ = db.Close() })
	return db
}

func TestRing(t *testing.T) {
	r := newRing(4)
	step := time.Second
	r.add(t0, 1, step)
	r.add(t0.Add(500*time.Millisecond), 3, step)
	if !r.add(t0.Add(time.Second), 5, step) {
		t.Fatal("a new bucket did not close the old one")
	}
	r.add(t0.Add(3*time.Second), 7, step) // one bucket skipped
	got := r.values()
	if got[1] != 2 || got[2] != 5 || got[3] == got[3] /* NaN */ {
		t.Errorf("values %v, want [NaN 2 5 NaN]", got)
	}
}

// TestRing_ValuesShared: values hands out one copy until a bucket closes,
// then a new one, and never writes a copy it handed out.
func TestRing_ValuesShared(t *testing.T) {
	r := newRing(3)
	step := time.Second
	r.add(t0, 1, step)
	r.add(t0.Add(time.Second), 2, step)
	a, b := r.values(), r.values()
	if &a[0] != &b[0] {
		t.Error("values copied again without a bucket closing")
	}
	r.add(t0.Add(1500*time.Millisecond), 9, step) // same bucket: no change
	if c := r.values(); &c[0] != &a[0] {
		t.Error("values copied again within a bucket")
	}
	r.add(t0.Add(2*time.Second), 3, step) // closes the bucket of 2 and 9
	c := r.values()
	if &c[0] == &a[0] || c[2] != 5.5 {
		t.Errorf("after a bucket closed: %v, want a new copy ending in 5.5", c)
	}
	if a[2] != 1 {
		t.Errorf("the copy handed out before changed to %v", a)
	}
	if cap(c) != len(c) {
		t.Errorf("values has room to append into (cap %d, len %d)", cap(c), len(c))
	}
}

func TestSparks(t *testing.T) {
	sp := NewSparks(time.Second, 5)
	for i := range 4 {
		sp.Observe(snapshot(t0.Add(time.Duration(i)*time.Second), float64(10*i)), nil)
	}
	sp.Observe(snapshot(t0.Add(2*time.Second), 99), nil) // older: ignored
	cs := sp.Cards(snapshot(t0.Add(3*time.Second), 30), nil)
	if cs[0].Key != "cpu" || cs[0].Spark.ID != ui.SparkID("cpu") {
		t.Fatalf("first card %+v", cs[0])
	}
	vals := cs[0].Spark.Values
	if len(vals) != 5 || vals[2] != 0 || vals[3] != 10 || vals[4] != 20 {
		t.Fatalf("cpu sparkline %v, want the completed buckets ... 0 10 20", vals)
	}
}

func TestCards_SelfFootprint(t *testing.T) {
	snap := snapshot(t0, 10)
	if cs := cards(snap, nil); cs[len(cs)-1].Key == "dashd" {
		t.Fatal("dashd card shown before any footprint reading")
	}
	f := selfstat.Footprint{CPUPercent: 0.25, RSSBytes: 18 << 20, Goroutines: 31, DBBytes: 16 << 20, SSEClients: 1, EventsPerSec: 2.5}
	cs := cards(snap, &f)
	c := cs[len(cs)-1]
	if c.Key != "dashd" || c.metric != 0.25 {
		t.Fatalf("last card = %+v, want dashd's own at 0.25%% CPU", c)
	}
	for _, want := range []string{"18", "RSS", "31 goroutines", "1 client ·", "2.5 ev/s"} {
		if !strings.Contains(c.Value.Sub, want) {
			t.Errorf("dashd card sub %q lacks %q", c.Value.Sub, want)
		}
	}
	if !strings.Contains(c.Hint, "16") {
		t.Errorf("dashd card hint %q lacks the history size", c.Hint)
	}
}

func TestCheckPage(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		if err := db.WriteResult(model.Result{Check: "web", Time: t0.Add(-time.Duration(i) * time.Minute), State: model.StateUp, Latency: time.Duration(10+i) * time.Millisecond}); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := collectors.Status{Name: "web", Type: "http", State: model.StateUp}
	src := "name: web\ntype: http\nurl: https://example.test/?token=${TOKEN}\n"
	v, err := CheckPage(db, st, src, "1h", t0)
	if err != nil {
		t.Fatal(err)
	}
	// Four minutes of data: one uptime figure, "since" the first result.
	if len(v.Days) != 90 || len(v.Uptime) != 1 || len(v.Results) != 5 || len(v.Chart.Points) == 0 {
		t.Errorf("days %d, windows %d, results %d, chart points %d", len(v.Days), len(v.Uptime), len(v.Results), len(v.Chart.Points))
	}
	if v.Source != src || v.Range != "1h" {
		t.Errorf("Source %q, Range %q", v.Source, v.Range)
	}
	if v, _ := CheckPage(db, st, src, "bogus", t0); v.Range != "1h" {
		t.Errorf("an unknown range gave %q, want the fitted 1h", v.Range)
	}
	u, err := CheckPageUpdate(db, st, t0)
	if err != nil || len(u.Chart.Points) != 0 || len(u.Results) != 5 {
		t.Errorf("update: chart points %d (want none), results %d, %v", len(u.Chart.Points), len(u.Results), err)
	}
	b, err := hub.Encode(CheckUpdate(ctx, u)...)
	if err != nil || strings.Contains(string(b), ui.CheckLatencyID) {
		t.Errorf("a check update carries the chart: %v\n%s", err, b)
	}
}

func TestDashboard(t *testing.T) {
	sts := []collectors.Status{
		{Name: "web", Group: "edge", State: model.StateUp},
		{Name: "db", Group: "core", State: model.StateDown, Reason: "refused"},
	}
	v := Dashboard(DashboardInput{Snapshot: snapshot(t0, 10), Statuses: sts, Version: "1",
		Events:  []model.Event{{ID: 3, Time: t0, Kind: model.EventStart}},
		Storage: storage.WriteHealth{OK: false, LastError: "no space left on device", FailingSince: t0}, Now: t0})
	if v.Status.Down != 1 || len(v.Groups) != 2 || v.Groups[0].Name != "core" {
		t.Errorf("status %+v, groups %+v: want the down group first", v.Status, v.Groups)
	}
	if len(v.Events) != 1 || !strings.Contains(v.Storage, "no space left") {
		t.Errorf("events %v, storage %q", v.Events, v.Storage)
	}
	ok := Dashboard(DashboardInput{Storage: storage.WriteHealth{OK: true}})
	if ok.Storage != "" {
		t.Errorf("healthy storage shows a banner: %q", ok.Storage)
	}
}
