package fleetview

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// Store is what the fleet pages read of storage (a *storage.DB).
type Store interface {
	Hosts() ([]storage.HostInfo, error)
	HostLatestState(host string, scan, perCheck int, checks ...string) (storage.HostLatest, bool, error)
	HostEvents(host string, limit int) ([]model.Event, error)
	HostSamples(host string, from, to time.Time, limit int) ([]model.Sample, error)
	HostCheckRecentResults(host, check string, from, to time.Time, limit, scan int) ([]model.Result, error)
}

// Checks is the hub's own live check state (a *collectors.Runner).
type Checks interface {
	Statuses() []collectors.Status
}

// Rooms is the part of the hub Run sends through (a *hub.Hub).
type Rooms interface {
	BroadcastToRoom(room string, events ...hub.Event)
	RoomCounts() map[string]int
	// LastJoin changes whenever a stream joins room (hub.Hub.LastJoin).
	LastJoin(room string) uint64
}

// Options configures a Fleet. Store, Latest, Checks and Hub are required.
type Options struct {
	Store  Store
	Latest *state.Latest
	Checks Checks
	Hub    Rooms
	// Hostname names the hub's own host when fleet.host is not set.
	Hostname string
	Version  string
	// Interval is how often Run looks for changes (the sample interval;
	// default 1s).
	Interval time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
}

// How much one read of a host takes: results scanned for the newest per
// check, events read for the check states and the page.
const (
	resultScan = 4000
	eventRead  = 200
	sparkSpan  = 5 * time.Minute
)

// Fleet loads the fleet pages and keeps them live (see the package doc).
// Its methods are safe for concurrent use: handlers and Run share it.
type Fleet struct {
	o   Options
	log *slog.Logger

	mu     sync.Mutex
	sparks map[string]*hostSparks // by host: the host pages' sparklines

	latest *latest // the overview's agents, fed by HostsCommitted
}

// hostSparks are one fleet host's sparklines and when a page last read
// them (Run forgets those nobody looked at for sparkForget).
type hostSparks struct {
	s    *view.Sparks
	used time.Time
}

const sparkForget = 10 * time.Minute

// New returns a Fleet, or an error naming a missing part.
func New(o Options) (*Fleet, error) {
	if o.Store == nil || o.Latest == nil || o.Checks == nil || o.Hub == nil {
		return nil, errors.New("fleetview: needs Store, Latest, Checks and Hub")
	}
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Fleet{o: o, log: o.Logger, sparks: map[string]*hostSparks{}, latest: newLatest()}, nil
}

// LocalName is the hub's own host's name in the fleet: fleet.host, or
// the host name.
func (f *Fleet) LocalName() string {
	if cfg := f.o.Latest.Config(); cfg != nil && cfg.Fleet != nil && cfg.Fleet.Host != "" {
		return cfg.Fleet.Host
	}
	return f.o.Hostname
}

// Agents lists the agents' host records (the hub's own name left out).
func (f *Fleet) Agents() ([]storage.HostInfo, error) {
	hosts, err := f.o.Store.Hosts()
	if err != nil {
		return nil, fmt.Errorf("fleetview: hosts: %w", err)
	}
	local := f.LocalName()
	out := hosts[:0]
	for _, h := range hosts {
		if h.Name != local {
			out = append(out, h)
		}
	}
	return out, nil
}

// IsFleet reports whether there is more than one host: the hub and at
// least one agent. / is then the overview.
func (f *Fleet) IsFleet() (bool, error) {
	a, err := f.Agents()
	return len(a) > 0, err
}

// local is the hub's own host from its live state.
func (f *Fleet) local() view.FleetHost {
	h := view.FleetHost{Hub: true, Info: storage.HostInfo{Name: f.LocalName(), Version: f.o.Version}}
	if cfg := f.o.Latest.Config(); cfg != nil && cfg.Fleet != nil {
		h.Info.Labels = cfg.Fleet.Labels
	}
	if snap, ok := f.o.Latest.System(); ok {
		h.Snapshot, h.HasSample = snap, true
		h.Info.LastSeen = snap.Time
		if snap.Host != nil {
			h.Info.OS, h.Info.Kernel = snap.Host.OS, snap.Host.Kernel
		}
	}
	h.Statuses = f.o.Checks.Statuses()
	return h
}

// agent reads one agent's newest state; ok is false for a host the hub
// has never heard from.
func (f *Fleet) agent(name string, perCheck int) (view.FleetHost, storage.HostLatest, []model.Event, bool, error) {
	l, ok, err := f.o.Store.HostLatestState(name, resultScan, perCheck, f.latest.checks(name)...)
	if err != nil || !ok {
		return view.FleetHost{}, l, nil, ok, err
	}
	evs, err := f.o.Store.HostEvents(name, eventRead)
	if err != nil {
		return view.FleetHost{}, l, nil, true, err
	}
	h := view.FleetHost{Info: l.Info, Statuses: view.HostStatuses(l.Results, evs)}
	if !l.Sample.Time.IsZero() {
		h.Snapshot, h.HasSample = view.SnapshotOf(l.Info, l.Sample), true
	}
	return h, l, evs, true, nil
}

