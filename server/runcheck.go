package server

import (
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/collectors"
)

// handleRunCheck serves POST /api/v1/checks/{check}/run: the check runs at
// once (an operator confirming a fix) instead of at its next interval. The
// result arrives like any other: on the dashboard's stream and in the API.
func (s *Server) handleRunCheck(c *fiber.Ctx) error {
	name, err := pathParam(c, "check")
	if err != nil {
		return err
	}
	if err := s.deps.Checks.RunNow(name); errors.Is(err, collectors.ErrUnknownCheck) {
		return fiber.NewError(fiber.StatusNotFound, "no check named "+quoteHost(name))
	} else if err != nil {
		return internal(err)
	}
	s.audit(c, s.actor(c), "ran check "+name+" now")
	if c.Get("Datastar-Request") == "true" {
		return c.SendStatus(fiber.StatusNoContent)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"check": name, "queued": true})
}

func (s *Server) runCheckRoutes() {
	s.app.Post("/api/v1/checks/:check/run", sameOriginWrites, s.allow("", auth.RunCheck), queryParams(), s.handleRunCheck)
}

// actor names who made a request in the audit log: the signed-in user, the
// token (a machine, not a person), or in mode none the chosen name.
func (s *Server) actor(c *fiber.Ctx) string {
	switch p := principal(c); {
	case p.Via == auth.ViaToken:
		return "token " + p.Name
	case p.Name != "" && p.Via != auth.ViaNone:
		return p.Name
	}
	return s.displayName(c, s.session(c))
}
