package view

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// TestDashboardFragments_Tiles: every check has one tile fragment, whose
// model is its row without the strip and whose component renders that
// check (rows are taken by pointer; each closure must keep its own).
func TestDashboardFragments_Tiles(t *testing.T) {
	sts := []collectors.Status{
		{Name: "web", Group: "edge", State: model.StateUp, Latency: 3 * time.Millisecond, LastChange: t0.Add(-time.Hour)},
		{Name: "db", Group: "core", State: model.StateDown, Reason: "refused", LastChange: t0.Add(-time.Minute)},
		{Name: "api", Group: "edge", State: model.StateUp, Latency: 40 * time.Millisecond, LastChange: t0.Add(-time.Hour)},
	}
	v := Dashboard(DashboardInput{Snapshot: snapshot(t0, 10), Statuses: sts, Now: t0})
	seen := map[string]bool{}
	for _, f := range DashboardFragments(v) {
		tile, ok := f.Model.(Tile)
		if !ok {
			continue
		}
		if f.ID != ui.CheckTileID(tile.Name) || seen[tile.Name] {
			t.Fatalf("fragment %q has the model of %q (seen before: %v)", f.ID, tile.Name, seen[tile.Name])
		}
		seen[tile.Name] = true
		var b bytes.Buffer
		if err := f.Comp().Render(context.Background(), &b); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), `id="`+f.ID+`"`) {
			t.Errorf("fragment %q renders another tile:\n%s", f.ID, b.String())
		}
	}
	if len(seen) != len(sts) {
		t.Errorf("tiles for %v; want one per check (%d)", seen, len(sts))
	}
}

// TestDashboardState_TilesOnce: a fresh stream's state carries each tile
// once, inside the checks grid, not again as a fragment of its own.
func TestDashboardState_TilesOnce(t *testing.T) {
	sts := []collectors.Status{
		{Name: "web", State: model.StateUp, Latency: 3 * time.Millisecond},
		{Name: "db", State: model.StateDown, Reason: "refused"},
	}
	v := Dashboard(DashboardInput{Snapshot: snapshot(t0, 10), Statuses: sts, Now: t0})
	b := sse(t, DashboardState(context.Background(), v))
	for _, s := range sts {
		if n := bytes.Count(b, []byte(`id="`+ui.CheckTileID(s.Name)+`"`)); n != 1 {
			t.Errorf("tile of %q appears %d times in the dashboard state; want 1", s.Name, n)
		}
	}
}

// TestTileModel: the tile model leaves the strip and the meta line out (a
// new bar or a new latency alone does not re-send the tile) and keeps
// everything else the tile shows; the meta model has the rest.
func TestTileModel(t *testing.T) {
	row := ui.CheckRow{Name: "web", Group: "edge", State: model.StateUp, Reason: "HTTP 200", Latency: "3 ms", Since: "5m", SinceAt: t0}
	more := row
	more.Beats.Push(ui.Beat{At: t0, State: model.StateUp, Latency: time.Millisecond})
	tests := []struct {
		name               string
		b                  ui.CheckRow
		sameTile, sameMeta bool
	}{
		{"a new bar", more, true, true},
		{"latency", func() ui.CheckRow { r := row; r.Latency = "40 ms"; return r }(), true, false},
		{"age", func() ui.CheckRow { r := row; r.Since = "6m"; return r }(), true, false},
		{"held", func() ui.CheckRow { r := row; r.Held = "silenced"; return r }(), true, false},
		{"flapping", func() ui.CheckRow { r := row; r.Flapping = true; return r }(), true, false},
		{"state", func() ui.CheckRow { r := row; r.State = model.StateDown; return r }(), false, true},
		{"reason", func() ui.CheckRow { r := row; r.Reason = "HTTP 500"; return r }(), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := TileModel(row) == TileModel(tt.b); got != tt.sameTile {
				t.Errorf("same tile model = %v, want %v", got, tt.sameTile)
			}
			if got := MetaModel(row) == MetaModel(tt.b); got != tt.sameMeta {
				t.Errorf("same meta model = %v, want %v", got, tt.sameMeta)
			}
		})
	}
}
