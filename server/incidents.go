package server

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// Incidents is what the incident pages, the API and the status page read
// and what people do to incidents (an *incident.Manager).
type Incidents interface {
	Get(id uint64) (model.Incident, error)
	List(before uint64, limit int) ([]model.Incident, error)
	Open() []model.Incident
	Entries(id, after uint64, limit int) ([]model.IncidentEntry, error)
	Stats(check string, window time.Duration) (incident.Stats, error)
	Ack(ctx context.Context, id uint64, user, addr string) error
	Note(ctx context.Context, id uint64, user, addr, text string, public bool) error
	Chat(ctx context.Context, id uint64, user, addr, text string) error
	Resolve(ctx context.Context, id uint64, user, addr, summary string) error
	Hold(ctx context.Context, id uint64, user, addr string, held bool) error
}

// Incident pages.
const (
	// incidentsPerPage is how many incidents /incidents lists per page.
	incidentsPerPage = 25
	// incidentPageEntries is how many of an incident's newest entries its
	// page shows; the API pages through all of them.
	incidentPageEntries = 500
)

// incidentRoutes registers the incident pages, their streams, what
// responders do, and the incident API (issue #16). Reading needs View
// (API: ReadAPI); acknowledging, notes, holding and resolving need
// Acknowledge (operators, and write tokens); the incident's chat needs
// Chat, like the other chat rooms.
func (s *Server) incidentRoutes() {
	read := s.allow("", auth.View)
	// The literal paths before :id, which would take them.
	s.app.Get("/incidents", read, s.handleIncidentsPage)
	s.app.Get("/incidents/events", read, s.handleIncidentsEvents)
	s.app.Get("/incidents/:id", read, s.handleIncidentPage)
	s.app.Get("/incidents/:id/events", read, s.handleIncidentEvents)
	s.post("/incidents/:id/ack", auth.Acknowledge, s.incidentAction(s.ackIncident, false))
	s.post("/incidents/:id/note", auth.Acknowledge, s.incidentAction(s.noteIncident, true))
	s.post("/incidents/:id/resolve", auth.Acknowledge, s.incidentAction(s.resolveIncident, false))
	s.post("/incidents/:id/hold", auth.Acknowledge, s.incidentAction(s.holdIncident(true), false))
	s.post("/incidents/:id/release", auth.Acknowledge, s.incidentAction(s.holdIncident(false), false))
	s.post("/incidents/:id/chat", auth.Chat, s.incidentAction(s.chatIncident, true))
	s.app.Get("/checks/:check/incidents", read, s.handleCheckIncidents)

	api := s.allow("api", auth.ReadAPI)
	s.app.Get("/api/v1/incidents", api, queryParams("before", "limit", "state"), s.handleAPIIncidents)
	s.app.Get("/api/v1/incidents/:id", api, queryParams("after", "limit"), s.handleAPIIncident)
}

// incidentID reads the :id parameter: 400 when it is not an incident
// number.
func incidentID(c *fiber.Ctx) (uint64, error) {
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil || id == 0 {
		return 0, fiber.NewError(fiber.StatusBadRequest, "incident id: a whole number from 1, as in /incidents/3")
	}
	return id, nil
}

// handleIncidentsPage serves /incidents?before=ID.
func (s *Server) handleIncidentsPage(c *fiber.Ctx) error {
	before, err := parseUintParam("before", c.Query("before"), 0, 0, math.MaxUint64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	page, next, err := s.incidentPage(before, incidentsPerPage)
	if err != nil {
		return s.incidentError(err)
	}
	sid := s.session(c)
	ch := s.chrome(c, sid, "incidents", "/incidents/events")
	ch.Heading = "Incidents"
	v := view.IncidentList(s.deps.Incidents.Open(), page, before, next, s.now())
	return s.renderPage(c, ui.IncidentListPage(s.page(), ch, v))
}

// incidentPage reads up to limit incidents below before, newest first,
// and the before= of the next page (0 when there is none).
func (s *Server) incidentPage(before uint64, limit int) ([]model.Incident, uint64, error) {
	// One more than shown tells whether another page exists.
	incs, err := s.deps.Incidents.List(before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	if len(incs) <= limit {
		return incs, 0, nil
	}
	incs = incs[:limit]
	return incs, incs[len(incs)-1].ID, nil
}

// handleIncidentsEvents is the incidents page's stream: the banner of open
// incidents, kept live by the Manager (view.RoomIncidents), and the
// session.
func (s *Server) handleIncidentsEvents(c *fiber.Ctx) error {
	sid := s.session(c)
	return s.deps.Hub.HandleSSE(c, hub.WithSession(sid), hub.WithAddress(c.IP()), hub.WithRoom(view.RoomIncidents),
		hub.OnConnect(func(send func(...hub.Event)) {
			send(view.IncidentsState(context.Background(), view.IncidentRows(s.deps.Incidents.Open(), s.now()))...)
		}), s.liveSession(sid))
}

// liveSession is the last hook of a page's stream: the session's
// notifications, then "Live" once the page has the whole state.
func (s *Server) liveSession(sid string) hub.ClientOption {
	return hub.OnConnect(func(send func(...hub.Event)) {
		send(s.sessionState(sid)...)
		send(hub.PatchSignals(map[string]bool{"_live": true}))
	})
}

// handleIncidentPage serves /incidents/{id}.
func (s *Server) handleIncidentPage(c *fiber.Ctx) error {
	id, err := incidentID(c)
	if err != nil {
		return err
	}
	v, err := s.incidentView(id)
	if err != nil {
		return s.incidentError(err)
	}
	p := principal(c)
	v.CanAct, v.CanChat, v.MaxText = p.Can(auth.Acknowledge), p.Can(auth.Chat), incident.MaxText
	sid := s.session(c)
	ch := s.chrome(c, sid, "incidents", v.Incident.URL()+"/events")
	ch.Heading = "Incident #" + strconv.FormatUint(id, 10)
	return s.renderPage(c, ui.IncidentPage(s.page(), ch, v))
}

// incidentView reads an incident and its newest entries for its page.
func (s *Server) incidentView(id uint64) (ui.IncidentPageView, error) {
	inc, err := s.deps.Incidents.Get(id)
	if err != nil {
		return ui.IncidentPageView{}, err
	}
	var hidden uint64
	if inc.Entries > incidentPageEntries {
		hidden = inc.Entries - incidentPageEntries
	}
	es, err := s.deps.Incidents.Entries(id, hidden, incidentPageEntries)
	if err != nil {
		return ui.IncidentPageView{}, err
	}
	return view.IncidentPage(inc, es, hidden, s.now()), nil
}

// handleIncidentEvents is an incident page's stream: its room (new
// entries, header changes, its chat) and the session. Every (re)connect
// starts from the incident as stored.
func (s *Server) handleIncidentEvents(c *fiber.Ctx) error {
	id, err := incidentID(c)
	if err != nil {
		return err
	}
	if _, err := s.deps.Incidents.Get(id); err != nil {
		return s.incidentError(err)
	}
	sid := s.session(c)
	return s.deps.Hub.HandleSSE(c, hub.WithSession(sid), hub.WithAddress(c.IP()), hub.WithRoom(view.IncidentRoom(id)),
		hub.OnConnect(func(send func(...hub.Event)) {
			v, err := s.incidentView(id)
			if err != nil {
				s.log.Warn("incident state", "incident", id, "err", err)
				return
			}
			send(view.IncidentState(context.Background(), v)...)
		}), s.liveSession(sid))
}
