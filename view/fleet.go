package view

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// FleetHost is one host of a hub as the fleet pages read it: the agents'
// from storage (their latest sample rebuilt by SnapshotOf, their checks by
// HostStatuses), the hub's own from its live state.
type FleetHost struct {
	Info storage.HostInfo
	// Hub marks the hub's own host.
	Hub bool
	// Snapshot is the newest sample; HasSample is false before the first.
	Snapshot  system.Snapshot
	HasSample bool
	Statuses  []collectors.Status
}

// FleetInput is everything the overview shows.
type FleetInput struct {
	Hosts []FleetHost
	// Filter keeps the hosts that carry every one of these labels.
	Filter []LabelFilter
	Now    time.Time
}

// LabelFilter is one ?label=key:value of the overview.
type LabelFilter struct{ Key, Value string }

// MaxLabelFilters bounds the labels one overview request filters by.
const MaxLabelFilters = 8

// ParseLabelFilters parses the overview's ?label= values ("env:prod"). A
// value without a colon, an empty key, one with '|', more than MaxLabelFilters values
// or one longer than 256 bytes is an error that says so.
func ParseLabelFilters(vals []string) ([]LabelFilter, error) {
	if len(vals) > MaxLabelFilters {
		return nil, fmt.Errorf("label: at most %d filters", MaxLabelFilters)
	}
	var out []LabelFilter
	for _, v := range vals {
		k, val, ok := strings.Cut(v, ":")
		if !ok || k == "" || len(v) > 256 || strings.ContainsAny(v, "|\x00") {
			return nil, fmt.Errorf("label: %q is not key:value (such as env:prod; no '|')", truncate(v, 64))
		}
		out = append(out, LabelFilter{Key: k, Value: val})
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

// Keeps reports whether labels carry every filter.
func keeps(filter []LabelFilter, labels map[string]string) bool {
	for _, f := range filter {
		if v, ok := labels[f.Key]; !ok || v != f.Value {
			return false
		}
	}
	return true
}

// Fleet builds the overview: the hosts that pass the filter as tiles,
// worst first (see FleetLess). It is a pure function of its input.
func Fleet(in FleetInput) ui.FleetView {
	v := ui.FleetView{Hosts: len(in.Hosts)}
	for _, f := range in.Filter {
		v.Filter = append(v.Filter, f.Key+":"+f.Value)
	}
	for _, h := range in.Hosts {
		if !keeps(in.Filter, h.Info.Labels) {
			continue
		}
		t := FleetTileOf(h, in.Filter, in.Now)
		v.Tiles = append(v.Tiles, t)
		switch t.State {
		case model.StateUp:
			v.Status.Up++
		case model.StateDegraded:
			v.Status.Degraded++
		case model.StateDown:
			v.Status.Down++
		default:
			v.Status.Unknown++
		}
	}
	sortTiles(v.Tiles)
	return v
}

// sortTiles sorts tiles as FleetCompare does, working each tile's keys
// out once rather than on every comparison (the overview sorts every
// host every tick).
func sortTiles(tiles []ui.FleetTile) {
	type keyed struct {
		k sortKeys
		t ui.FleetTile
	}
	ks := make([]keyed, len(tiles))
	for i, t := range tiles {
		ks[i] = keyed{keysOf(t), t}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return compareKeys(a.k, b.k) })
	for i := range ks {
		tiles[i] = ks[i].t
	}
}

// sortKeys are what FleetCompare orders tiles by, worst first.
type sortKeys struct {
	rank           int // unreachable above any check state
	cpu, mem, disk int // 10 % bands, -1 without a sample
	down           int
	seen           time.Time // unreachable hosts only: zero for the others
	name           string
}

// FleetCompare orders tiles worst first: unreachable hosts, then by the
// worst check state, then CPU, memory and the fullest disk (each in 10 %
// bands, so tiles do not swap places on every sample), then checks down,
// then, among unreachable hosts, the longest silent, then by name.
//
// When a reachable host last spoke is no sort key: hosts sample at
// different phases, so ordering by it reshuffled the healthy tiles on
// every sample and the overview re-sent its whole grid every tick
// (issue #18). Healthy tiles keep their place; only those that changed
// are patched.
func FleetCompare(a, b ui.FleetTile) int {
	return compareKeys(keysOf(a), keysOf(b))
}

// compareKeys is FleetCompare on keys worked out.
func compareKeys(ka, kb sortKeys) int {
	return cmp.Or(
		cmp.Compare(kb.rank, ka.rank),
		cmp.Compare(kb.cpu, ka.cpu),
		cmp.Compare(kb.mem, ka.mem),
		cmp.Compare(kb.disk, ka.disk),
		cmp.Compare(kb.down, ka.down),
		ka.seen.Compare(kb.seen),
		cmp.Compare(ka.name, kb.name),
	)
}

func keysOf(t ui.FleetTile) sortKeys {
	k := sortKeys{rank: int(t.State), down: t.ChecksDown, name: t.Name}
	if t.Unreachable {
		k.rank, k.seen = 100, t.SeenAt
	}
	k.cpu, k.mem, k.disk = band(t.CPU), band(t.Mem), band(t.Disk)
	return k
}

// band is the 10 % band of a tile's rounded percentage ("42%" is 4), -1
// when there is none.
func band(pct string) int {
	var v float64
	if _, err := fmt.Sscanf(strings.TrimSuffix(pct, "%"), "%g", &v); err != nil || math.IsNaN(v) {
		return -1
	}
	return int(v / 10)
}

// FleetTileOf builds one host's tile.
func FleetTileOf(h FleetHost, filter []LabelFilter, now time.Time) ui.FleetTile {
	t := ui.FleetTile{Name: h.Info.Name, Hub: h.Hub, OS: h.Info.OS, Unreachable: !h.Info.UnreachableSince.IsZero(),
		Checks: len(h.Statuses)}
	if h.Snapshot.Host != nil && h.Snapshot.Host.OS != "" && t.OS == "" {
		t.OS = h.Snapshot.Host.OS
	}
	worst := model.StateUp
	for _, s := range h.Statuses {
		worst = max(worst, s.State)
		switch s.State {
		case model.StateDown:
			t.ChecksDown++
			t.ChecksBad++
		case model.StateDegraded:
			t.ChecksBad++
		}
	}
	t.State = worst
	if t.Unreachable {
		t.State = model.StateDown
	}
	if h.HasSample {
		s := h.Snapshot
		if s.CPU != nil {
			t.CPU, t.CPULvl = roundPct(s.CPU.Busy), level(s.CPU.Busy, 80, 95)
		}
		if s.Memory.Total > 0 || s.Memory.UsedPercent > 0 {
			t.Mem, t.MemLvl = roundPct(s.Memory.UsedPercent), level(s.Memory.UsedPercent, 85, 95)
		}
		fullest := -1.0
		for _, f := range s.Filesystems {
			if f.UsedPercent > fullest {
				fullest, t.DiskMount = f.UsedPercent, f.Mount
			}
		}
		if fullest >= 0 {
			t.Disk, t.DiskLvl = roundPct(fullest), level(fullest, 85, 95)
		}
	}
	if quiet := now.Sub(h.Info.LastSeen); !h.Hub && (t.Unreachable || quiet >= time.Minute) && !h.Info.LastSeen.IsZero() {
		// SeenAt only with the text that shows it: a reporting host's
		// arrival time changes every sample and would make its tile
		// differ from the one last sent on every tick.
		t.Seen, t.SeenAt = ui.FormatAge(quiet), h.Info.LastSeen
	}
	t.Labels = FleetLabels(h.Info.Labels, filter)
	return t
}

// roundPct is a whole percentage ("42%"): tiles change when a figure
// moves by a point, not on every sample's decimals.
func roundPct(v float64) string { return fmt.Sprintf("%.0f%%", v) }

// FleetLabels are a host's label chips, sorted by key, those in the
// filter marked active.
func FleetLabels(labels map[string]string, filter []LabelFilter) []ui.FleetLabel {
	out := make([]ui.FleetLabel, 0, len(labels))
	for _, k := range sortedKeys(labels) {
		l := ui.FleetLabel{Key: k, Value: labels[k]}
		l.Active = slices.Contains(filter, LabelFilter{k, labels[k]})
		out = append(out, l)
	}
	return out
}

// HostStatuses rebuilds a fleet host's check states from what the hub
// stores: each check's newest results (newest first) and the host's
// events (oldest first). A check's state is that of its newest state
// change (the agent's damped state, fail_after and all), or its newest
// result's while it never changed; flapping follows its flapping events.
// Sorted by name.
func HostStatuses(results map[string][]model.Result, events []model.Event) []collectors.Status {
	byName := map[string]*collectors.Status{}
	for name, rs := range results {
		if len(rs) == 0 {
			continue
		}
		r := rs[0]
		byName[name] = &collectors.Status{Name: name, State: r.State, LastResult: r.State, Reason: r.Reason,
			Latency: r.Latency, LastCheck: r.Time, Values: r.Values, Badge: true}
	}
	for _, e := range events {
		st, ok := byName[e.Check]
		if !ok {
			continue
		}
		switch e.Kind {
		case model.EventCheck:
			st.State, st.LastChange = e.To, e.Time
		case model.EventFlapping:
			st.Flapping = e.To != model.StateUp
		}
	}
	out := make([]collectors.Status, 0, len(byName))
	for _, name := range sortedKeys(byName) {
		out = append(out, *byName[name])
	}
	return out
}

// HostHeartbeats are a fleet host's heartbeat strips from each check's
// newest results (newest first).
func HostHeartbeats(results map[string][]model.Result) map[string]ui.Heartbeat {
	out := make(map[string]ui.Heartbeat, len(results))
	for name, rs := range results {
		out[name] = HeartbeatOf(rs)
	}
	return out
}

// FleetHostInput is what a fleet host's page shows.
type FleetHostInput struct {
	Host FleetHost
	// Stats are the stat cards with their sparklines (a Sparks fed the
	// host's recent samples).
	Stats []ui.StatCard
	Beats map[string]ui.Heartbeat
	// Events are the host's recent events, newest first.
	Events []model.Event
	Now    time.Time
}

// FleetHostPage builds a fleet host's page with the dashboard's builder:
// the same cards, check rows and event rows as the local dashboard.
func FleetHostPage(in FleetHostInput) ui.FleetHostView {
	h := in.Host
	d := Dashboard(DashboardInput{Snapshot: h.Snapshot, Stats: in.Stats, Statuses: h.Statuses, Beats: in.Beats,
		Events: in.Events, Storage: storage.WriteHealth{OK: true}, Version: h.Info.Version, Now: in.Now})
	if d.Host.Hostname == "" {
		d.Host.Hostname = h.Info.Name
	}
	t := FleetTileOf(h, nil, in.Now)
	return ui.FleetHostView{Name: h.Info.Name, Unreachable: t.Unreachable, Seen: t.Seen, Labels: t.Labels, Dashboard: d}
}

// ErrNoHost is returned when a fleet host is asked for that the hub has
// never heard from.
var ErrNoHost = errors.New("no such host")
