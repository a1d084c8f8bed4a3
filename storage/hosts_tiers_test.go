package storage

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestHostTiers_RollupsOnceAndPruned: a host's samples are folded into
// minute and hour rollups (count, min, max, exact average), a batch
// delivered again (a hub restart before the acknowledgement) is not
// counted twice, the raw window is read as raw, and PruneHostTiers
// deletes slots by age.
func TestHostTiers_RollupsOnceAndPruned(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.UnixMilli(1_700_000_000_000).Truncate(time.Hour) // an hour (and minute) start
	// 3 minutes at 1 s: value = the second within its minute.
	var b HostBatch
	for i := range 180 {
		b.Samples = append(b.Samples, HostSample{Host: "web-1", Sample: model.Sample{Time: t0.Add(time.Duration(i) * time.Second),
			Points: []model.Point{{Series: "cpu.total", Value: float64(i % 60)}, {Series: "mem.used_pct", Value: 50}}}})
	}
	half := HostBatch{Samples: b.Samples[:100]}
	rest := HostBatch{Samples: b.Samples[100:]}
	for _, batch := range []HostBatch{half, half, rest, half, rest} { // repeats included
		if err := db.IngestHosts(batch); err != nil {
			t.Fatal(err)
		}
	}
	end := t0.Add(3 * time.Minute)
	tests := []struct {
		name string
		tier Tier
		want []SeriesPoint
	}{
		{"minute", TierMinute, []SeriesPoint{{Time: t0, Value: 29.5, Min: 0, Max: 59}, {Time: t0.Add(time.Minute), Value: 29.5, Min: 0, Max: 59},
			{Time: t0.Add(2 * time.Minute), Value: 29.5, Min: 0, Max: 59}}},
		{"hour", TierHour, []SeriesPoint{{Time: t0, Value: 29.5, Min: 0, Max: 59}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.HostTierRange("web-1", "cpu.total", tt.tier, t0, end, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d points %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				if !got[i].Time.Equal(tt.want[i].Time) || got[i] != (SeriesPoint{Time: got[i].Time, Value: tt.want[i].Value, Min: tt.want[i].Min, Max: tt.want[i].Max}) {
					t.Errorf("point %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
	raw, err := db.HostTierRange("web-1", "cpu.total", TierRaw, t0, t0.Add(9*time.Second), 0)
	if err != nil || len(raw) != 10 || raw[9].Value != 9 {
		t.Errorf("raw = %+v, %v; want the 10 samples of the first 9 s", raw, err)
	}
	if other, _ := db.HostTierRange("db-1", "cpu.total", TierMinute, t0, end, 0); len(other) != 0 {
		t.Errorf("db-1 has %d points, want none", len(other))
	}
	n, err := db.PruneHostTiers(t0.Add(2*time.Minute), t0)
	if err != nil {
		t.Fatal(err)
	}
	if n != 4 { // two minutes of two series
		t.Errorf("pruned %d slots, want 4", n)
	}
	left, _ := db.HostTierRange("web-1", "cpu.total", TierMinute, t0, end, 0)
	hour, _ := db.HostTierRange("web-1", "cpu.total", TierHour, t0, end, 0)
	if len(left) != 1 || !left[0].Time.Equal(t0.Add(2*time.Minute)) || len(hour) != 1 {
		t.Errorf("after pruning: minutes %+v, hours %+v; want the third minute and the hour", left, hour)
	}
}
