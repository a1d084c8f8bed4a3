package storage

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/dashd/dashd/model"
)

// TestIngestHosts_IdempotentPerHostAndPruned: a batch ingested twice (a
// redelivery) stores each record once, hosts stay apart, the local
// host's history is untouched, and PruneHosts deletes by age.
func TestIngestHosts_IdempotentPerHostAndPruned(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.UnixMilli(1_700_000_000_000)
	b := HostBatch{
		Hellos: []HostInfo{{Name: "web-1", OS: "linux", Labels: map[string]string{"env": "prod"}, Interval: time.Second}},
		Seen:   map[string]time.Time{"web-1": t0, "db-1": t0},
	}
	for i := range 10 {
		at := t0.Add(time.Duration(i) * time.Second)
		b.Samples = append(b.Samples, HostSample{Host: "web-1", Sample: model.Sample{Time: at, Points: []model.Point{
			{Series: "cpu.total", Value: float64(i)}, {Series: "x", Value: 0.1}}}})
		b.Results = append(b.Results, HostResult{Host: "db-1", Result: model.Result{Check: "pg", Time: at, State: model.StateUp}})
	}
	b.Events = []HostEvent{{Host: "web-1", Event: model.Event{ID: 7, Time: t0, Kind: model.EventCheck, Check: "web", To: model.StateDown}}}
	for range 2 {
		if err := db.IngestHosts(b); err != nil {
			t.Fatal(err)
		}
	}
	s, err := db.HostSamples("web-1", t0, t0.Add(time.Hour), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 10 || s[3].Points[0].Value != 3 || s[3].Points[1].Value != 0.1 {
		t.Fatalf("web-1 samples = %d (%+v), want 10, values exact", len(s), s)
	}
	r, _ := db.HostResults("db-1", t0, t0.Add(time.Hour), 100)
	e, _ := db.HostEvents("web-1", 100)
	if len(r) != 10 || len(e) != 1 || e[0].ID != 7 {
		t.Errorf("results %d events %+v, want 10 and one with id 7", len(r), e)
	}
	if other, _ := db.HostSamples("db-1", t0, t0.Add(time.Hour), 100); len(other) != 0 {
		t.Errorf("db-1 has %d samples of web-1's", len(other))
	}
	if local, _ := db.Events(0, 100); len(local) != 0 {
		t.Errorf("the local host's events gained %d", len(local))
	}
	hosts, _ := db.Hosts()
	if len(hosts) != 2 || hosts[1].Name != "web-1" || hosts[1].Labels["env"] != "prod" || !hosts[1].LastSeen.Equal(t0) {
		t.Errorf("hosts = %+v", hosts)
	}
	n, err := db.PruneHosts(t0.Add(5*time.Second), t0.Add(2*time.Second), t0)
	if err != nil || n != 5+2 {
		t.Fatalf("pruned %d (%v), want 7", n, err)
	}
	s, _ = db.HostSamples("web-1", time.Unix(0, 0), t0.Add(time.Hour), 100)
	if len(s) != 5 || !s[0].Time.Equal(t0.Add(5*time.Second)) {
		t.Errorf("after prune: %d samples from %v", len(s), s)
	}
}

// TestIngestHosts_SeriesBounded: one host cannot grow its series
// dictionary past MaxHostSeries.
func TestIngestHosts_SeriesBounded(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pts := make([]model.Point, MaxHostSeries+10)
	for i := range pts {
		pts[i] = model.Point{Series: "s" + string(rune('a'+i%26)) + time.Duration(i).String(), Value: 1}
	}
	at := time.UnixMilli(1_700_000_000_000)
	if err := db.IngestHosts(HostBatch{Samples: []HostSample{{Host: "h", Sample: model.Sample{Time: at, Points: pts}}}}); err != nil {
		t.Fatal(err)
	}
	s, _ := db.HostSamples("h", at, at.Add(time.Second), 1)
	if len(s) != 1 || len(s[0].Points) != MaxHostSeries {
		t.Errorf("stored %d points, want %d", len(s[0].Points), MaxHostSeries)
	}
}

// BenchmarkHostDay reports what the hub stores per host per day: a
// sample of 63 points (what this machine's sampler makes; 1307 wire
// bytes) every second and 20 checks every 30 s, ingested in batches as
// the hub does, for one simulated hour. MB/host/day is the pages in use
// once the raw window is pruned (the minute and hour tiers, results and
// the series dictionary), times 24; raw-window-MB is the raw window of
// 10 minutes the hub keeps besides (fleet.hub_raw), a constant per host.
func BenchmarkHostDay(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		db, err := Open(filepath.Join(b.TempDir(), "hub.db"), Options{})
		if err != nil {
			b.Fatal(err)
		}
		before := inUse(db)
		b.StartTimer()
		t0 := time.UnixMilli(1_700_000_000_000)
		for sec := 0; sec < 3600; sec += 10 {
			var hb HostBatch
			for i := range 10 {
				at := t0.Add(time.Duration(sec+i) * time.Second)
				pts := make([]model.Point, 63)
				for j := range pts {
					pts[j] = model.Point{Series: "series." + time.Duration(j).String(), Value: float64((sec + i + j) % 100)}
				}
				hb.Samples = append(hb.Samples, HostSample{Host: "web-1", Sample: model.Sample{Time: at, Points: pts}})
				if (sec+i)%30 == 0 {
					for c := range 20 {
						hb.Results = append(hb.Results, HostResult{Host: "web-1", Result: model.Result{Check: "check-" + time.Duration(c).String(),
							Time: at, State: model.StateUp, Latency: 12 * time.Millisecond}})
					}
				}
			}
			if err := db.IngestHosts(hb); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		if _, err := db.PruneHosts(t0.Add(50*time.Minute), t0, t0); err != nil {
			b.Fatal(err)
		}
		withWindow := inUse(db)
		if _, err := db.PruneHosts(t0.Add(time.Hour), t0, t0); err != nil {
			b.Fatal(err)
		}
		after := inUse(db)
		window := withWindow - after
		b.ReportMetric(float64(after-before)*24/1e6, "MB/host/day")
		b.ReportMetric(float64(window)/1e6, "raw-window-MB")
		_ = db.Close()
		b.StartTimer()
	}
}

// inUse is the size of the pages in use, free pages not counted.
func inUse(db *DB) int64 {
	var n int64
	_ = db.bolt.View(func(tx *bolt.Tx) error {
		n = tx.Size()
		return nil
	})
	st := db.bolt.Stats()
	return n - int64(st.FreePageN+st.PendingPageN)*int64(db.bolt.Info().PageSize)
}