// Hosts reads every host: the hub's own first, then the agents by name.
// An agent whose state cannot be read is shown from its record alone
// (and logged): one damaged host does not blank the overview. Once the
// ingester feeds f (HostsCommitted), the agents' state comes from memory
// (see latest.go) and only the host records are read every time.
func (f *Fleet) Hosts() ([]view.FleetHost, error) {
	agents, err := f.Agents()
	if err != nil {
		return nil, err
	}
	now := f.o.Now()
	out := make([]view.FleetHost, 0, len(agents)+1)
	out = append(out, f.local())
	names := make(map[string]bool, len(agents))
	for _, a := range agents {
		names[a.Name] = true
		h, err := f.overviewHost(a, now)
		if err != nil {
			f.log.Warn("fleet host state not read", "host", a.Name, "err", err)
			h = view.FleetHost{Info: a}
		}
		// The registry's verdict is the record's: the latest read wins.
		h.Info = a
		out = append(out, h)
	}
	f.latest.keepOnly(names)
	return out, nil
}

// Overview builds the overview filtered by filter.
func (f *Fleet) Overview(filter []view.LabelFilter) (ui.FleetView, error) {
	hosts, err := f.Hosts()
	if err != nil {
		return ui.FleetView{}, err
	}
	return view.Fleet(view.FleetInput{Hosts: hosts, Filter: filter, Now: f.o.Now()}), nil
}

// Host reads one agent's state (view.ErrNoHost when the hub has never
// heard from it; the hub's own host is not an agent).
func (f *Fleet) Host(name string) (view.FleetHost, error) {
	if name == f.LocalName() {
		return view.FleetHost{}, view.ErrNoHost
	}
	h, _, _, ok, err := f.agent(name, 1)
	if err != nil {
		return h, fmt.Errorf("fleetview: host %s: %w", name, err)
	}
	if !ok {
		return h, view.ErrNoHost
	}
	return h, nil
}

// HostPage builds an agent's page (view.ErrNoHost for an unknown one).
func (f *Fleet) HostPage(name string) (ui.FleetHostView, error) {
	if name == f.LocalName() {
		return ui.FleetHostView{}, view.ErrNoHost
	}
	h, l, evs, ok, err := f.agent(name, ui.HeartbeatLen)
	if err != nil {
		return ui.FleetHostView{}, fmt.Errorf("fleetview: host %s: %w", name, err)
	}
	if !ok {
		return ui.FleetHostView{}, view.ErrNoHost
	}
	newest := make([]model.Event, 0, view.RecentEvents)
	for i := len(evs) - 1; i >= 0 && len(newest) < view.RecentEvents; i-- {
		newest = append(newest, evs[i])
	}
	var stats []ui.StatCard
	if h.HasSample {
		sp := f.hostSparks(name, h.Info)
		sp.Observe(h.Snapshot, nil)
		stats = sp.Cards(h.Snapshot, nil)
	}
	return view.FleetHostPage(view.FleetHostInput{Host: h, Stats: stats, Beats: view.HostHeartbeats(l.Results),
		Events: newest, Now: f.o.Now()}), nil
}

// hostSparks returns the sparklines of host, filled from its last
// minutes of samples when first asked for.
func (f *Fleet) hostSparks(host string, info storage.HostInfo) *view.Sparks {
	now := f.o.Now()
	f.mu.Lock()
	hs, ok := f.sparks[host]
	if ok {
		hs.used = now
	}
	f.mu.Unlock()
	if ok {
		return hs.s
	}
	sp := view.NewSparks(0, 0)
	samples, err := f.o.Store.HostSamples(host, now.Add(-sparkSpan), now.Add(time.Minute), 3000)
	if err != nil {
		f.log.Warn("fleet host sparklines not filled", "host", host, "err", err)
	}
	for _, s := range samples {
		sp.Observe(view.SnapshotOf(info, s), nil)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if hs, ok := f.sparks[host]; ok { // filled meanwhile
		return hs.s
	}
	f.sparks[host] = &hostSparks{s: sp, used: now}
	return sp
}

// forgetSparks drops the sparklines no page read for sparkForget.
func (f *Fleet) forgetSparks(now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for h, s := range f.sparks {
		if now.Sub(s.used) > sparkForget {
			delete(f.sparks, h)
		}
	}
}

var _ Store = (*storage.DB)(nil)
