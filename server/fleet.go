package server

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/fleetview"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// The fleet in the browser: on a hub with at least one agent, / is the
// overview and /hosts/{host} each host's dashboard; the hub's own host
// keeps today's pages (/hosts/{hub} is its dashboard, /checks/{name} its
// checks). A dashd without agents serves none of the fleet pages (404).

// fleet is the fleet reader of this server, nil when the Store keeps no
// fleet hosts. It is cheap to build: handlers build one per request.
func (s *Server) fleet() *fleetview.Fleet {
	st, ok := s.deps.Store.(fleetview.Store)
	if !ok {
		return nil
	}
	f, err := fleetview.New(fleetview.Options{Store: st, Latest: s.deps.Latest, Checks: s.deps.Checks, Hub: s.deps.Hub,
		Hostname: s.deps.Hostname, Version: s.deps.Version, Now: s.deps.Now, Logger: s.log.With("part", "fleet-pages")})
	if err != nil {
		return nil
	}
	return f
}

// hostScope tells what a host-scoped route serves for host: an agent
// (local false, with the fleet reader), or this dashd's own host (local;
// known false when a dashd without agents is asked for another name).
func (s *Server) hostScope(host string) (f *fleetview.Fleet, local, known bool) {
	if f = s.fleet(); f == nil {
		return nil, true, host == s.deps.Hostname
	}
	return f, host == f.LocalName(), true
}

// agentPage routes a host-scoped page: local for this dashd's own host,
// agent (with the fleet reader and the host's name) for another one, and
// a 404 when a dashd without agents is asked for a name not its own.
func (s *Server) agentPage(local fiber.Handler, agent func(c *fiber.Ctx, f *fleetview.Fleet, host string) error) fiber.Handler {
	return func(c *fiber.Ctx) error {
		host, err := hostParam(c)
		if err != nil {
			return err
		}
		f, own, known := s.hostScope(host)
		switch {
		case own && !known:
			return fiber.NewError(fiber.StatusNotFound, "no host named "+quoteHost(host))
		case own:
			return local(c)
		}
		return agent(c, f, host)
	}
}

// fleetRoutes registers the fleet's pages and streams.
func (s *Server) fleetRoutes() {
	view := s.allow("", auth.View)
	s.app.Get("/api/fleet/events", view, s.handleFleetEvents)
	s.app.Get("/hosts/:host", view, s.agentPage(s.handleLocalDashboard, s.handleHostPage))
	s.app.Get("/hosts/:host/events", view, s.handleHostEvents)
	s.app.Get("/hosts/:host/checks/:name", view, s.agentPage(s.handleCheckPage, s.handleHostCheckPage))
	s.app.Get("/hosts/:host/checks/:check/incidents", view, s.agentPage(s.handleCheckIncidents, s.handleHostCheckIncidents))
}

// isFleet reports whether / is the fleet overview: the Store keeps
// fleet hosts and at least one agent is known besides the hub.
func (s *Server) isFleet() bool {
	f := s.fleet()
	if f == nil {
		return false
	}
	ok, err := f.IsFleet()
	if err != nil {
		s.log.Warn("fleet hosts not read; showing this host's dashboard", "err", err)
	}
	return ok
}

// labelFilters reads ?label= (repeatable), 400 when malformed.
func labelFilters(c *fiber.Ctx) ([]view.LabelFilter, error) {
	var vals []string
	for _, v := range c.Context().QueryArgs().PeekMulti("label") {
		vals = append(vals, string(v))
	}
	f, err := view.ParseLabelFilters(vals)
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return f, nil
}

// handleFleetOverview serves / on a hub with agents.
func (s *Server) handleFleetOverview(c *fiber.Ctx, f *fleetview.Fleet) error {
	if err := unknownParam(queryKeys(c), []string{"label"}); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	filter, err := labelFilters(c)
	if err != nil {
		return err
	}
	v, err := f.Overview(filter)
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	stream := "/api/fleet/events"
	if q := c.Context().QueryArgs().QueryString(); len(q) > 0 {
		stream += "?" + string(q)
	}
	ch := s.chrome(c, sid, "dashboard", stream)
	ch.Heading = "Fleet"
	return s.renderPage(c, ui.FleetPage(s.page(), ch, v))
}

