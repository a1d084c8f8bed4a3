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
// history; rng names a chart range (window.Chart; anything else means
// window.DefaultChart) and source is the check's configuration as written.
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
	if _, ok := window.Parse(window.Chart(), rng); !ok {
		rng = window.DefaultChart
	}
	name := st.Name
	v := checkSummary(st, now)
	v.Range = rng
	for _, w := range window.Uptime() {
		u, err := store.Uptime(name, w.Span)
		if err != nil {
			return v, err
		}
		v.Uptime = append(v.Uptime, ui.UptimeWindow{Label: w.Label, Pct: uptimePct(u)})
	}
	days, err := store.UptimeDaily(name, uptimeDays)
	if err != nil {
		return v, err
	}
	for _, d := range days {
		v.Days = append(v.Days, ui.UptimeDay{Day: d.Day, Pct: uptimePct(d.UptimeStats)})
	}
	if chart {
		if v.Chart, err = latencyChart(store, name, rng, now); err != nil {
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

func latencyChart(store CheckStore, name, rng string, now time.Time) (ui.ChartView, error) {
	w, _ := window.Parse(window.Chart(), rng)
	from := now.Add(-w.Span)
	c := ui.ChartView{ID: "latency-chart", Title: name + " latency, last " + rng, Unit: "ms", From: from, To: now,
		Empty: "No results in the last " + rng}
	pts, err := store.Range(series.CheckLatency(name), from, now, chartPoints)
	if err != nil {
		return c, err
	}
	if len(pts) > 0 {
		for _, p := range pts {
			c.Points = append(c.Points, ui.ChartPoint{Time: p.Time, Value: p.Value})
			c.Band = append(c.Band, ui.ChartBand{Time: p.Time, Min: p.Min, Max: p.Max})
		}
		return c, nil
	}
	// No series: bucket the raw results. Bounded so a 30-day range on a
	// frequent check stays a quick read.
	rs, err := store.Results(name, from, now, 50000)
	if err != nil {
		return c, err
	}
	c.Points, c.Band = bucketResults(rs, from, now, chartPoints)
	return c, nil
}

// bucketResults averages result latencies into at most n buckets; a bucket
// where the check was down gets no point (a gap in the line).
func bucketResults(rs []model.Result, from, to time.Time, n int) ([]ui.ChartPoint, []ui.ChartBand) {
	if len(rs) == 0 {
		return nil, nil
	}
	width := to.Sub(from) / time.Duration(n)
	if width <= 0 {
		width = time.Second
	}
	type acc struct {
		sum, lo, hi float64
		n           int
	}
	buckets := make([]acc, n)
	for _, r := range rs {
		i := int(r.Time.Sub(from) / width)
		if i < 0 || i >= n || r.Latency <= 0 || r.State == model.StateDown {
			continue
		}
		ms := float64(r.Latency) / float64(time.Millisecond)
		b := &buckets[i]
		if b.n == 0 || ms < b.lo {
			b.lo = ms
		}
		if ms > b.hi {
			b.hi = ms
		}
		b.sum += ms
		b.n++
	}
	var pts []ui.ChartPoint
	var band []ui.ChartBand
	for i, b := range buckets {
		if b.n == 0 {
			if len(pts) > 0 && !math.IsNaN(pts[len(pts)-1].Value) {
				pts = append(pts, ui.ChartPoint{Time: from.Add(time.Duration(i) * width), Value: math.NaN()})
			}
			continue
		}
		t := from.Add(time.Duration(i)*width + width/2)
		pts = append(pts, ui.ChartPoint{Time: t, Value: b.sum / float64(b.n)})
		band = append(band, ui.ChartBand{Time: t, Min: b.lo, Max: b.hi})
	}
	return pts, band
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
	return append(CheckUpdate(ctx, v), hub.PatchComponent(ctx, ui.CheckLatency(v.Chart)))
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
