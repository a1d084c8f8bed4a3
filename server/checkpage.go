package server

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/scheduler"
	"github.com/dashd/dashd/ui"
)

// handleCheckPage serves /checks/{name}?range=24h.
func (s *Server) handleCheckPage(c *fiber.Ctx) error {
	if err := s.uiReady(); err != nil {
		return err
	}
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "bad check name in URL")
	}
	rng := c.Query("range")
	if err := checkRange(rng); err != nil {
		return err
	}
	v, err := s.deps.Scheduler.CheckDetail(name, rng)
	if errors.Is(err, scheduler.ErrNoCheck) {
		return fiber.NewError(fiber.StatusNotFound, "no check named "+name)
	}
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	stream := "/api/events?check=" + url.QueryEscape(name)
	ch := s.chrome(c, sid, "check", stream)
	ch.Heading = name
	return s.renderPage(c, ui.CheckDetailPage(s.page(), ch, v))
}

// checkRange refuses a chart range the check page does not offer (empty
// means the default); the page's query and its stream's signal say the same.
func checkRange(rng string) error {
	if _, ok := scheduler.ChartRanges[rng]; rng != "" && !ok {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("range: %q is not one of 1h, 24h, 7d, 30d", rng))
	}
	return nil
}
