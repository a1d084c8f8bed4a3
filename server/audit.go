package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// auditScan bounds the events read to find audit entries: they are
// events among others, and a page shows the recent ones.
const (
	auditScan  = 5000
	auditShown = 200
)

// auditRoutes registers the admin-only audit log, as a page and in the API.
func (s *Server) auditRoutes() {
	admin := s.allow("", auth.Admin)
	s.app.Get("/audit", admin, s.handleAuditPage)
	s.app.Get("/api/v1/audit", admin, queryParams(), s.handleAPIAudit)
}

// auditEvents returns the recent events of what people did: sign-ins
// (and failures), sign-outs, silences, acknowledgements.
func (s *Server) auditEvents() ([]model.Event, error) {
	evs, err := s.deps.Store.Events(0, auditScan)
	if err != nil {
		return nil, err
	}
	out := []model.Event{}
	for _, e := range evs {
		if e.Kind == model.EventAudit || e.Kind == model.EventSilence || e.User != "" {
			out = append(out, e)
			if len(out) == auditShown {
				break
			}
		}
	}
	return out, nil
}

func (s *Server) handleAuditPage(c *fiber.Ctx) error {
	evs, err := s.auditEvents()
	if err != nil {
		return internal(err)
	}
	now := s.now()
	rows := make([]ui.AuditRow, 0, len(evs))
	for _, e := range evs {
		rows = append(rows, ui.AuditRow{At: e.Time, When: ui.FormatWhen(e.Time, now), User: e.User, Address: e.Address, What: e.Reason})
	}
	sid := s.session(c)
	ch := s.chrome(c, sid, "audit", "")
	ch.Heading = "Audit log"
	return s.renderPage(c, ui.AuditPage(s.page(), ch, rows))
}

func (s *Server) handleAPIAudit(c *fiber.Ctx) error {
	evs, err := s.auditEvents()
	if err != nil {
		return internal(err)
	}
	// The events' own shape (eventJSON): the state change only on the
	// kinds that change a state.
	out := mapSlice(evs, newEventJSON)
	return c.JSON(fiber.Map{"events": out, "count": len(out)})
}
