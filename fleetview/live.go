package fleetview

import (
	"context"
	"reflect"
	"time"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// OverviewState is what a (re)connecting overview stream gets: the
// filter line and the whole grid.
func OverviewState(ctx context.Context, v ui.FleetView) []hub.Event {
	return []hub.Event{hub.PatchComponent(ctx, ui.FleetFilter(v)), hub.PatchComponent(ctx, ui.FleetGrid(v))}
}

// HostState is what a (re)connecting host page stream gets: every value
// and every fragment.
func HostState(ctx context.Context, v ui.FleetHostView) []hub.Event {
	evs := []hub.Event{hub.PatchSignals(map[string]any{"_v": view.StatValues(v.Dashboard)})}
	for _, f := range hostFragments(v) {
		evs = append(evs, hub.PatchComponent(ctx, f.Comp()))
	}
	return evs
}

// hostFragments are a host page's patchable parts.
func hostFragments(v ui.FleetHostView) []view.Fragment {
	d := v.Dashboard
	return []view.Fragment{
		{ID: "fleet-host-state", Model: [3]any{v.Unreachable, v.Seen, v.Labels}, Comp: func() templ.Component { return ui.FleetHostState(v) }},
		{ID: ui.HostID, Model: d.Host, Comp: func() templ.Component { return ui.HostHeader(d.Host) }},
		{ID: ui.StatsID, Model: statsModel(d.Stats), Comp: func() templ.Component { return ui.StatsGrid(d.Stats) }},
		{ID: ui.ChecksID, Model: d.Groups, Comp: func() templ.Component { return ui.FleetHostChecks(v.Name, d.Groups) }},
		{ID: ui.EventsID, Model: d.Events, Comp: func() templ.Component { return ui.FleetHostEvents(v.Name, d.Events) }},
	}
}

// statsModel is the stats grid without the values that travel as
// signals.
func statsModel(cards []ui.StatCard) []ui.StatCard {
	out := make([]ui.StatCard, len(cards))
	for i, c := range cards {
		c.Value = ui.StatValue{}
		out[i] = c
	}
	return out
}

// sent is what Run last sent to one room.
type sent struct {
	overview *ui.FleetView
	models   map[string]any // host page fragments by id
	values   map[string]ui.StatValue
}

// Run pushes the fleet pages' changes until ctx ends (see the package
// doc); it returns nil.
func (f *Fleet) Run(ctx context.Context) error {
	t := time.NewTicker(f.o.Interval)
	defer t.Stop()
	last := map[string]*sent{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		f.tick(ctx, last)
		f.forgetSparks(f.o.Now())
	}
}

// tick sends every watched fleet room what changed since the last tick.
func (f *Fleet) tick(ctx context.Context, last map[string]*sent) {
	rooms := f.o.Hub.RoomCounts()
	for r := range last {
		if rooms[r] == 0 {
			delete(last, r) // a stream that joins again gets the full state on connect
		}
	}
	var hosts []view.FleetHost
	loaded := false
	for room, n := range rooms {
		if n == 0 {
			continue
		}
		if filter, ok := filterOfRoom(room); ok {
			if !loaded {
				var err error
				if hosts, err = f.Hosts(); err != nil {
					f.log.Warn("fleet overview not refreshed", "err", err)
					return
				}
				loaded = true
			}
			v := view.Fleet(view.FleetInput{Hosts: hosts, Filter: filter, Now: f.o.Now()})
			if evs := overviewDiff(ctx, last[room], v); len(evs) > 0 {
				f.o.Hub.BroadcastToRoom(room, evs...)
			}
			last[room] = &sent{overview: &v}
			continue
		}
		if host, ok := hostOfRoom(room); ok {
			v, err := f.HostPage(host)
			if err != nil {
				continue // an unknown host's room has nothing to show
			}
			s := last[room]
			if s == nil {
				s = &sent{}
				last[room] = s
			}
			if evs := hostDiff(ctx, s, v); len(evs) > 0 {
				f.o.Hub.BroadcastToRoom(room, evs...)
			}
		}
	}
}

// overviewDiff is what brings a stream from prev to v: nothing when
// equal; the tiles that changed when the hosts and their order did not;
// else the filter line and the grid.
func overviewDiff(ctx context.Context, prev *sent, v ui.FleetView) []hub.Event {
	if prev == nil || prev.overview == nil {
		// The stream got the full state on connect moments ago; the
		// first tick after it sends the grid again only if it changed,
		// which it cannot know: send it (cheap, once).
		return OverviewState(ctx, v)
	}
	p := prev.overview
	if len(p.Tiles) != len(v.Tiles) || p.Hosts != v.Hosts || p.Status != v.Status {
		return OverviewState(ctx, v)
	}
	for i := range v.Tiles {
		if p.Tiles[i].Name != v.Tiles[i].Name {
			return OverviewState(ctx, v)
		}
	}
	var evs []hub.Event
	for i, t := range v.Tiles {
		if !reflect.DeepEqual(p.Tiles[i], t) {
			evs = append(evs, hub.PatchComponent(ctx, ui.FleetTileItem(t, v.Filter)))
		}
	}
	return evs
}

// hostDiff is what brings a host page from what s says was sent to v,
// and records v in s.
func hostDiff(ctx context.Context, s *sent, v ui.FleetHostView) []hub.Event {
	var evs []hub.Event
	vals := view.StatValues(v.Dashboard)
	if !reflect.DeepEqual(vals, s.values) {
		evs = append(evs, hub.PatchSignals(map[string]any{"_v": vals}))
		s.values = vals
	}
	if s.models == nil {
		s.models = map[string]any{}
	}
	for _, fr := range hostFragments(v) {
		if prev, ok := s.models[fr.ID]; ok && reflect.DeepEqual(prev, fr.Model) {
			continue
		}
		evs = append(evs, hub.PatchComponent(ctx, fr.Comp()))
		s.models[fr.ID] = fr.Model
	}
	return evs
}
