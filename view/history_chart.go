package view

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// histGrid is the slot grid of a page: n slots of step from from; the last
// one holds now and is still open.
type histGrid struct {
	from time.Time
	step time.Duration
	n    int
	span time.Duration
}

// newHistGrid aligns r's slots to its step (in Unix time) so that the slots of
// two requests in the same step are the same slots.
func newHistGrid(r histRange, now time.Time) histGrid {
	st := r.step.Milliseconds()
	end := (now.UnixMilli()/st + 1) * st
	n := int(r.span / r.step)
	return histGrid{from: time.UnixMilli(end - int64(n)*st).UTC(), step: r.step, n: n, span: r.span}
}

// end is the end of the grid (the end of the open slot).
func (g histGrid) end() time.Time { return g.from.Add(g.span) }

// readTo is the end of what a page reads, and the tier it reads. Range
// takes both ends inclusive and, with more points than n, merges them into
// n buckets of (to-from+n)/n ms from from: to = end-1ms makes that exactly
// the step, so buckets are slots. When the step is exactly a tier's
// resolution (7d: an hour) that 1 ms would make the store read the finer
// tier; there to = end gives the tier's own points, at most n of them (at
// slot starts, nothing stored at end, which lies after now), so Range does
// not merge at all.
func (g histGrid) readTo(store HistoryStore) (time.Time, storage.Tier) {
	to := g.end().Add(-time.Millisecond)
	tier := store.ChooseTier(g.from, to, g.n)
	if whole := store.ChooseTier(g.from, g.end(), g.n); whole != tier {
		return g.end(), whole
	}
	return to, tier
}

// open is the index of the open slot.
func (g histGrid) open() int { return g.n - 1 }

// histSlot is one column of one series: the points that fell into it, merged.
type histSlot struct {
	ok          bool
	avg, lo, hi float64
	count       int
}

// slots puts the points Range returned into the grid. Range returns at most
// n points, already merged into buckets of the step when there were more;
// points that still share a slot (a late point, a rollup slot starting
// before from) are merged: mean of the averages, min of the mins, max of
// the maxes.
func (g histGrid) slots(pts []storage.SeriesPoint) []histSlot {
	out := make([]histSlot, g.n)
	from, st := g.from.UnixMilli(), g.step.Milliseconds()
	for _, p := range pts {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		i := int((p.Time.UnixMilli() - from) / st)
		if p.Time.UnixMilli() < from {
			i = 0
		}
		if i < 0 || i >= g.n {
			continue
		}
		lo, hi := p.Min, p.Max
		if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
			lo, hi = p.Value, p.Value
		}
		s := &out[i]
		if !s.ok {
			*s = histSlot{ok: true, avg: p.Value, lo: lo, hi: hi, count: 1}
			continue
		}
		s.avg = (s.avg*float64(s.count) + p.Value) / float64(s.count+1)
		s.count++
		s.lo, s.hi = math.Min(s.lo, lo), math.Max(s.hi, hi)
	}
	return out
}

// histData is one series on the grid: its slots and how many slots apart
// two slots with data may be and still be joined by the line.
type histData struct {
	slots []histSlot
	join  int
}

// histJoin is the widest distance, in slots, between two slots with data
// that the line still joins, given the median spacing of the points Range
// returned. Points at least as dense as the slots (Range merged them into
// one per slot) are joined only to their neighbours: one empty slot is a
// gap. Samples sparser than the slots (a 30 s sampling interval on 20 s
// slots) leave empty slots between consecutive samples; those are joined
// up to the distance one spacing spans, and anything wider is a gap. A
// gap (dashd was not running, samples were dropped) is drawn as a gap,
// never bridged.
func histJoin(spacing, step time.Duration) int {
	if spacing <= step || step <= 0 {
		return 1
	}
	return int((spacing + step - 1) / step)
}

