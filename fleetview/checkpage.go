package fleetview

import (
	"fmt"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// An agent's check page is the local check page's builder (view.CheckPage)
// over hostChecks, which answers view.CheckStore from what the hub keeps
// of the host: its results (for the uptime windows, the daily bars, the
// chart and the list) and its events.

// Bounds of one agent check page: the days of history it reads, and how
// many of the host's newest results it scans for the check's (the results
// of all a host's checks share one bucket).
const (
	checkDays = 90
	checkScan = 200_000
)

// CheckPage builds the page of check on the agent host (view.ErrNoHost
// when the hub has no result of that check from that host).
func (f *Fleet) CheckPage(host, check, rng string) (ui.CheckDetailView, error) {
	v, _, err := f.checkPage(host, check, rng)
	return v, err
}

// checkPage builds the page and returns the check's state it shows (Run
// redraws the summary's age from it between builds).
func (f *Fleet) checkPage(host, check, rng string) (ui.CheckDetailView, collectors.Status, error) {
	h, err := f.Host(host)
	if err != nil {
		return ui.CheckDetailView{}, collectors.Status{}, err
	}
	for _, st := range h.Statuses {
		if st.Name != check {
			continue
		}
		now := f.o.Now()
		hc := &hostChecks{store: f.o.Store, host: host, check: check, now: now}
		if err := hc.load(); err != nil {
			return ui.CheckDetailView{}, st, fmt.Errorf("fleetview: check page %s on %s: %w", check, host, err)
		}
		v, err := view.CheckPage(hc, st, "", rng, now)
		if err != nil {
			return v, st, fmt.Errorf("fleetview: check page %s on %s: %w", check, host, err)
		}
		return v, st, nil
	}
	return ui.CheckDetailView{}, collectors.Status{}, view.ErrNoHost
}

// hostChecks is view.CheckStore for one check of one agent, from its
// newest results of the last checkDays days read once (oldest first):
// the newest checkScan results of the host, so on a busy host the oldest
// days of the strip are blank rather than the newest ones missing.
type hostChecks struct {
	store        Store
	host, check  string
	now          time.Time
	results      []model.Result
	loadedEvents []model.Event
}

func (h *hostChecks) load() error {
	rs, err := h.store.HostCheckRecentResults(h.host, h.check, h.now.AddDate(0, 0, -checkDays), h.now.Add(time.Minute),
		checkScan, checkScan)
	if err != nil {
		return err
	}
	h.results = rs
	evs, err := h.store.HostEvents(h.host, eventRead)
	if err != nil {
		return err
	}
	// Newest first, as storage's Events answers.
	for i := len(evs) - 1; i >= 0; i-- {
		h.loadedEvents = append(h.loadedEvents, evs[i])
	}
	return nil
}

func count(u *storage.UptimeStats, s model.State) {
	switch s {
	case model.StateUp:
		u.Up++
	case model.StateDegraded:
		u.Degraded++
	case model.StateDown:
		u.Down++
	default:
		u.Unknown++
	}
}

func (h *hostChecks) Uptime(_ string, span time.Duration) (storage.UptimeStats, error) {
	var u storage.UptimeStats
	from := h.now.Add(-span)
	for _, r := range h.results {
		if !r.Time.Before(from) && !r.Maintenance {
			count(&u, r.State)
		}
	}
	return u, nil
}

func (h *hostChecks) UptimeDaily(_ string, days int) ([]storage.DayUptime, error) {
	if days <= 0 {
		return nil, nil
	}
	y, m, d := h.now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	first := today.AddDate(0, 0, -(days - 1))
	out := make([]storage.DayUptime, days)
	for i := range out {
		out[i].Day = first.AddDate(0, 0, i)
	}
	for _, r := range h.results {
		i := int(r.Time.UTC().Sub(first) / (24 * time.Hour))
		if i >= 0 && i < days && !r.Maintenance {
			count(&out[i].UptimeStats, r.State)
		}
	}
	return out, nil
}

func (h *hostChecks) Range(_ string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error) {
	var out []storage.SeriesPoint
	for _, r := range h.results {
		if r.Time.Before(from) || !r.Time.Before(to) || r.State == model.StateDown || r.State == model.StateUnknown {
			continue
		}
		ms := float64(r.Latency) / float64(time.Millisecond)
		out = append(out, storage.SeriesPoint{Time: r.Time, Value: ms, Min: ms, Max: ms})
	}
	if maxPoints > 0 && len(out) > maxPoints {
		step := len(out) / maxPoints
		thin := out[:0]
		for i := 0; i < len(out); i += step + 1 {
			thin = append(thin, out[i])
		}
		out = thin
	}
	return out, nil
}

func (h *hostChecks) Results(_ string, from, to time.Time, limit int) ([]model.Result, error) {
	var out []model.Result
	for _, r := range h.results {
		if len(out) >= limit {
			break
		}
		if !r.Time.Before(from) && r.Time.Before(to) {
			out = append(out, r)
		}
	}
	return out, nil
}

func (h *hostChecks) LastResults(_ string, n int) ([]model.Result, error) {
	out := make([]model.Result, 0, n)
	for i := len(h.results) - 1; i >= 0 && len(out) < n; i-- {
		out = append(out, h.results[i])
	}
	return out, nil
}

func (h *hostChecks) Events(beforeID uint64, limit int) ([]model.Event, error) {
	if beforeID != 0 {
		return nil, nil // one page: the host's newest events
	}
	return h.loadedEvents[:min(limit, len(h.loadedEvents))], nil
}

var _ view.CheckStore = (*hostChecks)(nil)
