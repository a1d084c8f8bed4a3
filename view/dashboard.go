package view

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// RecentEvents is how many events the dashboard lists.
const RecentEvents = 8

// DashboardInput is everything the dashboard shows, as read from the
// latest state, the checks and storage.
type DashboardInput struct {
	Snapshot system.Snapshot
	// Stats are the stat cards with their sparklines (Sparks.Cards).
	Stats    []ui.StatCard
	Statuses []collectors.Status
	// Groups, when set, are the checks already grouped (the scheduler
	// memoises rows); otherwise they are built from Statuses and Held.
	Groups []ui.CheckGroup
	// Held says, by check, what holds its alerts back ("silenced",
	// "maintenance"); the tile shows it.
	Held map[string]string
	// Beats are each check's last results for its heartbeat strip
	// (Heartbeats reads them).
	Beats map[string]ui.Heartbeat
	// Events are the recent events, newest first.
	Events   []model.Event
	Rejected []config.Problem
	Storage  storage.WriteHealth
	// Incidents are the open incidents, newest first (the banner; the
	// scheduler leaves it empty: the incident Manager pushes the banner).
	Incidents []model.Incident
	Version   string
	Now       time.Time
}

// Dashboard builds the dashboard view. It is a pure function of its input.
func Dashboard(in DashboardInput) ui.DashboardView {
	v := ui.DashboardView{
		Host:   HostView(in.Snapshot, in.Version),
		Status: Overall(in.Statuses),
		Stats:  in.Stats,
		Groups: in.Groups,
		Top:    Top(in.Snapshot.Top),
	}
	if v.Groups == nil {
		v.Groups = GroupRows(in.Statuses, func(s collectors.Status) ui.CheckRow {
			r := CheckRow(s, in.Now)
			r.Held = in.Held[s.Name]
			r.Beats = in.Beats[s.Name]
			return r
		})
	}
	for _, e := range in.Events {
		v.Events = append(v.Events, EventRow(e, in.Now))
	}
	for _, p := range in.Rejected {
		v.Problems = append(v.Problems, p.String())
	}
	if !in.Storage.OK {
		v.Storage = in.Storage.String()
	}
	v.Incidents = IncidentRows(in.Incidents, in.Now)
	return v
}

// Fragment is one patchable element of a page: its element id, the view
// data it renders (a fragment whose model did not change need not be
// rendered again) and its component, built only when rendered.
type Fragment struct {
	ID    string
	Model any
	Comp  func() templ.Component
}

// DashboardFragments lists the dashboard's fragments below the grids: the
// stats grid and the checks grid are keyed by their layout (see the
// scheduler), their sparklines and tiles are fragments of their own.
func DashboardFragments(v ui.DashboardView) []Fragment {
	n := 6 + len(v.Stats) // built every tick: one allocation, at its size
	for gi := range v.Groups {
		n += 2 * len(v.Groups[gi].Checks)
	}
	f := append(make([]Fragment, 0, n), []Fragment{
		{ui.HostID, v.Host, func() templ.Component { return ui.HostHeader(v.Host) }},
		{ui.StatusBadgeID, v.Status, func() templ.Component { return ui.StatusBadge(v.Status) }},
		{ui.ConfigBannerID, v.Problems, func() templ.Component { return ui.ConfigBanner(v.Problems) }},
		{ui.StorageBannerID, v.Storage, func() templ.Component { return ui.StorageBanner(v.Storage) }},
		{ui.TopID, v.Top, func() templ.Component { return ui.TopTables(v.Top) }},
		{ui.EventsID, v.Events, func() templ.Component { return ui.EventList(ui.EventsID, "Recent events", v.Events) }},
	}...)
	for i := range v.Stats {
		c := &v.Stats[i]
		f = append(f, Fragment{c.Spark.ID, c.Spark, func() templ.Component { return ui.Sparkline(c.Spark) }})
	}
	// Rows are taken by pointer into v.Groups: a row is a dozen fields,
	// and copying it into every closure was much of what a tick allocated.
	for gi := range v.Groups {
		for ci := range v.Groups[gi].Checks {
			c := &v.Groups[gi].Checks[ci]
			f = append(f, Fragment{ui.CheckTileID(c.Name), TileModel(*c), func() templ.Component { return ui.CheckTile(*c) }},
				Fragment{ui.CheckMetaID(c.Name), MetaModel(*c), func() templ.Component { return ui.CheckMeta(*c) }})
		}
	}
	return f
}

