package fleetview

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"time"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/grid"
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
	check    *checkSent // a check page's room
	// join is the room's LastJoin when overview was sent: a stream that
	// joined since started from its own on-connect state, which the
	// moves of a difference (see overviewDiff) cannot be applied to.
	join uint64
}

// Run pushes the fleet pages' changes until ctx ends (see the package
// doc); it returns nil.
func (f *Fleet) Run(ctx context.Context) error {
	// On the wall-clock grid of the interval, where host sampling and the
	// scheduler wake the process anyway: a moment of its own would be one
	// more wake-up a second on an idle single host, which has no fleet
	// rooms to serve.
	t := time.NewTimer(grid.Until(f.o.Interval))
	defer t.Stop()
	last := map[string]*sent{}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		t.Reset(grid.Until(f.o.Interval))
		f.tick(ctx, last)
		f.forgetSparks(f.o.Now())
		f.latest.forget(f.o.Now())
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
			join := f.o.Hub.LastJoin(room) // before the view: a later join is seen next tick
			v := view.Fleet(view.FleetInput{Hosts: hosts, Filter: filter, Now: f.o.Now()})
			if evs := overviewDiff(ctx, sinceJoin(last[room], join), v); len(evs) > 0 {
				f.o.Hub.BroadcastToRoom(room, evs...)
			}
			last[room] = &sent{overview: &v, join: join}
			continue
		}
		if host, check, rng, ok := checkOfRoom(room); ok {
			s := last[room]
			if s == nil {
				s = &sent{}
				last[room] = s
			}
			if evs := f.checkTick(ctx, s, host, check, rng); len(evs) > 0 {
				f.o.Hub.BroadcastToRoom(room, evs...)
			}
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
// equal; else the filter line when its counts changed, the tiles that
// moved (each removed and put back after its new predecessor) and the
// tiles that changed; the filter line and the whole grid when hosts came
// or went, or when so many tiles moved that the grid is cheaper.
func overviewDiff(ctx context.Context, prev *sent, v ui.FleetView) []hub.Event {
	if prev == nil || prev.overview == nil {
		// The stream got the full state on connect moments ago; the
		// first tick after it sends the grid again only if it changed,
		// which it cannot know: send it (cheap, once).
		return OverviewState(ctx, v)
	}
	p := prev.overview
	if len(p.Tiles) != len(v.Tiles) || len(v.Tiles) == 0 || !slices.Equal(p.Filter, v.Filter) {
		return OverviewState(ctx, v)
	}
	was := make(map[string]int, len(p.Tiles))
	for i, t := range p.Tiles {
		was[t.Name] = i
	}
	order := make([]int, len(v.Tiles)) // each new tile's old place
	for i, t := range v.Tiles {
		j, ok := was[t.Name]
		if !ok {
			return OverviewState(ctx, v) // a host came (and another went)
		}
		order[i] = j
	}
	moved := movedTiles(order)
	if len(moved) > maxMoves(len(v.Tiles)) {
		return OverviewState(ctx, v)
	}
	var evs []hub.Event
	if p.Hosts != v.Hosts || p.Status != v.Status {
		evs = append(evs, hub.PatchComponent(ctx, ui.FleetFilter(v)))
	}
	for _, i := range moved {
		evs = append(evs, hub.RemoveElements("#"+ui.FleetTileID(v.Tiles[i].Name)))
	}
	isMoved := make(map[int]bool, len(moved))
	for _, i := range moved { // in their new order: each one's predecessor is in place
		isMoved[i] = true
		opts := []hub.ElementOption{hub.WithSelector("#" + ui.FleetGridID + " > ul"), hub.WithMergeMode(hub.ModePrepend)}
		if i > 0 {
			opts = []hub.ElementOption{hub.WithSelector("#" + ui.FleetTileID(v.Tiles[i-1].Name)), hub.WithMergeMode(hub.ModeAfter)}
		}
		evs = append(evs, hub.PatchComponent(ctx, ui.FleetTileItem(v.Tiles[i], v.Filter), opts...))
	}
	for i, t := range v.Tiles {
		if !isMoved[i] && !reflect.DeepEqual(p.Tiles[order[i]], t) {
			evs = append(evs, hub.PatchComponent(ctx, ui.FleetTileItem(t, v.Filter)))
		}
	}
	return evs
}

// sinceJoin is what the room's streams all have: prev, unless a stream
// joined (or came back) since prev was sent; then nil, and the room gets
// the whole state, so that every stream is in one state again.
func sinceJoin(prev *sent, join uint64) *sent {
	if prev == nil || prev.join != join {
		return nil
	}
	return prev
}

// maxMoves is how many tiles of n may move before the whole grid is sent
// instead: a moved tile costs two events, a whole grid every tile.
func maxMoves(n int) int { return max(4, n/4) }

// movedTiles are the new places (ascending) of the tiles that must move
// when the tile now at i was at old[i]: every tile outside a longest
// run that kept its relative order.
func movedTiles(old []int) []int {
	// Patience sorting: tails[k] is the new place of the smallest old
	// place ending an increasing run of length k+1; prev links runs.
	var tails []int
	prev := make([]int, len(old))
	for i, o := range old {
		k, _ := slices.BinarySearchFunc(tails, o, func(t, o int) int { return cmp.Compare(old[t], o) })
		if k > 0 {
			prev[i] = tails[k-1]
		} else {
			prev[i] = -1
		}
		if k == len(tails) {
			tails = append(tails, i)
		} else {
			tails[k] = i
		}
	}
	keep := make([]bool, len(old))
	if len(tails) > 0 {
		for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
			keep[i] = true
		}
	}
	var out []int
	for i, k := range keep {
		if !k {
			out = append(out, i)
		}
	}
	return out
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
