package view

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/window"
)

const (
	chartPoints   = 240
	resultsShown  = 15
	uptimeDays    = 90
	checkEventsN  = 10
	eventScanSize = 200
)

// CheckStore is the history a check page reads.
type CheckStore interface {
	Uptime(check string, span time.Duration) (storage.UptimeStats, error)
	UptimeDaily(check string, days int) ([]storage.DayUptime, error)
	Range(name string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
	Results(check string, from, to time.Time, limit int) ([]model.Result, error)
	LastResults(check string, n int) ([]model.Result, error)
	Events(beforeID uint64, limit int) ([]model.Event, error)
}

// CheckPage builds the /checks/{name} view of the check st from its
// history; rng names a chart range (window.Chart; anything else, "" too,
// means the smallest range that covers the check's data: a check added
// minutes ago is not a sliver at the edge of a day) and source is the
// check's configuration as written.
func CheckPage(store CheckStore, st collectors.Status, source, rng string, now time.Time) (ui.CheckDetailView, error) {
	return checkPage(store, st, source, rng, now, true)
}

// CheckPageUpdate builds what CheckUpdate sends when the check changed
// state: the page without its chart (each open page has its own range, and
// the chart is the one expensive read).
func CheckPageUpdate(store CheckStore, st collectors.Status, now time.Time) (ui.CheckDetailView, error) {
	return checkPage(store, st, "", "", now, false)
}

func checkPage(store CheckStore, st collectors.Status, source, rng string, now time.Time, chart bool) (ui.CheckDetailView, error) {
	name := st.Name
	v := checkSummary(st, now)
	days, err := store.UptimeDaily(name, uptimeDays)
	if err != nil {
		return v, err
	}
	for _, d := range days {
		v.Days = append(v.Days, ui.UptimeDay{Day: d.Day, Pct: uptimePct(d.UptimeStats)})
	}
	if v.First, err = firstResult(store, name, days, now); err != nil {
		return v, err
	}
	fitted := false
	if _, ok := window.Parse(window.Chart(), rng); !ok {
		rng, fitted = FitRange(v.First, now), true
	}
	v.Range, v.Fitted = rng, fitted
	if v.Uptime, err = uptimeWindows(store, name, v.First, now); err != nil {
		return v, err
	}
	if chart {
		if v.Chart, v.Fails, err = latencyChart(store, name, rng, fitted, v.First, st.Interval, now); err != nil {
			return v, err
		}
	}
	if v.Results, err = results(store, name, now); err != nil {
		return v, err
	}
	if v.Events, err = checkEvents(store, name, now); err != nil {
		return v, err
	}
	v.Config = checkConfig(st)
	v.Source = source
	return v, nil
}

// FitRange is the chart range a check page opens with: the smallest range
// that covers the data since the first result (1h at least, and for a
// check without results).
func FitRange(first, now time.Time) string {
	ws := window.Chart()
	if first.IsZero() {
		return ws[0].Name
	}
	age := now.Sub(first)
	for _, w := range ws {
		if w.Span >= age {
			return w.Name
		}
	}
	return ws[len(ws)-1].Name
}

// firstResult is the time of the check's first stored result: the first
// result of the oldest day with any, or that day itself when its results
// are past their retention (the daily counters outlive them). Zero: none.
func firstResult(store CheckStore, name string, days []storage.DayUptime, now time.Time) (time.Time, error) {
	for _, d := range days {
		if d.Known() == 0 && d.Unknown == 0 {
			continue
		}
		rs, err := store.Results(name, d.Day, now, 1)
		if err != nil {
			return time.Time{}, err
		}
		if len(rs) > 0 {
			return rs[0].Time, nil
		}
		return d.Day, nil
	}
	return time.Time{}, nil
}

// uptimeWindows is the uptime per window. A window longer than the check's
// history would claim "100% · 90 days" from minutes of data: the first
// such window is labelled "since <first result>" and the longer ones,
// which could only repeat its figure, are left out.
func uptimeWindows(store CheckStore, name string, first, now time.Time) ([]ui.UptimeWindow, error) {
	var out []ui.UptimeWindow
	for _, w := range window.Uptime() {
		u, err := store.Uptime(name, w.Span)
		if err != nil {
			return nil, err
		}
		uw := ui.UptimeWindow{Label: w.Label, Pct: uptimePct(u)}
		if !first.IsZero() && first.After(now.Add(-w.Span)) {
			uw.Label, uw.Since = "since "+ui.FormatWhen(first, now), first
			return append(out, uw), nil
		}
		out = append(out, uw)
	}
	return out, nil
}

func checkSummary(st collectors.Status, now time.Time) ui.CheckDetailView {
	v := ui.CheckDetailView{Name: st.Name, Type: st.Type, Group: st.Group, Description: st.Description,
		State: st.State, Reason: st.Reason, Latency: ui.FormatLatency(st.Latency), SinceAt: st.LastChange, Flapping: st.Flapping}
	if !st.LastChange.IsZero() {
		v.Since = ui.FormatWhen(st.LastChange, now) + " (" + ui.FormatAge(now.Sub(st.LastChange)) + ")"
	}
	if st.State == model.StateUnknown && st.Reason == "" {
		v.Reason = "Waiting for the first run"
	}
	return v
}

func uptimePct(u storage.UptimeStats) float64 {
	if u.Known() == 0 {
		return math.NaN()
	}
	return 100 * u.Availability()
}

// rawChartLimit bounds the raw results a chart reads. Within it the chart
// is drawn from the results themselves, where a failed run is a failure
// (a gap and a mark) and not a latency; past it (a long range of a
// frequent check) from the latency series' rollups.
const rawChartLimit = 20000

// maxFailMarks bounds the failure marks under a chart: failures closer
// than a 1/maxFailMarks of the axis share one mark.
const maxFailMarks = 300

func latencyChart(store CheckStore, name, rng string, fitted bool, first time.Time, interval time.Duration, now time.Time) (ui.ChartView, []ui.FailMark, error) {
	w, _ := window.Parse(window.Chart(), rng)
	from := now.Add(-w.Span)
	title := name + " latency, last " + rng
	if fitted && !first.IsZero() && first.After(from) {
		// The default range fits the data: a young check fills the chart.
		from = first.Add(-now.Sub(first) / 20)
		if now.Sub(from) < 2*time.Minute {
			from = now.Add(-2 * time.Minute)
		}
		title = name + " latency since " + ui.FormatWhen(first, now)
	}
	c := ui.ChartView{ID: "latency-chart", Title: title, Unit: "ms", From: from, To: now,
		Empty: "No results in the last " + rng}
	rs, err := store.Results(name, from, now, rawChartLimit)
	if err != nil {
		return c, nil, err
	}
	if len(rs) < rawChartLimit {
		var fails []ui.FailMark
		c.Points, c.Band, fails = bucketResults(rs, from, now, chartPoints, interval)
		if len(c.Points) == 0 && len(fails) > 0 {
			c.Empty = "No successful run in this range: every run failed (marked below)"
		}
		return c, fails, nil
	}
	pts, err := store.Range(series.CheckLatency(name), from, now, chartPoints)
	if err != nil {
		return c, nil, err
	}
	for _, p := range pts {
		c.Points = append(c.Points, ui.ChartPoint{Time: p.Time, Value: p.Value})
		c.Band = append(c.Band, ui.ChartBand{Time: p.Time, Min: p.Min, Max: p.Max})
	}
	return c, nil, nil
}

// bucketResults averages the latencies of successful results (up or
// degraded) into at most n buckets. Failed results have no latency worth
// plotting (a refused connect takes microseconds): they break the line and
// come back as marks. The line also breaks where results are missing for
// longer than 2.5 intervals (dashd was not running).
func bucketResults(rs []model.Result, from, to time.Time, n int, interval time.Duration) ([]ui.ChartPoint, []ui.ChartBand, []ui.FailMark) {
	if len(rs) == 0 || !to.After(from) {
		return nil, nil, nil
	}
	width := to.Sub(from) / time.Duration(n)
	if width <= 0 {
		width = time.Second
	}
	type acc struct {
		sum, lo, hi float64
		n, failed   int
	}
	buckets := make([]acc, n)
	fails := failMarks{now: to}
	span := float64(to.Sub(from))
	for _, r := range rs {
		i := int(r.Time.Sub(from) / width)
		if i == n && !r.Time.After(to) {
			i = n - 1 // a result at the very end
		}
		if i < 0 || i >= n {
			continue
		}
		b := &buckets[i]
		if r.State == model.StateDown {
			b.failed++
			fails.add(r, 100*float64(r.Time.Sub(from))/span)
			continue
		}
		if r.Latency <= 0 || (r.State != model.StateUp && r.State != model.StateDegraded) {
			continue
		}
		ms := float64(r.Latency) / float64(time.Millisecond)
		if b.n == 0 || ms < b.lo {
			b.lo = ms
		}
		if ms > b.hi {
			b.hi = ms
		}
		b.sum += ms
		b.n++
	}
	maxGap := max(2*width, interval*5/2)
	var pts []ui.ChartPoint
	var band []ui.ChartBand
	var last time.Time
	broken := false
	for i, b := range buckets {
		if b.n > 0 {
			t := from.Add(time.Duration(i)*width + width/2)
			if len(pts) > 0 && (broken || t.Sub(last) > maxGap) {
				pts = append(pts, ui.ChartPoint{Time: last.Add(width / 2), Value: math.NaN()})
			}
			pts = append(pts, ui.ChartPoint{Time: t, Value: b.sum / float64(b.n)})
			band = append(band, ui.ChartBand{Time: t, Min: b.lo, Max: b.hi})
			last, broken = t, false
		}
		if b.failed > 0 {
			broken = true
		}
	}
	return pts, band, fails.list()
}

// failMarks gathers failed results into marks; failures that would
// overlap on the axis share one mark, which says how many it stands for.
type failMarks struct {
	marks []ui.FailMark
	more  []int // failures folded into each mark
	now   time.Time
}

func (f *failMarks) add(r model.Result, pct float64) {
	if k := len(f.marks) - 1; k >= 0 && pct-f.marks[k].Pct < 100.0/maxFailMarks {
		f.more[k]++
		return
	}
	title := ui.FormatWhen(r.Time, f.now) + " down"
	if r.Reason != "" {
		title += ": " + shortReason(r.Reason)
	}
	f.marks = append(f.marks, ui.FailMark{At: r.Time, Pct: pct, Title: title})
	f.more = append(f.more, 0)
}

func (f *failMarks) list() []ui.FailMark {
	for i, n := range f.more {
		switch {
		case n == 1:
			f.marks[i].Title += " (and 1 more failed run)"
		case n > 1:
			f.marks[i].Title += fmt.Sprintf(" (and %d more failed runs)", n)
		}
	}
	return f.marks
}

// shortReason keeps a mark's tooltip short.
func shortReason(s string) string {
	const n = 80
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}

func results(store CheckStore, name string, now time.Time) ([]ui.ResultRow, error) {
	rs, err := store.LastResults(name, resultsShown)
	if err != nil {
		return nil, err
	}
	rows := make([]ui.ResultRow, 0, len(rs))
	for _, r := range rs {
		rows = append(rows, ui.ResultRow{At: r.Time, When: ui.FormatWhen(r.Time, now), State: r.State,
			Latency: ui.FormatLatency(r.Latency), Reason: r.Reason})
	}
	return rows, nil
}

// checkEvents scans the newest events for the check's; events are few, so a
// bounded scan is cheaper than an index.
func checkEvents(store CheckStore, name string, now time.Time) ([]ui.EventRow, error) {
	evs, err := store.Events(0, eventScanSize)
	if err != nil {
		return nil, err
	}
	var rows []ui.EventRow
	for _, e := range evs {
		if e.Kind == model.EventCheck && e.Check == name {
			rows = append(rows, EventRow(e, now))
			if len(rows) == checkEventsN {
				break
			}
		}
	}
	return rows, nil
}

func checkConfig(st collectors.Status) [][2]string {
	kv := [][2]string{{"type", st.Type}}
	if st.Group != "" {
		kv = append(kv, [2]string{"group", st.Group})
	}
	if st.Interval > 0 {
		kv = append(kv, [2]string{"interval", st.Interval.String()})
	}
	if st.Timeout > 0 {
		kv = append(kv, [2]string{"timeout", st.Timeout.String()})
	}
	kv = append(kv, [2]string{"badge", fmt.Sprint(st.Badge)})
	if st.Detail != "" {
		kv = append(kv, [2]string{"last detail", st.Detail})
	}
	return kv
}

// CheckState is the events that bring a fresh check-page stream to v
// (summary, results, events, uptime and the latency chart of the page's
// range).
func CheckState(ctx context.Context, v ui.CheckDetailView) []hub.Event {
	return append(CheckUpdate(ctx, v), hub.PatchComponent(ctx, ui.CheckLatency(v.Chart, v.Fails)))
}

// CheckUpdate is what every open page of a check gets when its state
// changed: everything but the chart, whose range is each page's own.
func CheckUpdate(ctx context.Context, v ui.CheckDetailView) []hub.Event {
	return []hub.Event{
		hub.PatchComponent(ctx, ui.CheckSummary(v)),
		hub.PatchComponent(ctx, ui.CheckResults(v.Results)),
		hub.PatchComponent(ctx, ui.EventList(ui.CheckEventsID, "Events", v.Events)),
		hub.PatchComponent(ctx, ui.CheckUptime(v)),
	}
}

// CheckSummary is the summary part of a check page, from live state only
// (the scheduler refreshes it every tick without reading storage).
func CheckSummary(st collectors.Status, now time.Time) ui.CheckDetailView {
	return checkSummary(st, now)
}
