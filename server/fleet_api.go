package server

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/fleetview"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/view"
)

// The host-scoped API: every host route mirrors today's under
// /api/v1/hosts/{host}. For the hub's own name the routes answer exactly
// what today's do (same handlers); for an agent they answer from what
// the hub stores of it, in the same vocabulary (api_json.go).

// HostSeriesStore is what the host-scoped series routes read (a
// *storage.DB): the host's series names and one series' stored points.
type HostSeriesStore interface {
	HostSeriesNames(host string) ([]string, error)
	HostTierRange(host, series string, tier storage.Tier, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
}

// hostTier picks the hub's tier for a series request with this step:
// its short raw window below a minute, the minute rollups below an hour,
// else the hour rollups (the agent keeps the full raw tier).
func hostTier(step time.Duration) storage.Tier {
	switch {
	case step < time.Minute:
		return storage.TierRaw
	case step < time.Hour:
		return storage.TierMinute
	}
	return storage.TierHour
}

// maxHostPoints bounds the stored points one host series request reads
// (a day of 1 s samples).
const maxHostPoints = 86_400

// fleetAPIRoutes registers the host-scoped API.
func (s *Server) fleetAPIRoutes() {
	read := s.allow("api", auth.ReadAPI)
	h := s.app.Group("/api/v1/hosts/:host")
	h.Get("", read, queryParams(), s.hostAPI(s.handleAPIHostLocal, s.handleAPIHost))
	h.Get("/checks", read, queryParams("state", "group", "type"), s.hostAPI(s.handleAPIChecks, s.handleAPIHostChecks))
	h.Get("/checks/:check", read, queryParams(), s.hostAPI(s.handleAPICheck, s.handleAPIHostCheck))
	h.Get("/series", read, queryParams(), s.hostAPI(s.handleAPISeriesNames, s.handleAPIHostSeriesNames))
	h.Get("/series/*", read, queryParams("from", "to", "points"), s.hostAPI(s.handleAPISeries, s.handleAPIHostSeries))
	h.Get("/events", read, queryParams("before", "limit", "check", "kind"), s.hostAPI(s.handleAPIEvents, s.handleAPIHostEvents))
}

// hostAPI routes a host-scoped request: local for the hub's own host,
// agent (with the agent's newest state) for a known agent, 404 for
// anything else.
func (s *Server) hostAPI(local fiber.Handler, agent func(*fiber.Ctx, *fleetview.Fleet, view.FleetHost) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		host, err := hostParam(c)
		if err != nil {
			return err
		}
		f, own, known := s.hostScope(host)
		if own {
			if !known {
				return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("unknown host %q (GET /api/v1/hosts lists them)", host))
			}
			return local(c)
		}
		h, err := f.Host(host)
		if errors.Is(err, view.ErrNoHost) {
			return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("unknown host %q (GET /api/v1/hosts lists them)", host))
		}
		if err != nil {
			return internal(err)
		}
		return agent(c, f, h)
	}
}

// hostDetailJSON is /api/v1/hosts/{host}: the host as listed, with its
// checks' states and its newest figures.
type hostDetailJSON struct {
	fleetHostJSON
	Checks []checkJSON `json:"checks"`
	// SampleAt is the time of the newest sample; Values its points
	// (series name to value), empty before the first.
	SampleAt *time.Time         `json:"sample_at,omitempty"`
	Values   map[string]float64 `json:"values"`
}

func (s *Server) handleAPIHost(c *fiber.Ctx, _ *fleetview.Fleet, h view.FleetHost) error {
	out := hostDetailJSON{fleetHostJSON: s.hostJSON(h.Info), Values: map[string]float64{}}
	out.Checks = mapSlice(h.Statuses, newHostCheckJSON)
	if h.HasSample {
		t := h.Snapshot.Time
		out.SampleAt = &t
		for _, p := range h.Snapshot.Points() {
			out.Values[p.Series] = p.Value
		}
	}
	return c.JSON(out)
}

// handleAPIHostLocal is /api/v1/hosts/{hub}: the hub's own host.
func (s *Server) handleAPIHostLocal(c *fiber.Ctx) error {
	name := s.deps.Hostname
	if f := s.fleet(); f != nil {
		name = f.LocalName()
	}
	out := hostDetailJSON{fleetHostJSON: s.localHostJSON(name), Values: map[string]float64{}}
	if snap, ok := s.deps.Latest.System(); ok {
		t := snap.Time
		out.SampleAt = &t
		for _, p := range snap.Points() {
			out.Values[p.Series] = p.Value
		}
	}
	for _, st := range s.deps.Checks.Statuses() {
		st.Detail = ""
		out.Checks = append(out.Checks, newCheckJSON(st))
	}
	if out.Checks == nil {
		out.Checks = []checkJSON{}
	}
	return c.JSON(out)
}

// newHostCheckJSON is an agent's check as the API shows it: what the hub
// knows (no configuration, no uptime windows: see the check's history).
func newHostCheckJSON(st collectors.Status) checkJSON {
	v := newCheckJSON(st)
	v.UptimePct = map[string]*float64{}
	return v
}

func (s *Server) handleAPIHostChecks(c *fiber.Ctx, _ *fleetview.Fleet, h view.FleetHost) error {
	keep, err := checkFilter(c, h.Statuses)
	if err != nil {
		return err
	}
	out := []checkJSON{}
	for _, st := range h.Statuses {
		if keep(st) {
			out = append(out, newHostCheckJSON(st))
		}
	}
	return c.JSON(fiber.Map{"host": h.Info.Name, "checks": out, "count": len(out)})
}