// handleFleetEvents is the overview's stream: room fleetview.OverviewRoom
// of its filter, and the session.
func (s *Server) handleFleetEvents(c *fiber.Ctx) error {
	f := s.fleet()
	if f == nil {
		return fiber.NewError(fiber.StatusNotFound, "this dashd keeps no fleet hosts")
	}
	if err := unknownParam(queryKeys(c), []string{"label", "datastar"}); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	filter, err := labelFilters(c)
	if err != nil {
		return err
	}
	return s.fleetStream(c, fleetview.OverviewRoom(filter), func(send func(...hub.Event)) {
		v, err := f.Overview(filter)
		if err != nil {
			s.log.Warn("fleet overview state", "err", err)
			return
		}
		send(fleetview.OverviewState(context.Background(), v)...)
	})
}

// fleetStream serves one fleet page's stream in room, with the session's
// notifications, starting with state.
func (s *Server) fleetStream(c *fiber.Ctx, room string, state func(send func(...hub.Event))) error {
	sid := s.session(c)
	return s.deps.Hub.HandleSSE(c, hub.WithSession(sid), hub.WithRoom(room), hub.OnConnect(state),
		hub.OnConnect(func(send func(...hub.Event)) {
			send(s.sessionState(sid)...)
			send(hub.PatchSignals(map[string]bool{"_live": true}))
		}), hub.WithAddress(c.IP()))
}

// hostParam is the {host} of a fleet route, decoded and bounded.
func hostParam(c *fiber.Ctx) (string, error) {
	h, err := pathParam(c, "host")
	if err != nil {
		return "", err
	}
	if h == "" || len(h) > 63 || strings.ContainsAny(h, "/\x00") {
		return "", fiber.NewError(fiber.StatusNotFound, "no host named "+quoteHost(h))
	}
	return h, nil
}

// handleHostPage serves /hosts/{host} for an agent (agentPage serves
// the hub's own name with its dashboard).
func (s *Server) handleHostPage(c *fiber.Ctx, f *fleetview.Fleet, host string) error {
	if err := unknownParam(queryKeys(c), nil); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	v, err := f.HostPage(host)
	if errors.Is(err, view.ErrNoHost) {
		return fiber.NewError(fiber.StatusNotFound, "no host named "+quoteHost(host))
	}
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	ch := s.chrome(c, sid, "dashboard", ui.FleetHostHref(host)+"/events")
	ch.Heading = host
	return s.renderPage(c, ui.FleetHostPage(s.page(), ch, v))
}

// handleHostEvents is an agent's page stream: room fleetview.HostRoom;
// with ?check=NAME that check's page stream (hostCheckEvents).
func (s *Server) handleHostEvents(c *fiber.Ctx) error {
	host, err := hostParam(c)
	if err != nil {
		return err
	}
	if err := unknownParam(queryKeys(c), []string{"check", "datastar"}); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	f := s.fleet()
	if f == nil {
		return fiber.NewError(fiber.StatusNotFound, "this dashd keeps no fleet hosts")
	}
	h, err := f.Host(host)
	if err != nil {
		if errors.Is(err, view.ErrNoHost) {
			return fiber.NewError(fiber.StatusNotFound, "no fleet host named "+quoteHost(host))
		}
		return internal(err)
	}
	host = strings.Clone(host)
	if c.Context().QueryArgs().Has("check") {
		return s.hostCheckEvents(c, f, h, c.Query("check"))
	}
	return s.fleetStream(c, fleetview.HostRoom(host), func(send func(...hub.Event)) {
		v, err := f.HostPage(host)
		if err != nil {
			s.log.Warn("fleet host state", "host", host, "err", err)
			return
		}
		send(fleetview.HostState(context.Background(), v)...)
	})
}

