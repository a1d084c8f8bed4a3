package view

import (
	"bytes"
	"context"
	"fmt"
	"reflect"
	"slices"
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

// phasedHosts are n healthy agents with the same figures that last spoke
// at different phases of the second before now: the order of their
// arrivals is shuffled by shift, as on a real fleet from one sample to
// the next.
func phasedHosts(n int, now time.Time, shift int) []FleetHost {
	out := make([]FleetHost, 0, n)
	for i := range n {
		phase := time.Duration((i*7+shift*13)%n) * time.Second / time.Duration(n)
		info := storage.HostInfo{Name: fmt.Sprintf("web-%03d", i), OS: "linux", LastSeen: now.Add(-phase)}
		s := model.Sample{Time: info.LastSeen, Points: []model.Point{{Series: "cpu.total", Value: 12}, {Series: "mem.used_pct", Value: 40}}}
		out = append(out, FleetHost{Info: info, Snapshot: SnapshotOf(info, s), HasSample: true,
			Statuses: []collectors.Status{{Name: "nginx", State: model.StateUp}}})
	}
	return out
}

// TestFleet_StableWhileReporting: two ticks a second apart, where only
// when each host last spoke changed, give the same tiles in the same
// order, so the live overview patches nothing.
func TestFleet_StableWhileReporting(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	a := Fleet(FleetInput{Hosts: phasedHosts(200, now, 0), Now: now})
	b := Fleet(FleetInput{Hosts: phasedHosts(200, now.Add(time.Second), 1), Now: now.Add(time.Second)})
	if len(a.Tiles) != 200 || len(b.Tiles) != 200 {
		t.Fatalf("tiles = %d, %d, want 200", len(a.Tiles), len(b.Tiles))
	}
	for i := range a.Tiles {
		if a.Tiles[i].Name != b.Tiles[i].Name {
			t.Fatalf("tile %d is %s, then %s: the order follows the arrival phase", i, a.Tiles[i].Name, b.Tiles[i].Name)
		}
		if !reflect.DeepEqual(a.Tiles[i], b.Tiles[i]) {
			t.Fatalf("tile %s changed with its arrival time alone:\n%+v\n%+v", a.Tiles[i].Name, a.Tiles[i], b.Tiles[i])
		}
	}
}

// TestFleet_UnreachableLongestSilentFirst: among unreachable hosts the
// one silent the longest still comes first; healthy ones go by name.
func TestFleet_UnreachableLongestSilentFirst(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	host := func(name string, silent time.Duration, unreachable bool) FleetHost {
		h := FleetHost{Info: storage.HostInfo{Name: name, LastSeen: now.Add(-silent)}}
		if unreachable {
			h.Info.UnreachableSince = now.Add(-silent / 2)
		}
		return h
	}
	tests := []struct {
		name  string
		hosts []FleetHost
		want  []string
	}{
		{"unreachable by silence", []FleetHost{host("a", 2*time.Minute, true), host("b", 9*time.Minute, true)}, []string{"b", "a"}},
		{"reporting by name", []FleetHost{host("b", time.Second, false), host("a", 3*time.Second, false), host("c", 0, false)}, []string{"a", "b", "c"}},
		{"unreachable before reporting", []FleetHost{host("a", 0, false), host("z", 5*time.Minute, true)}, []string{"z", "a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Fleet(FleetInput{Hosts: tt.hosts, Now: now})
			var got []string
			for _, tile := range v.Tiles {
				got = append(got, tile.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("order = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestSortTiles_AsFleetCompare: sorting with the keys worked out once
// gives FleetCompare's order.
func TestSortTiles_AsFleetCompare(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	hosts := append(fleetHosts(now), phasedHosts(50, now, 3)...)
	for i := range hosts {
		if i%3 == 0 && hosts[i].Snapshot.CPU != nil {
			c := *hosts[i].Snapshot.CPU
			c.Busy = float64(i * 7 % 100)
			hosts[i].Snapshot.CPU = &c
		}
	}
	v := Fleet(FleetInput{Hosts: hosts, Now: now})
	want := slices.Clone(v.Tiles)
	slices.Reverse(want)
	slices.SortStableFunc(want, FleetCompare)
	got := slices.Clone(v.Tiles)
	slices.Reverse(got)
	sortTiles(got)
	for i := range want {
		if got[i].Name != want[i].Name {
			t.Fatalf("tile %d is %s, FleetCompare puts %s there", i, got[i].Name, want[i].Name)
		}
	}
}

// BenchmarkFleet_1000 builds a 1,000-host overview, as the live overview
// does every tick.
func BenchmarkFleet_1000(b *testing.B) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	hosts := phasedHosts(1000, now, 0)
	b.ReportAllocs()
	for b.Loop() {
		Fleet(FleetInput{Hosts: hosts, Now: now})
	}
}