// Tile is a check row without its heartbeat strip and its meta line:
// what decides whether a tile is re-sent. Comparable with ==, and small,
// since it is built for every check on every tick.
type Tile struct {
	Name, Group, Reason string
	State               model.State
}

// TileModel is what decides whether a tile is re-sent: the row without
// its heartbeat strip, which grows bar by bar instead (the scheduler
// appends each new result's bar), and without its meta line, a fragment
// of its own (Meta). A re-sent tile carries both.
func TileModel(c ui.CheckRow) Tile {
	return Tile{Name: c.Name, Group: c.Group, Reason: c.Reason, State: c.State}
}

// Meta is what decides whether a tile's meta line is re-sent: latency,
// age, flapping and hold, the parts that change between state changes.
type Meta struct {
	Latency, Since, Held string
	SinceAt              time.Time
	Flapping             bool
}

// MetaModel is the model of c's meta line (ui.CheckMeta).
func MetaModel(c ui.CheckRow) Meta {
	return Meta{Latency: c.Latency, Since: c.Since, Held: c.Held, SinceAt: c.SinceAt, Flapping: c.Flapping}
}

// StatValues are the cards' live values, sent as signals.
func StatValues(v ui.DashboardView) map[string]ui.StatValue {
	vals := make(map[string]ui.StatValue, len(v.Stats))
	for _, c := range v.Stats {
		vals[c.Key] = c.Value
	}
	return vals
}

// DashboardState is the events that bring a fresh dashboard stream to v:
// every value and every fragment. The page was rendered moments (or, on a
// reconnect, hours) before.
func DashboardState(ctx context.Context, v ui.DashboardView) []hub.Event {
	evs := []hub.Event{
		hub.PatchSignals(map[string]any{"_v": StatValues(v)}),
		hub.PatchComponent(ctx, ui.StatsGrid(v.Stats)),
		// The whole grid, not tile by tile: checks added since the page
		// was rendered have no element to patch yet.
		hub.PatchComponent(ctx, ui.ChecksGrid(v.Groups)),
		// Not a fragment: the incident Manager, not the scheduler, keeps
		// the banner live.
		hub.PatchComponent(ctx, ui.IncidentBanner(v.Incidents)),
	}
	for _, f := range DashboardFragments(v) {
		switch f.Model.(type) {
		case ui.SparkView, Tile, Meta:
			continue // inside the grids
		}
		evs = append(evs, hub.PatchComponent(ctx, f.Comp()))
	}
	return evs
}

// ResultStore is the history the heartbeat strips read.
type ResultStore interface {
	// LastResults returns the n newest results of a check, newest first.
	LastResults(check string, n int) ([]model.Result, error)
}

// Heartbeats reads the last results of every check for their strips. A
// check whose results cannot be read gets an empty strip; the error says
// which (the page still renders).
func Heartbeats(store ResultStore, sts []collectors.Status) (map[string]ui.Heartbeat, error) {
	out := make(map[string]ui.Heartbeat, len(sts))
	var errs []error
	for _, s := range sts {
		rs, err := store.LastResults(s.Name, ui.HeartbeatLen)
		if err != nil {
			errs = append(errs, fmt.Errorf("heartbeat of %q: %w", s.Name, err))
			continue
		}
		out[s.Name] = HeartbeatOf(rs)
	}
	return out, errors.Join(errs...)
}

// HeartbeatOf is the strip of results given newest first (as
// LastResults returns them).
func HeartbeatOf(newestFirst []model.Result) ui.Heartbeat {
	n := min(len(newestFirst), ui.HeartbeatLen)
	beats := make([]ui.Beat, n)
	for i := range n {
		beats[n-1-i] = Beat(newestFirst[i])
	}
	h := ui.NewHeartbeat(beats)
	h.Seq = uint64(len(newestFirst))
	return h
}

// Beat converts one result for a heartbeat strip.
func Beat(r model.Result) ui.Beat {
	return ui.Beat{At: r.Time, State: r.State, Latency: r.Latency}
}
