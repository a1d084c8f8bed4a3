package fleetview

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

func TestMovedTiles(t *testing.T) {
	tests := []struct {
		name string
		old  []int
		want []int
	}{
		{"unchanged", []int{0, 1, 2, 3}, nil},
		{"one up front", []int{3, 0, 1, 2}, []int{0}},
		{"one to the end", []int{1, 2, 3, 0}, []int{3}},
		{"two swapped", []int{0, 2, 1, 3}, []int{1}},
		{"reversed: all but one", []int{3, 2, 1, 0}, []int{0, 1, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := movedTiles(tt.old); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("movedTiles(%v) = %v, want %v", tt.old, got, tt.want)
			}
		})
	}
}

// page is the overview as the browser's Datastar client holds it: the
// filter line and the tiles' ids in order, with what each tile shows.
type page struct {
	tiles   []string
	html    map[string]string
	filter  string
	grids   int // whole grids received
	patches int // tile fragments received
}

// apply plays the encoded events as beta.11 would: a remove takes the
// selected tile out, a merge morphs by id, or puts the tile after the
// selected one or first in the grid's list.
func (pg *page) apply(t *testing.T, evs []hub.Event) {
	t.Helper()
	b, err := hub.Encode(evs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, block := range strings.Split(strings.TrimSpace(string(b)), "\n\n") {
		var name, selector, mode string
		var frag strings.Builder
		for _, line := range strings.Split(block, "\n") {
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: selector "):
				selector = strings.TrimPrefix(line, "data: selector ")
			case strings.HasPrefix(line, "data: mergeMode "):
				mode = strings.TrimPrefix(line, "data: mergeMode ")
			case strings.HasPrefix(line, "data: fragments "):
				frag.WriteString(strings.TrimPrefix(line, "data: fragments "))
			}
		}
		f := frag.String()
		switch {
		case name == "datastar-remove-fragments":
			id := strings.TrimPrefix(selector, "#")
			i := slices.Index(pg.tiles, id)
			if i < 0 {
				t.Fatalf("remove of %s: no such tile in %v", id, pg.tiles)
			}
			pg.tiles = slices.Delete(pg.tiles, i, i+1)
		case strings.Contains(f, `id="`+ui.FleetGridID+`"`):
			pg.grids++
			pg.tiles, pg.html = nil, map[string]string{}
			for _, part := range strings.Split(f, `<li class="check fleet-tile`)[1:] {
				id := idOf(part)
				pg.tiles = append(pg.tiles, id)
				pg.html[id] = part
			}
		case strings.Contains(f, `id="`+ui.FleetFilterID+`"`):
			pg.filter = f
		default:
			pg.patches++
			id := idOf(f)
			pg.html[id] = f
			switch mode {
			case "after":
				i := slices.Index(pg.tiles, strings.TrimPrefix(selector, "#"))
				if i < 0 || slices.Contains(pg.tiles, id) {
					t.Fatalf("insert of %s after %s into %v", id, selector, pg.tiles)
				}
				pg.tiles = slices.Insert(pg.tiles, i+1, id)
			case "prepend":
				if selector != "#"+ui.FleetGridID+" > ul" || slices.Contains(pg.tiles, id) {
					t.Fatalf("prepend of %s into %s, tiles %v", id, selector, pg.tiles)
				}
				pg.tiles = slices.Insert(pg.tiles, 0, id)
			case "":
				if !slices.Contains(pg.tiles, id) {
					t.Fatalf("morph of %s: not on the page %v", id, pg.tiles)
				}
			default:
				t.Fatalf("merge mode %q", mode)
			}
		}
	}
}

func idOf(html string) string {
	_, rest, _ := strings.Cut(html, ` id="`)
	return rest[:strings.IndexByte(rest, '"')]
}

