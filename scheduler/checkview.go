package scheduler

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// LatencySeries is the metric series that holds a check's latency in
// milliseconds, when the daemon records one per result; the latency chart
// reads it (any tier) and falls back to the raw results without it.
func LatencySeries(check string) string {
	return model.SeriesKey("check.latency_ms", "check", check)
}

// ChartRanges maps the range selector's choices to spans.
var ChartRanges = map[string]time.Duration{
	"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour,
}

const (
	chartPoints   = 240
	resultsShown  = 15
	uptimeDays    = 90
	checkEventsN  = 10
	eventScanSize = 200
)

// ErrNoCheck is returned by CheckDetail for a check that is not configured.
var ErrNoCheck = fmt.Errorf("scheduler: no such check")

// CheckDetail builds the /checks/{name} page view; rng is one of
// ChartRanges' keys (anything else means 24h).
func (s *Scheduler) CheckDetail(name, rng string) (ui.CheckDetailView, error) {
	st, ok := s.o.Checks.Status(name)
	if !ok {
		return ui.CheckDetailView{}, ErrNoCheck
	}
	if _, ok := ChartRanges[rng]; !ok {
		rng = "24h"
	}
	now := s.o.Now()
	v := checkSummary(st, now)
	v.Range = rng
	for _, w := range []struct {
		label string
		d     time.Duration
	}{{"24 hours", 24 * time.Hour}, {"7 days", 7 * 24 * time.Hour}, {"30 days", 30 * 24 * time.Hour}, {"90 days", 90 * 24 * time.Hour}} {
		u, err := s.o.Store.Uptime(name, w.d)
		if err != nil {
			return v, err
		}
		v.Uptime = append(v.Uptime, ui.UptimeWindow{Label: w.label, Pct: uptimePct(u)})
	}
	days, err := s.o.Store.UptimeDaily(name, uptimeDays)
	if err != nil {
		return v, err
	}
	for _, d := range days {
		v.Days = append(v.Days, ui.UptimeDay{Day: d.Day, Pct: uptimePct(d.UptimeStats)})
	}
	if v.Chart, err = s.latencyChart(name, rng, now); err != nil {
		return v, err
	}
	if v.Results, err = s.results(name, now); err != nil {
		return v, err
	}
	if v.Events, err = s.checkEvents(name, now); err != nil {
		return v, err
	}
	v.Config = checkConfig(st)
	if cfg := s.o.Latest.Config(); cfg != nil {
		if c, ok := cfg.Check(name); ok {
			v.Source = c.Source
		}
	}
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

func (s *Scheduler) latencyChart(name, rng string, now time.Time) (ui.ChartView, error) {
	span := ChartRanges[rng]
	from := now.Add(-span)
	c := ui.ChartView{ID: "latency-chart", Title: name + " latency, last " + rng, Unit: "ms", From: from, To: now,
		Empty: "No results in the last " + rng}
	pts, err := s.o.Store.Range(LatencySeries(name), from, now, chartPoints)
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
	rs, err := s.o.Store.Results(name, from, now, 50000)
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

func (s *Scheduler) results(name string, now time.Time) ([]ui.ResultRow, error) {
	rs, err := s.o.Store.LastResults(name, resultsShown)
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
func (s *Scheduler) checkEvents(name string, now time.Time) ([]ui.EventRow, error) {
	evs, err := s.o.Store.Events(0, eventScanSize)
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

// CheckState returns the events that bring a fresh check-page stream up to
// date (summary, results, events, uptime and the latency chart for the
// page's range).
func (s *Scheduler) CheckState(ctx context.Context, name, rng string) []hub.Event {
	v, err := s.CheckDetail(name, rng)
	if err != nil {
		s.log.Warn("check state", "check", name, "err", err)
		return nil
	}
	return []hub.Event{
		hub.PatchComponent(ctx, ui.CheckSummary(v)),
		hub.PatchComponent(ctx, ui.CheckResults(v.Results)),
		hub.PatchComponent(ctx, ui.EventList(ui.CheckEventsID, "Events", v.Events)),
		hub.PatchComponent(ctx, ui.CheckUptime(v)),
		hub.PatchComponent(ctx, ui.CheckLatency(v.Chart)),
	}
}

// checkRoomTick re-sends a watched check's summary when it changed (latency,
// age): in-memory only, no storage reads.
func (s *Scheduler) checkRoomTick(ctx context.Context, room string) {
	name := strings.TrimPrefix(room, checkRoomPrefix)
	st, ok := s.o.Checks.Status(name)
	if !ok {
		return
	}
	var buf bytes.Buffer
	if err := ui.CheckSummary(checkSummary(st, s.o.Now())).Render(ctx, &buf); err != nil {
		return
	}
	key := room + "\x00" + ui.CheckSummaryID
	s.mu.Lock()
	same := bytes.Equal(s.checkSent[key], buf.Bytes())
	if !same {
		s.checkSent[key] = bytes.Clone(buf.Bytes())
	}
	s.mu.Unlock()
	if !same {
		s.o.Hub.BroadcastToRoom(room, hub.PatchElements(buf.String()))
	}
}

// checkRoomEvent pushes a state change to the check's room: the whole
// state, since results, events and uptime all moved.
func (s *Scheduler) checkRoomEvent(ctx context.Context, name string) {
	room := CheckRoom(name)
	if s.o.Hub.RoomCounts()[room] == 0 {
		return
	}
	evs := s.CheckState(ctx, name, "")
	if len(evs) == 0 {
		return
	}
	s.o.Hub.BroadcastToRoom(room, evs[:len(evs)-1]...) // not the chart: each page has its own range
}