func (s *Server) handleAPIHostCheck(c *fiber.Ctx, _ *fleetview.Fleet, h view.FleetHost) error {
	name, err := pathParam(c, "check")
	if err != nil {
		return err
	}
	for _, st := range h.Statuses {
		if st.Name == name {
			return c.JSON(newHostCheckJSON(st))
		}
	}
	return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("unknown check %q on host %q", name, h.Info.Name))
}

func (s *Server) hostSeriesStore() (HostSeriesStore, error) {
	st, ok := s.deps.Store.(HostSeriesStore)
	if !ok {
		return nil, fiber.NewError(fiber.StatusNotFound, "this dashd keeps no fleet series")
	}
	return st, nil
}

func (s *Server) handleAPIHostSeriesNames(c *fiber.Ctx, _ *fleetview.Fleet, h view.FleetHost) error {
	st, err := s.hostSeriesStore()
	if err != nil {
		return err
	}
	names, err := st.HostSeriesNames(h.Info.Name)
	if err != nil {
		return internal(err)
	}
	if names == nil {
		names = []string{}
	}
	return c.JSON(fiber.Map{"host": h.Info.Name, "series": names, "count": len(names)})
}

// handleAPIHostSeries answers a host's series on the same grid as
// /api/v1/series/{metric}, from the hub's tier that fits the step
// (hostTier; a raw request that finds the short raw window empty falls
// back to the minute rollups). A step finer than the host's sample
// interval is widened to it, and a range longer than maxHostPoints
// stored points is a 400.
func (s *Server) handleAPIHostSeries(c *fiber.Ctx, _ *fleetview.Fleet, h view.FleetHost) error {
	st, err := s.hostSeriesStore()
	if err != nil {
		return err
	}
	name, err := pathParam(c, "*")
	if err != nil {
		return err
	}
	if name == "" {
		return s.handleAPIHostSeriesNames(c, nil, h)
	}
	r, err := parseRange(c.Query("from"), c.Query("to"), c.Query("points"), s.now())
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	names, err := st.HostSeriesNames(h.Info.Name)
	if err != nil {
		return internal(err)
	}
	if !slices.Contains(names, name) {
		return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("unknown series %q of host %q (GET /api/v1/hosts/%s/series lists them)",
			name, h.Info.Name, h.Info.Name))
	}
	span := r.To.Sub(r.From)
	step := (span + time.Duration(r.Points) - 1) / time.Duration(r.Points)
	step = max(step, h.Info.Interval, time.Second)
	n := max(int((span+step-1)/step), 1)
	tier := hostTier(step)
	// Refuse before reading: the tier's slots in the span bound the scan.
	slot := map[storage.Tier]time.Duration{storage.TierRaw: max(h.Info.Interval, time.Second),
		storage.TierMinute: time.Minute, storage.TierHour: time.Hour}[tier]
	if span/slot > maxHostPoints {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("from/to: the range holds more than %d stored points of this host at this detail; narrow it or ask for fewer points", maxHostPoints))
	}
	pts, err := st.HostTierRange(h.Info.Name, name, tier, r.From, r.To, 0)
	if err == nil && len(pts) == 0 && tier == storage.TierRaw {
		pts, err = st.HostTierRange(h.Info.Name, name, storage.TierMinute, r.From, r.To, 0)
	}
	if err != nil {
		return internal(err)
	}
	if len(pts) > maxHostPoints {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("from/to: the range holds more than %d stored points of this host; narrow it", maxHostPoints))
	}
	return c.JSON(hostSeriesJSON{seriesJSON: seriesJSON{Series: name, From: r.From, To: r.To, StepSeconds: seconds(step), Count: n,
		Points: bucketPoints(pts, r.From, step, n)}, Host: h.Info.Name})
}

// hostSeriesJSON is seriesJSON naming its host.
type hostSeriesJSON struct {
	seriesJSON
	Host string `json:"host"`
}

// handleAPIHostEvents is /api/v1/events for an agent: its newest events,
// newest first, filtered like today's, paged by before= (the agent's
// event ids).
func (s *Server) handleAPIHostEvents(c *fiber.Ctx, _ *fleetview.Fleet, h view.FleetHost) error {
	q, err := parseEventsQuery(c)
	if err != nil {
		return err
	}
	es, ok := s.deps.Store.(interface {
		HostEvents(host string, limit int) ([]model.Event, error)
	})
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "this dashd keeps no fleet events")
	}
	all, err := es.HostEvents(h.Info.Name, maxEventScan)
	if err != nil {
		return internal(err)
	}
	var out []model.Event
	var next *uint64
	for i := len(all) - 1; i >= 0; i-- {
		e := all[i]
		if q.before != 0 && e.ID >= q.before {
			continue
		}
		if !q.keep(e) {
			continue
		}
		if len(out) == q.limit {
			id := out[len(out)-1].ID
			next = &id
			break
		}
		out = append(out, e)
	}
	return c.JSON(struct {
		Host string `json:"host"`
		eventsPage
	}{h.Info.Name, eventsPage{Events: mapSlice(out, newEventJSON), Count: len(out), Next: next}})
}
