package view

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// mkSlots builds one series' slots from averages (NaN: no data); spread
// puts min and max that far below and above the average.
func mkSlots(spread float64, avgs ...float64) []histSlot {
	out := make([]histSlot, len(avgs))
	for i, v := range avgs {
		if !math.IsNaN(v) {
			out[i] = histSlot{ok: true, avg: v, lo: v - spread, hi: v + spread, count: 1}
		}
	}
	return out
}

func subpaths(d string) int { return strings.Count(d, "M") }

// TestHistoryChart_Golden renders charts built from hand-made slots: gaps,
// bands, units, an open slot alone. The golden files are the HTML the page
// and the live feed send; the checks say what each case is about.
func TestHistoryChart_Golden(t *testing.T) {
	nan := math.NaN()
	g := histGrid{from: t0, step: 5 * time.Minute, n: 12, span: time.Hour}
	busy := histChart("Busy", histPct, true, histSeries{"busy", "cpu.total"})
	tests := []struct {
		name  string
		spec  histChartSpec
		data  []histData
		check func(t *testing.T, c ui.HistoryChart)
	}{
		{
			name: "gaps",
			spec: busy,
			// A run, three empty slots (dashd stopped), a lone slot, one
			// empty slot, a run that reaches the open slot.
			data: []histData{{slots: mkSlots(0, 10, 12, 15, nan, nan, nan, 30, nan, 20, 25, 22, 24), join: 1}},
			check: func(t *testing.T, c ui.HistoryChart) {
				line := c.Series[0].Line
				if n := subpaths(line); n != 3 {
					t.Errorf("line %q has %d subpaths, want 3 (two gaps drawn, nothing bridged)", line, n)
				}
				if !strings.Contains(line, "M6.5 0h0") {
					t.Errorf("line %q lacks the lone slot 6 as a dot", line)
				}
				if c.Vals != "10,12,15,,,,30,,20,25,22" {
					t.Errorf("readout values %q", c.Vals)
				}
				if c.Series[0].Band != "" {
					t.Errorf("band %q drawn for slots without spread", c.Series[0].Band)
				}
				if c.Edge.Vals != "24" || !strings.HasPrefix(c.Edge.Lines[0].Line, "M10.5 ") {
					t.Errorf("edge %+v: want the open slot joined to slot 10", c.Edge)
				}
			},
		},
		{
			name: "sparse-samples",
			spec: busy,
			// Samples every other slot (a sampling interval longer than
			// the slot) are one line; the wider hole is still a gap.
			data: []histData{{slots: mkSlots(0, 10, nan, 12, nan, 14, nan, nan, nan, nan, 20, nan, 22), join: 2}},
			check: func(t *testing.T, c ui.HistoryChart) {
				if n := subpaths(c.Series[0].Line); n != 2 {
					t.Errorf("line %q has %d subpaths, want 2", c.Series[0].Line, n)
				}
				if !strings.HasPrefix(c.Edge.Lines[0].Line, "M9.5 ") {
					t.Errorf("edge %q does not join slot 9 two slots back", c.Edge.Lines[0].Line)
				}
			},
		},
		{
			name: "band",
			spec: busy,
			// Rollups: the band is drawn from the min and max of each slot,
			// and the scale makes room for the maxima.
			data: []histData{{slots: mkSlots(8, 40, 42, 45, 50, 48, 47, 52, 55, 60, 58, 57, 56), join: 1}},
			check: func(t *testing.T, c ui.HistoryChart) {
				if c.Series[0].Band == "" || c.Edge.Lines[0].Band == "" {
					t.Fatal("no band from slots with min < max")
				}
				if c.YTicks[0].Label != "80%" {
					t.Errorf("top tick %q, want 80%% (max 68 on steps of 20)", c.YTicks[0].Label)
				}
			},
		},
		{
			name: "bytes",
			spec: histChart("Memory", histBytes, false, histSeries{"used", "mem.used"}, histSeries{"total", "mem.total"}),
			data: []histData{
				{slots: mkSlots(0, 3<<30, 3.2*(1<<30), 3.1*(1<<30), 3.5*(1<<30), 3.4*(1<<30), 3.3*(1<<30), 3.6*(1<<30), 3.7*(1<<30), 3.6*(1<<30), 3.5*(1<<30), 3.4*(1<<30), 3.3*(1<<30)), join: 1},
				{slots: mkSlots(0, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30, 8<<30), join: 1},
			},
			check: func(t *testing.T, c ui.HistoryChart) {
				if c.Unit != "GiB" || c.Suffix != " GiB" {
					t.Errorf("unit %q suffix %q, want GiB", c.Unit, c.Suffix)
				}
				if !strings.HasPrefix(c.Vals, "3,3.2,3.1,") || !strings.Contains(c.Vals, "|8,8,") {
					t.Errorf("readout values %q are not in GiB", c.Vals)
				}
				if c.Names != "used|total" || c.Series[1].Class != "s1" {
					t.Errorf("names %q, classes %q %q", c.Names, c.Series[0].Class, c.Series[1].Class)
				}
			},
		},
		{
			name: "open-only",
			spec: busy,
			// A dashd minutes old: only the open slot has data. It sets
			// the scale and is drawn as a dot.
			data: []histData{{slots: mkSlots(0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, 3), join: 1}},
			check: func(t *testing.T, c ui.HistoryChart) {
				if c.Empty != "" || c.Series[0].Line != "" {
					t.Errorf("empty %q line %q, want only an edge", c.Empty, c.Series[0].Line)
				}
				if c.Edge.Lines[0].Line != "M11.5 210h0" {
					t.Errorf("edge %q, want a dot at 3%% of a 0..10%% axis", c.Edge.Lines[0].Line)
				}
			},
		},
		{
			name: "empty",
			spec: busy,
			data: []histData{{slots: mkSlots(0, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan, nan), join: 1}},
			check: func(t *testing.T, c ui.HistoryChart) {
				if c.Empty == "" {
					t.Error("no empty message")
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := buildHistChart("h0", tt.spec, tt.data, g, "1 hour", HistoryZone(-120))
			tt.check(t, c)
			b, err := renderHist(context.Background(), ui.HistoryCharts(ui.HistoryView{Source: "5-minute points from minute rollups", Zone: "UTC+02:00", Charts: []ui.HistoryChart{c}}))
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, "history/"+tt.name+".html", b)
		})
	}
}

