package server

import (
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
	"github.com/dashd/dashd/window"
)

// handleCheckPage serves /checks/{name}?range=24h.
func (s *Server) handleCheckPage(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "bad check name in URL")
	}
	rng := c.Query("range")
	if err := checkRange(rng); err != nil {
		return err
	}
	v, err := s.checkPage(name, rng)
	if err != nil {
		return err
	}
	sid := s.session(c)
	stream := "/api/events?check=" + url.QueryEscape(name)
	ch := s.chrome(c, sid, "check", stream)
	ch.Heading = name
	return s.renderPage(c, ui.CheckDetailPage(s.page(), ch, v))
}

// checkPage builds a check's page view: 404 for an unknown check, 500 when
// its history cannot be read.
func (s *Server) checkPage(name, rng string) (ui.CheckDetailView, error) {
	st, ok := s.deps.Checks.Status(name)
	if !ok {
		return ui.CheckDetailView{}, fiber.NewError(fiber.StatusNotFound, "no check named "+name)
	}
	var source string
	if cfg := s.deps.Latest.Config(); cfg != nil {
		if c, ok := cfg.Check(name); ok {
			source = c.Source
		}
	}
	v, err := view.CheckPage(s.deps.Store, st, source, rng, s.now())
	if err != nil {
		return v, internal(err)
	}
	return v, nil
}

// checkRange refuses a chart range the check page does not offer (empty
// means the default); the page's query and its stream's signal say the same.
func checkRange(rng string) error {
	if _, ok := window.Parse(window.Chart(), rng); rng != "" && !ok {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("range: %q is not one of %s", rng, window.Names(window.Chart())))
	}
	return nil
}