// TestOverviewDiff_Moves: whatever tiles move between ticks, the page
// the events build shows the new order and the new tiles; a few moves
// cost a few events, not the grid, and the filter line follows the
// counts.
func TestOverviewDiff_Moves(t *testing.T) {
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	const n = 40
	view := func(names []string, cpu map[string]int) ui.FleetView {
		v := ui.FleetView{Hosts: len(names)}
		for _, name := range names {
			st := model.StateUp
			if cpu[name] > 90 {
				st = model.StateDegraded
				v.Status.Degraded++
			} else {
				v.Status.Up++
			}
			v.Tiles = append(v.Tiles, ui.FleetTile{Name: name, State: st, CPU: fmt.Sprintf("%d%%", cpu[name])})
		}
		return v
	}
	names := make([]string, n)
	cpu := map[string]int{}
	for i := range names {
		names[i] = fmt.Sprintf("web-%02d", i)
		cpu[names[i]] = 10
	}
	v := view(names, cpu)
	pg := &page{}
	pg.apply(t, OverviewState(ctx, v))
	prev := &sent{overview: &v}
	for round := range 200 {
		moves := 1 + rng.IntN(3)
		if round%50 == 49 {
			moves = n / 2 // too many: the whole grid
		}
		for range moves {
			i, j := rng.IntN(n), rng.IntN(n)
			m := names[i]
			names = slices.Insert(slices.Delete(names, i, i+1), j, m)
			cpu[m] = rng.IntN(100)
		}
		v := view(slices.Clone(names), cpu)
		grids, patches := pg.grids, pg.patches
		evs := overviewDiff(ctx, prev, v)
		pg.apply(t, evs)
		prev = &sent{overview: &v}
		want := make([]string, n)
		for i, name := range names {
			want[i] = ui.FleetTileID(name)
		}
		if !slices.Equal(pg.tiles, want) {
			t.Fatalf("round %d: page shows %v, want %v", round, pg.tiles, want)
		}
		for _, name := range names {
			if got := pg.html[ui.FleetTileID(name)]; !strings.Contains(got, fmt.Sprintf(">CPU %d%%<", cpu[name])) {
				t.Fatalf("round %d: %s shows %.200q, want CPU %d%%", round, name, got, cpu[name])
			}
		}
		if moves <= 3 && (pg.grids != grids || pg.patches-patches > 2*moves) {
			t.Fatalf("round %d: %d moves cost %d grids and %d tiles", round, moves, pg.grids-grids, pg.patches-patches)
		}
		if !strings.Contains(pg.filter, fmt.Sprintf("%d degraded", v.Status.Degraded)) {
			t.Fatalf("round %d: filter line %q, want %d degraded", round, pg.filter, v.Status.Degraded)
		}
	}
}

// TestOverviewDiff_JoinBetweenTicks: a stream that joined between two
// ticks started from its own on-connect state, not from what the room
// was last sent; the next tick must bring it to the view all the same
// (the whole state goes to the room) instead of applying moves meant for
// the others' order.
func TestOverviewDiff_JoinBetweenTicks(t *testing.T) {
	ctx := context.Background()
	mk := func(names ...string) ui.FleetView {
		v := ui.FleetView{Hosts: len(names)}
		for _, n := range names {
			v.Tiles = append(v.Tiles, ui.FleetTile{Name: n, State: model.StateUp})
			v.Status.Up++
		}
		return v
	}
	p := mk("a", "b", "c", "d", "e", "f", "g", "h") // the room's last tick
	x := mk("c", "a", "b", "d", "e", "f", "g", "h") // the joining stream's on-connect state
	v := mk("b", "a", "c", "d", "e", "f", "g", "h") // the next tick
	var want []string
	for _, tl := range v.Tiles {
		want = append(want, ui.FleetTileID(tl.Name))
	}
	tests := []struct {
		name       string
		sentJoin   uint64
		nowJoin    uint64
		startsFrom ui.FleetView
	}{
		{"no join since: the moves apply", 7, 7, p},
		{"a stream joined since", 7, 9, x},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg := &page{}
			pg.apply(t, OverviewState(ctx, tt.startsFrom))
			pg.apply(t, overviewDiff(ctx, sinceJoin(&sent{overview: &p, join: tt.sentJoin}, tt.nowJoin), v))
			if !slices.Equal(pg.tiles, want) {
				t.Fatalf("the page shows %v, want %v", pg.tiles, want)
			}
		})
	}
}