func TestHistoryJoin(t *testing.T) {
	const step = 20 * time.Second
	tests := []struct {
		name    string
		spacing time.Duration
		want    int
	}{
		{"no points", 0, 1},
		{"denser than slots (merged)", step, 1},
		{"one second", time.Second, 1},
		{"25 s on 20 s slots", 25 * time.Second, 2},
		{"30 s on 20 s slots", 30 * time.Second, 2},
		{"a minute on 20 s slots", time.Minute, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := histJoin(tt.spacing, step); got != tt.want {
				t.Errorf("histJoin(%s) = %d, want %d", tt.spacing, got, tt.want)
			}
		})
	}
}

func TestHistoryScale(t *testing.T) {
	tests := []struct {
		unit                  histUnit
		hi                    float64
		div                   float64
		suffix, caption, val3 string
	}{
		{histPct, 87.25, 1, "%", "%", "87.3"},
		{histBytes, 512, 1, " B", "B", "512"},
		{histBytes, 3 << 30, 1 << 30, " GiB", "GiB", "3"},
		{histBytesRate, 1.5 * (1 << 20), 1 << 20, " MiB/s", "MiB/s", "1.5"},
		{histPerSec, 12345, 1000, " k/s", "thousands per second", "12.3"},
		{histPerSec, 12, 1, "/s", "per second", "12"},
		{histCount, 345, 1, "", "", "345"},
		{histCount, 2_500_000, 1e6, " M", "millions", "2.5"},
		{histLoad, 0.015, 1, "", "", "0.015"},
	}
	for _, tt := range tests {
		s := histScaleFor(tt.unit, tt.hi)
		if s.div != tt.div || s.suffix != tt.suffix || s.caption != tt.caption {
			t.Errorf("histScaleFor(%d, %v) = %+v, want div %v suffix %q caption %q", tt.unit, tt.hi, s, tt.div, tt.suffix, tt.caption)
		}
		if got := histSig3(tt.hi / s.div); got != tt.val3 {
			t.Errorf("histSig3(%v) = %q, want %q", tt.hi/s.div, got, tt.val3)
		}
	}
}

