package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// handlePollStatus answers GET /api/status, which pages poll with
// data-on-interval__duration.5s="@get('/api/status')", with one Datastar
// event that morphs the overall status badge. The response is complete when
// the handler returns, so the client sees a clean end and does not retry.
func (s *Server) handlePollStatus(c *fiber.Ctx) error {
	o := view.Overall(s.deps.Checks.Statuses())
	return s.sendFragment(c, hub.PatchComponent(c.UserContext(), ui.StatusBadge(o)))
}

// handlePollCheck answers GET /api/checks/{check}/status with a morph of the
// check's badge (element id ui.CheckBadgeID(name)). Unlike the public SVG
// badges this is the dashboard's own view, so checks with badge: false are
// served too.
func (s *Server) handlePollCheck(c *fiber.Ctx) error {
	st, err := s.lookupCheck(c)
	if err != nil {
		return err
	}
	v := ui.CheckBadgeView{Name: st.Name, State: st.State, Reason: st.Reason, Latency: st.Latency}
	return s.sendFragment(c, hub.PatchComponent(c.UserContext(), ui.CheckBadge(v)))
}

func (s *Server) sendFragment(c *fiber.Ctx, ev hub.Event) error {
	if err := ev.Err(); err != nil {
		return internal(err)
	}
	return hub.SSE(c).Send(ev)
}
