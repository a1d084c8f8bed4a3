package view

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// fleetHosts are a hub and three agents: one unreachable, one with a
// check down, one busy.
func fleetHosts(now time.Time) []FleetHost {
	agent := func(name string, labels map[string]string, cpu, mem, disk float64, checks ...collectors.Status) FleetHost {
		info := storage.HostInfo{Name: name, OS: "linux", Labels: labels, LastSeen: now.Add(-2 * time.Second)}
		s := model.Sample{Time: now.Add(-2 * time.Second), Points: []model.Point{
			{Series: "cpu.total", Value: cpu}, {Series: "mem.used_pct", Value: mem}, {Series: "mem.total", Value: 8 << 30},
			{Series: "fs.used_pct{mount=/}", Value: disk}, {Series: "fs.used_pct{mount=/var}", Value: disk / 2},
		}}
		return FleetHost{Info: info, Snapshot: SnapshotOf(info, s), HasSample: true, Statuses: checks}
	}
	up := collectors.Status{Name: "nginx", State: model.StateUp}
	down := collectors.Status{Name: "postgres", State: model.StateDown, Reason: "connection refused"}
	gone := agent("cache-1", map[string]string{"env": "prod"}, 5, 10, 10)
	gone.Info.UnreachableSince, gone.Info.LastSeen = now.Add(-3*time.Minute), now.Add(-4*time.Minute)
	hub := FleetHost{Hub: true, Info: storage.HostInfo{Name: "hub", LastSeen: now}}
	return []FleetHost{
		hub,
		agent("web-1", map[string]string{"env": "prod", "role": "web"}, 91, 40, 50, up),
		agent("web-2", map[string]string{"env": "prod", "role": "web"}, 12, 40, 50, up),
		agent("db-1", map[string]string{"env": "staging"}, 5, 40, 97, down),
		gone,
	}
}

func TestFleet_Order(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		filter []string
		want   []string
	}{
		{"all", nil, []string{"cache-1", "db-1", "web-1", "web-2", "hub"}},
		{"env prod", []string{"env:prod"}, []string{"cache-1", "web-1", "web-2"}},
		{"two labels", []string{"env:prod", "role:web"}, []string{"web-1", "web-2"}},
		{"nothing", []string{"env:none"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseLabelFilters(tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			v := Fleet(FleetInput{Hosts: fleetHosts(now), Filter: f, Now: now})
			var got []string
			for _, tile := range v.Tiles {
				got = append(got, tile.Name)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("order = %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("order = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestParseLabelFilters(t *testing.T) {
	tests := []struct {
		in []string
		ok bool
	}{
		{[]string{"env:prod"}, true},
		{[]string{"env:"}, true},
		{[]string{"env"}, false},
		{[]string{":prod"}, false},
		{[]string{"a:b|c"}, false},
		{[]string{"1:1", "2:2", "3:3", "4:4", "5:5", "6:6", "7:7", "8:8", "9:9"}, false},
	}
	for _, tt := range tests {
		if _, err := ParseLabelFilters(tt.in); (err == nil) != tt.ok {
			t.Errorf("ParseLabelFilters(%q) error = %v, want ok %v", tt.in, err, tt.ok)
		}
	}
}

// TestFleet_Golden renders the overview and an agent's page.
func TestFleet_Golden(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	f, _ := ParseLabelFilters([]string{"env:prod"})
	var b bytes.Buffer
	if err := ui.FleetGrid(Fleet(FleetInput{Hosts: fleetHosts(now), Filter: f, Now: now})).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "fleet/overview.html", b.Bytes())

	h := fleetHosts(now)[3]
	ev := []model.Event{{ID: 7, Time: now.Add(-time.Minute), Kind: model.EventCheck, Check: "postgres", From: model.StateUp, To: model.StateDown, Reason: "connection refused"}}
	sp := NewSparks(0, 0)
	sp.Observe(h.Snapshot, nil)
	v := FleetHostPage(FleetHostInput{Host: h, Stats: sp.Cards(h.Snapshot, nil), Events: ev, Now: now})
	b.Reset()
	if err := ui.FleetHostChecks(v.Name, v.Dashboard.Groups).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if err := ui.FleetHostEvents(v.Name, v.Dashboard.Events).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	if err := ui.StatsGrid(v.Dashboard.Stats).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "fleet/host.html", b.Bytes())
}