func TestHistoryZone_Ticks(t *testing.T) {
	tests := []struct {
		name      string
		tzo       int
		from      time.Time
		span      time.Duration
		zone      string
		first     string
		wantTicks int
	}{
		{"utc hours", 0, t0.Add(-7 * time.Minute), 6 * time.Hour, "UTC", "15:00", 6},
		{"india half hours", -330, t0, 6 * time.Hour, "UTC+05:30", "21:00", 6},
		{"new york days", 300, t0, 7 * 24 * time.Hour, "UTC-05:00", "Mar 16", 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := HistoryZone(tt.tzo)
			if loc.String() != tt.zone {
				t.Errorf("zone %q, want %q", loc, tt.zone)
			}
			ticks := histTimeTicks(tt.from, tt.from.Add(tt.span), 6, loc)
			if len(ticks) != tt.wantTicks {
				t.Fatalf("%d ticks %v, want %d", len(ticks), ticks, tt.wantTicks)
			}
			if got := histTimeLabel(ticks[0], tt.span); got != tt.first {
				t.Errorf("first tick %q (%s), want %q", got, ticks[0], tt.first)
			}
			if tt.span > 48*time.Hour {
				if h, m, _ := ticks[0].Clock(); h != 0 || m != 0 {
					t.Errorf("day tick %s is not a local midnight", ticks[0])
				}
			}
		})
	}
}

func TestParseHistory(t *testing.T) {
	names := []string{"cpu.total", "cpu.core{core=0}", "cpu.core{core=10}", "cpu.core{core=2}",
		"fs.used_pct{mount=/}", "fs.used_pct{mount=/srv/a b}", "net.rx_bps{iface=eth0}", "disk.read_bps{device=sda}"}
	tests := []struct {
		name, group, item, rng string
		err                    error
		title                  string
		charts                 int
	}{
		{"cpu default range", "cpu", "", "", nil, "CPU", 3},
		{"fs item", "fs", "/srv/a b", "7d", nil, "Filesystem /srv/a b", 3},
		{"fs overview", "fs", "", "24h", nil, "Filesystem", 1},
		{"net item", "net", "eth0", "6h", nil, "Network eth0", 3},
		{"disk item", "disk", "sda", "90d", nil, "Disk I/O sda", 4},
		{"unknown group", "gpu", "", "", ErrUnknownHistory, "", 0},
		{"unknown mount", "fs", "/nope", "", ErrUnknownHistoryItem, "", 0},
		{"unknown iface", "net", "eth9", "", ErrUnknownHistoryItem, "", 0},
		{"bad range", "cpu", "", "2h", ErrHistoryRange, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := ParseHistory(tt.group, tt.item, tt.rng, names)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err %v, want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if spec.Title() != tt.title || len(spec.charts) != tt.charts {
				t.Errorf("title %q with %d charts, want %q with %d", spec.Title(), len(spec.charts), tt.title, tt.charts)
			}
		})
	}
	// Cores sort by number, not as text.
	spec, _ := ParseHistory("cpu", "", "", names)
	var cores []string
	for _, s := range spec.charts[2].series {
		cores = append(cores, s.name)
	}
	if got := strings.Join(cores, ","); got != "core 0,core 2,core 10" {
		t.Errorf("cores %s", got)
	}
}

