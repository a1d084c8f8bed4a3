package server

import (
	"fmt"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/badge"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/window"
)

// defaultUptimeWindow is the uptime window of a shields.json request that
// names none (the SVG route always names one in its path).
const defaultUptimeWindow = "24h"

// badgeSpec is which badge a request asks for: a kind and, for uptime and
// an averaged latency, the window. It is decided by resolveBadge alone, so
// the SVG routes and shields.json show the same badge for the same question.
type badgeSpec struct {
	kind   badgeKind     // kindState, kindUptime or kindLatency
	window window.Window // zero for state and for the latest latency
}

// resolveBadge decides which badge a request asks for from the kind
// ("state", "uptime" or "latency"; empty means state) and the window name
// (empty means none: uptime then takes defaultUptimeWindow). Uptime accepts
// every window of the table, latency only window.Latency(), and state none:
// a window it could not honour is a 400, never silently ignored.
func resolveBadge(kind, win string) (badgeSpec, error) {
	switch badgeKind(kind) {
	case kindState, "":
		if win != "" {
			return badgeSpec{}, fiber.NewError(fiber.StatusBadRequest,
				fmt.Sprintf("window: the state badge shows the current state and takes no window (got %q)", win))
		}
		return badgeSpec{kind: kindState}, nil
	case kindUptime:
		if win == "" {
			win = defaultUptimeWindow
		}
		w, err := parseBadgeWindow(window.All(), win)
		return badgeSpec{kind: kindUptime, window: w}, err
	case kindLatency:
		if win == "" {
			return badgeSpec{kind: kindLatency}, nil
		}
		w, err := parseBadgeWindow(window.Latency(), win)
		return badgeSpec{kind: kindLatency, window: w}, err
	default:
		return badgeSpec{}, fiber.NewError(fiber.StatusBadRequest,
			fmt.Sprintf("kind: %q is not %s, %s or %s", kind, kindState, kindUptime, kindLatency))
	}
}

// parseBadgeWindow finds win among ws, or answers 400 naming them.
func parseBadgeWindow(ws []window.Window, win string) (window.Window, error) {
	w, ok := window.Parse(ws, win)
	if !ok {
		return w, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("window: %q is not one of %s", win, window.Names(ws)))
	}
	return w, nil
}

// buildBadge draws spec for the check st: its label (o's, else the kind's
// default), its message and colour from the live state or storage, then o's
// colour overrides and style.
func (s *Server) buildBadge(spec badgeSpec, st collectors.Status, o badgeOptions) (badge.Badge, error) {
	var b badge.Badge
	switch spec.kind {
	case kindUptime:
		pct, err := s.uptimePercent(st.Name, spec.window.Span)
		if err != nil {
			return b, err
		}
		b = badge.UptimeBadge(o.labelOr("uptime "+spec.window.Name), pct)
	case kindLatency:
		label := "latency"
		lat := st.Latency
		if st.LastCheck.IsZero() {
			lat = -1 // not measured yet: "no data", not "0 ms"
		}
		if spec.window.Span > 0 {
			label += " " + spec.window.Name
			var err error
			if lat, err = s.averageLatency(st.Name, spec.window.Span); err != nil {
				return b, err
			}
		}
		b = badge.LatencyBadge(o.labelOr(label), lat, s.deps.LatencyThresholds)
	default:
		b = badge.StateBadge(o.labelOr(st.Name), st.State)
	}
	return o.apply(b), nil
}

// serveBadge answers one badge request, SVG or (shields) the shields.io
// JSON: options, then which badge (resolveBadge), then the check, then the
// badge itself. Every badge route goes through it.
func (s *Server) serveBadge(c *fiber.Ctx, kind, win string, shields bool) error {
	o, err := parseBadgeOptions(c)
	if err != nil {
		return err
	}
	spec, err := resolveBadge(kind, win)
	if err != nil {
		return err
	}
	st, name, ok, err := s.badgeCheck(c)
	if err != nil {
		return err
	}
	if !ok {
		return s.sendMissingBadge(c, o, name, shields)
	}
	b, err := s.buildBadge(spec, st, o)
	if err != nil {
		return internal(fmt.Errorf("server: %s badge of %q: %w", spec.kind, st.Name, err))
	}
	format := spec.kind
	if shields {
		format = kindShields
	}
	return s.sendBadge(c, format, b, o)
}
