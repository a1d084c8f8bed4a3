package server

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/view"
)

// Badges of a fleet host's checks live under the host, like every
// host-scoped route: /hosts/{host}/badge/{check}.svg (state) and
// /hosts/{host}/badge/{check}/latency.svg (the latest run's latency).
// For the hub's own name they are today's /badge/... routes. The path
// form keeps today's badge URLs and their parameters unchanged. Uptime
// badges of agents' checks wait for the hub's per-host uptime counters.

// fleetBadgeRoutes registers the hosts' badges.
func (s *Server) fleetBadgeRoutes() {
	badges := s.allow("badges", auth.ReadAPI)
	s.app.Use("/hosts/:host/badge", s.cors)
	s.app.Get("/hosts/:host/badge/:check.svg", badges, s.hostBadge(kindState, s.handleStateBadge))
	s.app.Get("/hosts/:host/badge/:check/latency.svg", badges, s.hostBadge(kindLatency, s.handleLatencyBadge))
}

// hostBadge serves one kind of badge for a host's check: local for the
// hub's own host, else from the agent's newest state. An unknown host and
// an unknown check look the same (a grey "not found"), as today's do.
func (s *Server) hostBadge(kind badgeKind, local fiber.Handler) fiber.Handler {
	return func(c *fiber.Ctx) error {
		o, err := parseBadgeOptions(c)
		if err != nil {
			return err
		}
		host, err := hostParam(c)
		if err != nil {
			return err
		}
		name, err := pathParam(c, "check")
		if err != nil {
			return err
		}
		f, own, known := s.hostScope(host)
		if own {
			if !known {
				return s.sendMissingBadge(c, o, name, false)
			}
			return local(c)
		}
		if c.Query("window") != "" {
			return fiber.NewError(fiber.StatusBadRequest, "window: not offered for fleet hosts' badges yet")
		}
		h, err := f.Host(host)
		if errors.Is(err, view.ErrNoHost) {
			return s.sendMissingBadge(c, o, name, false)
		}
		if err != nil {
			return internal(err)
		}
		for _, st := range h.Statuses {
			if st.Name != name {
				continue
			}
			b, err := s.buildBadge(badgeSpec{kind: kind}, st, o)
			if err != nil {
				return internal(fmt.Errorf("server: %s badge of %q on %q: %w", kind, name, host, err))
			}
			return s.sendBadge(c, kind, b, o)
		}
		return s.sendMissingBadge(c, o, name, false)
	}
}
