package metrics

import (
	"testing"
	"time"

	"github.com/dashd/dashd/storage"
)

// TestFleetPart: a hub's agents appear as dashd_fleet_* series, an
// unreachable one with up 0; a single host exports no per-host series.
func TestFleetPart(t *testing.T) {
	e := newEnv(t, envOptions{})
	fams := parseText(t, func() []byte { _, b := e.scrape(t, ""); return b }())
	if m := fams.find("dashd_fleet_hosts"); m == nil || value(m) != 0 {
		t.Fatalf("dashd_fleet_hosts on a single host = %v, want 0", m)
	}
	if f := fams["dashd_fleet_host_up"]; f != nil && len(f.GetMetric()) > 0 {
		t.Fatalf("dashd_fleet_host_up on a single host: %v", f)
	}

	seen := time.Unix(1_700_000_000, 0)
	if err := e.db.IngestHosts(storage.HostBatch{
		Hellos: []storage.HostInfo{{Name: "web-1"}, {Name: "db-1"}},
		Seen:   map[string]time.Time{"web-1": seen, "db-1": seen},
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.db.SetHostUnreachable("db-1", seen.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	fams = parseText(t, func() []byte { _, b := e.scrape(t, ""); return b }())
	tests := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"dashd_fleet_hosts", nil, 2},
		{"dashd_fleet_host_up", []string{"host", "web-1"}, 1},
		{"dashd_fleet_host_up", []string{"host", "db-1"}, 0},
		{"dashd_fleet_host_last_seen_timestamp_seconds", []string{"host", "web-1"}, 1_700_000_000},
	}
	for _, tt := range tests {
		m := fams.find(tt.name, tt.labels...)
		if m == nil || value(m) != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, m, tt.want)
		}
	}
}