// histSpacing is the median distance between consecutive points (0 with
// fewer than two).
func histSpacing(pts []storage.SeriesPoint) time.Duration {
	var ds []time.Duration
	for i := 1; i < len(pts); i++ {
		if d := pts[i].Time.Sub(pts[i-1].Time); d > 0 {
			ds = append(ds, d)
		}
	}
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// histRuns splits the slots with data among the first end into runs the line
// joins.
func histRuns(ss []histSlot, join, end int) [][]int {
	var out [][]int
	prev := -1
	for i := 0; i < end; i++ {
		if !ss[i].ok {
			continue
		}
		if prev >= 0 && i-prev <= join {
			out[len(out)-1] = append(out[len(out)-1], i)
		} else {
			out = append(out, []int{i})
		}
		prev = i
	}
	return out
}

// histYScale maps values to plot rows (0 at the top, ui.HistoryPlotH at the
// bottom), clamped to the plot.
type histYScale struct{ lo, hi, div float64 }

func (y histYScale) at(v float64) int {
	f := (v/y.div - y.lo) / (y.hi - y.lo)
	return int(math.Round(float64(ui.HistoryPlotH) * (1 - math.Max(0, math.Min(1, f)))))
}

// Path data is written compactly: x in slots (a slot's centre is i+0.5),
// y in whole rows, and after the first point relative line-tos ("l1-3 1 2"),
// a few bytes a point: the live feed re-sends charts as slots close.

func histX(i int) string { return strconv.Itoa(i) + ".5" }

// histPair writes one relative step ("1-3" or "1 2") after a command or a
// space.
func histPair(b *strings.Builder, dx, dy int) {
	b.WriteString(strconv.Itoa(dx))
	if dy >= 0 {
		b.WriteByte(' ')
	}
	b.WriteString(strconv.Itoa(dy))
}

// histLine draws runs; a run of one slot is a dot (a zero-length line with
// round caps).
func histLine(rs [][]int, ys []int) string {
	var b strings.Builder
	for _, r := range rs {
		b.WriteString("M" + histX(r[0]) + " " + strconv.Itoa(ys[r[0]]))
		if len(r) == 1 {
			b.WriteString("h0")
			continue
		}
		b.WriteByte('l')
		for k := 1; k < len(r); k++ {
			if k > 1 {
				b.WriteByte(' ')
			}
			histPair(&b, r[k]-r[k-1], ys[r[k]]-ys[r[k-1]])
		}
	}
	return b.String()
}

// histBand draws the min..max envelope of each run of two slots or more:
// along the maxima, down, and back along the minima.
func histBand(rs [][]int, top, bottom []int) string {
	var b strings.Builder
	for _, r := range rs {
		if len(r) < 2 {
			continue
		}
		b.WriteString("M" + histX(r[0]) + " " + strconv.Itoa(top[r[0]]) + "l")
		for k := 1; k < len(r); k++ {
			histPair(&b, r[k]-r[k-1], top[r[k]]-top[r[k-1]])
			b.WriteByte(' ')
		}
		last := r[len(r)-1]
		histPair(&b, 0, bottom[last]-top[last])
		for k := len(r) - 1; k > 0; k-- {
			b.WriteByte(' ')
			histPair(&b, r[k-1]-r[k], bottom[r[k-1]]-bottom[r[k]])
		}
		b.WriteByte('Z')
	}
	return b.String()
}

// histClass is a series' colour class; eight colours, then they repeat.
func histClass(i int) string { return "s" + strconv.Itoa(i%8) }

// buildHistChart turns a chart's slots into its view: scale, paths, axes, the
// readout data and the legend. Everything but Edge depends only on the
// settled slots (all but the open one), so the chart changes when a slot
// closes and the edge alone changes in between; only when nothing has
// settled yet (a dashd minutes old on a long range) does the open slot set
// the scale.
func buildHistChart(id string, cs histChartSpec, data []histData, g histGrid, rangeLabel string, loc *time.Location) ui.HistoryChart {
	c := ui.HistoryChart{ID: id, Title: cs.title, N: g.n, T0: g.from.UnixMilli(), Step: g.step.Milliseconds(),
		SlotPct: histNum(100 / float64(g.n)), TimeStyle: histTimeStyle(g)}
	open := g.open()
	names := make([]string, len(cs.series))
	for i, s := range cs.series {
		names[i] = strings.ReplaceAll(s.name, "|", "/")
	}
	c.Names = strings.Join(names, "|")

	// The value range: settled slots, or the open one if none settled.
	lo, hi := math.Inf(1), math.Inf(-1)
	spread := false
	extent := func(end int) {
		for _, d := range data {
			for _, s := range d.slots[:end] {
				if !s.ok {
					continue
				}
				l, h := s.avg, s.avg
				if cs.band {
					l, h = s.lo, s.hi
					spread = spread || s.hi > s.lo
				}
				lo, hi = math.Min(lo, l), math.Max(hi, h)
			}
		}
	}
	extent(open)
	if math.IsInf(lo, 1) {
		extent(g.n)
	}
	if math.IsInf(lo, 1) {
		c.Empty = "No samples in the last " + rangeLabel + "."
		for i, s := range cs.series {
			c.Series = append(c.Series, ui.HistorySeries{Name: s.name, Class: histClass(i)})
		}
		return c
	}
	sc := histScaleFor(cs.unit, hi)
	top := hi / sc.div
	if cs.unit == histPct {
		top = math.Max(top, 10)
	}
	ticks := ui.NiceTicks(math.Min(0, lo/sc.div), math.Max(top, 1e-9), 4)
	y := histYScale{lo: ticks[0], hi: ticks[len(ticks)-1], div: sc.div}
	c.Unit, c.Suffix = sc.caption, sc.suffix
	if cs.unit == histPct || cs.unit == histLoad {
		c.Unit = ""
	}
	for _, t := range ticks {
		c.YTicks = append(c.YTicks, ui.HistoryTick{Pos: histNum(100 * float64(y.at(t*sc.div)) / ui.HistoryPlotH), Label: histNum(t) + sc.suffix})
	}
	slices.Reverse(c.YTicks) // top first, as read
	for _, t := range histTimeTicks(g.from, g.from.Add(g.span), 6, loc) {
		c.XTicks = append(c.XTicks, ui.HistoryTick{Pos: histNum(100 * float64(t.Sub(g.from)) / float64(g.span)),
			Label: histTimeLabel(t, g.span), At: t.UTC().Format(time.RFC3339)})
	}

	vals := make([]string, len(data))
	edgeVals := make([]string, len(data))
	var summaries []string
	for i, d := range data {
		ss := d.slots
		ys, tops, bottoms := make([]int, g.n), make([]int, g.n), make([]int, g.n)
		var cells []string
		sum, n, peak := 0.0, 0, math.Inf(-1)
		for k, s := range ss {
			if !s.ok {
				if k < open {
					cells = append(cells, "")
				}
				continue
			}
			ys[k], tops[k], bottoms[k] = y.at(s.avg), y.at(s.hi), y.at(s.lo)
			if k == open {
				edgeVals[i] = histSig3(s.avg / sc.div)
				continue
			}
			cells = append(cells, histSig3(s.avg/sc.div))
			sum += s.avg
			n++
			peak = math.Max(peak, s.hi)
		}
		vals[i] = strings.TrimRight(strings.Join(cells, ","), ",")
		rs := histRuns(ss, d.join, open)
		hs := ui.HistorySeries{Name: cs.series[i].name, Class: histClass(i), Line: histLine(rs, ys)}
		if cs.band && spread {
			hs.Band = histBand(rs, tops, bottoms)
		}
		if n > 0 {
			hs.Summary = "avg " + histSig3(sum/float64(n)/sc.div) + sc.suffix + " · max " + histSig3(peak/sc.div) + sc.suffix
			summaries = append(summaries, cs.series[i].name+" "+hs.Summary)
		}
		c.Series = append(c.Series, hs)
		c.Edge.Lines = append(c.Edge.Lines, histEdgeLine(ss, d.join, ys, tops, bottoms, cs.band && spread, histClass(i)))
	}
	c.Vals = strings.Join(vals, "|")
	c.Edge.Vals = strings.Join(edgeVals, "|")
	c.Label = cs.title + ", last " + rangeLabel
	if len(summaries) > 0 && len(summaries) <= 8 {
		c.Label += ": " + strings.Join(summaries, "; ")
	}
	return c
}

// histEdgeLine draws the open slot of one series: the segment from the last
// settled slot the line joins, or a dot.
func histEdgeLine(ss []histSlot, join int, ys, tops, bottoms []int, band bool, class string) ui.HistoryEdgeLine {
	l := ui.HistoryEdgeLine{Class: class}
	open := len(ss) - 1
	if !ss[open].ok {
		return l
	}
	prev := -1
	for k := open - 1; k >= 0 && open-k <= join; k-- {
		if ss[k].ok {
			prev = k
			break
		}
	}
	if prev < 0 {
		l.Line = "M" + histX(open) + " " + strconv.Itoa(ys[open]) + "h0"
		return l
	}
	rs := [][]int{{prev, open}}
	l.Line = histLine(rs, ys)
	if band {
		l.Band = histBand(rs, tops, bottoms)
	}
	return l
}

// histTimeStyle says how the readout shows a slot's time: with seconds for
// slots under a minute, with the date beyond a day.
func histTimeStyle(g histGrid) string {
	switch {
	case g.step < time.Minute:
		return "s"
	case g.span <= 24*time.Hour:
		return "m"
	default:
		return "d"
	}
}