// writeBusy stores cpu.total every 10 s over [from, to) (value: minutes since
// t0-3h, so each minute's rollup differs) and flushes.
func writeBusy(t *testing.T, db *storage.DB, from, to time.Time) {
	t.Helper()
	n := 0
	for ts := from; ts.Before(to); ts = ts.Add(10 * time.Second) {
		v := ts.Sub(t0.Add(-3*time.Hour)).Minutes() / 10
		if err := db.WriteSample(model.Sample{Time: ts, Points: []model.Point{{Series: "cpu.total", Value: v}}}); err != nil {
			t.Fatal(err)
		}
		if n++; n%1000 == 0 {
			if err := db.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestHistoryPage_Store reads real history: three hours of cpu.total every
// 10 s with dashd stopped for 20 minutes, from every range. Each range
// reads its tier, the stop is a gap in every range whose slots are finer
// than it, and every tier draws the spread inside its slots as a band.
func TestHistoryPage_Store(t *testing.T) {
	now := t0.Add(-30 * time.Second) // inside the last slot of every range
	db := openDB(t)
	writeBusy(t, db, now.Add(-3*time.Hour), now.Add(-50*time.Minute))
	writeBusy(t, db, now.Add(-30*time.Minute), now)
	names, err := db.SeriesNames()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		rng    string
		tier   string
		gaps   int // subpaths of the settled line
		band   bool
		points int // slots with a value in the readout data
	}{
		{"1h", "raw samples", 2, true, 30 + 89}, // 20 s slots of two samples
		{"6h", "minute rollups", 2, true, 65 + 15},
		{"24h", "minute rollups", 2, true, 26 + 6},
		{"7d", "hour rollups", 1, true, 3},
	}
	for _, tt := range tests {
		t.Run(tt.rng, func(t *testing.T) {
			spec, err := ParseHistory("cpu", "", tt.rng, names)
			if err != nil {
				t.Fatal(err)
			}
			v, err := HistoryPage(db, spec, now, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(v.Source, tt.tier) {
				t.Errorf("source %q, want %s", v.Source, tt.tier)
			}
			c := v.Charts[0]
			s := c.Series[0]
			if got := subpaths(s.Line); got != tt.gaps {
				t.Errorf("line has %d subpaths, want %d: %.200s", got, tt.gaps, s.Line)
			}
			if (s.Band != "") != tt.band {
				t.Errorf("band drawn: %v, want %v", s.Band != "", tt.band)
			}
			if c.Edge.Vals == "" {
				t.Error("the open slot has no value")
			}
			n := 0
			for _, x := range strings.Split(strings.Split(c.Vals, "|")[0], ",") {
				if x != "" {
					n++
				}
			}
			t.Logf("%s: %d settled slots with data, edge %q", tt.rng, n, c.Edge.Lines[0].Line)
			if n < tt.points*9/10 || n > tt.points*11/10+1 {
				t.Errorf("%d settled slots with data, want about %d", n, tt.points)
			}
		})
	}
}

// TestHistoryPage_TierRetention: a range whose start lies beyond the raw
// retention reads minute rollups instead.
func TestHistoryPage_TierRetention(t *testing.T) {
	db, err := storage.Open(filepath.Join(t.TempDir(), "d.db"), storage.Options{Clock: func() time.Time { return t0 },
		Retention: storage.Retention{Raw: 30 * time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	spec, err := ParseHistory("cpu", "", "1h", nil)
	if err != nil {
		t.Fatal(err)
	}
	v, err := HistoryPage(db, spec, t0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(v.Source, "minute rollups") {
		t.Errorf("source %q: 1h with 30 min of raw retention must read minutes", v.Source)
	}
}

var dataVals = regexp.MustCompile(`data-vals="[^"]*"`)

func TestHistoryFeed(t *testing.T) {
	g := histGrid{from: t0, step: 5 * time.Minute, n: 12, span: time.Hour}
	spec := histChart("Busy", histPct, false, histSeries{"busy", "cpu.total"})
	vals := []float64{10, 12, 15, 14, 13, 12, 11, 10, 12, 14, 16, 18}
	view := func(open float64, settledBump float64) ui.HistoryView {
		vs := append([]float64(nil), vals...)
		vs[len(vs)-1] = open
		vs[3] += settledBump
		c := buildHistChart("h0", spec, []histData{{slots: mkSlots(0, vs...), join: 1}}, g, "1 hour", time.UTC)
		return ui.HistoryView{Zone: "UTC", Charts: []ui.HistoryChart{c}}
	}
	ctx := context.Background()
	var f HistoryFeed
	steps := []struct {
		name      string
		v         ui.HistoryView
		want      string // "" none, "all", "edge"
		wantValue string
	}{
		{"first tick sends all", view(18, 0), "all", `data-vals="18"`},
		{"nothing new", view(18, 0), "", ""},
		{"open slot moved", view(19.5, 0), "edge", `data-vals="19.5"`},
		{"a settled slot changed", view(19.5, 1), "all", `15,15,`},
	}
	for _, st := range steps {
		evs, n, err := f.Next(ctx, st.v)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		if len(evs) == 1 {
			b, err := hubBytes(evs)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case strings.Contains(b, ui.HistoryChartsID):
				got = "all"
			case strings.Contains(b, ui.HistoryEdgeID("h0")):
				got = "edge"
			}
			if !strings.Contains(b, st.wantValue) {
				t.Errorf("%s: patch lacks %s: %v", st.name, st.wantValue, dataVals.FindAllString(b, -1))
			}
			if got == "edge" && n > 400 {
				t.Errorf("%s: an edge patch of %d bytes", st.name, n)
			}
		} else if len(evs) > 1 {
			t.Fatalf("%s: %d events", st.name, len(evs))
		}
		if got != st.want {
			t.Errorf("%s: sent %q, want %q", st.name, got, st.want)
		}
	}
}

func hubBytes(evs []hub.Event) (string, error) {
	b, err := hub.Encode(evs...)
	return string(b), err
}