// hostCheckEvents is an agent's check page stream: room
// fleetview.CheckRoom of the check and of the chart range its page asks
// for (signal "range"), 404 for a check the hub has no result of.
func (s *Server) hostCheckEvents(c *fiber.Ctx, f *fleetview.Fleet, h view.FleetHost, check string) error {
	host := h.Info.Name
	known := false
	for _, st := range h.Statuses {
		known = known || st.Name == check
	}
	if !known {
		return fiber.NewError(fiber.StatusNotFound, "no check "+quoteHost(check)+" on host "+quoteHost(host))
	}
	var sig struct {
		Range string `json:"range"`
	}
	if err := hub.ReadSignals(c, &sig); err != nil {
		return err
	}
	if err := checkRange(sig.Range); err != nil {
		return err
	}
	check, rng := strings.Clone(check), strings.Clone(sig.Range)
	return s.fleetStream(c, fleetview.CheckRoom(host, check, rng), func(send func(...hub.Event)) {
		v, err := f.CheckPage(host, check, rng)
		if err != nil {
			s.log.Warn("fleet check state", "host", host, "check", check, "err", err)
			return
		}
		send(fleetview.CheckState(context.Background(), v)...)
	})
}

// handleHostCheckPage serves /hosts/{host}/checks/{name} for an agent
// (agentPage serves the hub's own name with its check page).
func (s *Server) handleHostCheckPage(c *fiber.Ctx, f *fleetview.Fleet, host string) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "bad check name in URL")
	}
	rng := c.Query("range")
	if err := checkRange(rng); err != nil {
		return err
	}
	v, err := f.CheckPage(host, name, rng)
	if errors.Is(err, view.ErrNoHost) {
		return fiber.NewError(fiber.StatusNotFound, "no check "+quoteHost(name)+" on host "+quoteHost(host))
	}
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	ch := s.chrome(c, sid, "check", ui.FleetHostHref(host)+"/events?check="+url.QueryEscape(name))
	ch.Heading = name + " on " + host
	// "Run now" runs the hub's own checks: the agent's is not one.
	ch.CanRun = false
	return s.renderPage(c, ui.FleetCheckDetailPage(s.page(), ch, host, v))
}

// handleHostCheckIncidents answers the incidents panel of a fleet host's
// check page (/checks/{check}/incidents, handleCheckIncidents, for the
// hub's own checks): the figures of the incidents about
// "<check>@<host>", the subject the hub's incidents give an agent's
// check. The hub's own name is its own check's; a host or check the hub
// has no result of is a 404.
func (s *Server) handleHostCheckIncidents(c *fiber.Ctx, f *fleetview.Fleet, host string) error {
	check, err := pathParam(c, "check")
	if err != nil {
		return err
	}
	h, err := f.Host(host)
	if errors.Is(err, view.ErrNoHost) {
		return fiber.NewError(fiber.StatusNotFound, "no fleet host named "+quoteHost(host))
	}
	if err != nil {
		return internal(err)
	}
	if !slices.ContainsFunc(h.Statuses, func(st collectors.Status) bool { return st.Name == check }) {
		return fiber.NewError(fiber.StatusNotFound, "no check "+quoteHost(check)+" on host "+quoteHost(host))
	}
	subject := incident.RemoteCheck(check, host)
	v := ui.CheckIncidentsView{Check: strings.Clone(check), Loaded: true}
	for _, w := range incidentWindows {
		figs, err := s.deps.Incidents.Stats(subject, w.span)
		if err != nil {
			s.log.Warn("incident figures not read", "host", host, "check", check, "err", err)
			v.Windows, v.Problem = nil, "The incident figures could not be read; reload to try again."
			break
		}
		v.Windows = append(v.Windows, view.IncidentStats(w.label, figs.Count, figs.Acked, figs.Resolved, figs.MTTA, figs.MTTR))
	}
	return hub.SSE(c).Send(hub.PatchComponent(c.UserContext(), ui.CheckIncidents(v)))
}
