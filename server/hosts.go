package server

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/storage"
)

// HostLister is the part of storage that lists the fleet's hosts (a
// *storage.DB is one). A hub's Store has it; /api/v1/hosts answers 404
// for a Store without it.
type HostLister interface {
	Hosts() ([]storage.HostInfo, error)
}

// fleetHostJSON is one host in /api/v1/hosts.
type fleetHostJSON struct {
	Name     string            `json:"name"`
	State    string            `json:"state"` // "up" or "unreachable"
	OS       string            `json:"os,omitempty"`
	Kernel   string            `json:"kernel,omitempty"`
	Version  string            `json:"version,omitempty"`
	Labels   map[string]string `json:"labels"`
	Interval float64           `json:"interval_seconds,omitempty"`
	// LastSeen is when the hub last heard from the host; Ago the seconds
	// since, by the server's clock.
	LastSeen         time.Time  `json:"last_seen_at"`
	Ago              float64    `json:"last_seen_seconds_ago"`
	FirstSeen        time.Time  `json:"first_seen_at"`
	UnreachableSince *time.Time `json:"unreachable_at,omitempty"`
	// Hub marks the hub's own host (listed first, from its live state).
	Hub bool `json:"hub,omitempty"`
}

// hostRoutes registers the fleet: the host list and the host-scoped API
// (fleet_api.go), the fleet pages and streams (fleet.go) and the hosts'
// badges (fleet_badges.go).
func (s *Server) hostRoutes() {
	s.app.Get("/api/v1/hosts", s.allow("api", auth.ReadAPI), queryParams(), s.handleAPIHosts)
	s.fleetAPIRoutes()
	s.fleetRoutes()
	s.fleetBadgeRoutes()
}

// handleAPIHosts lists every host: the hub's own first (hub: true, from
// its live state), then every host the hub has heard from, by name, with
// its labels, when it was last seen and whether it is unreachable (the
// registry's verdict, stored when it changes).
func (s *Server) handleAPIHosts(c *fiber.Ctx) error {
	hl, ok := s.deps.Store.(HostLister)
	if !ok {
		return fiber.NewError(fiber.StatusNotFound, "this dashd keeps no fleet hosts")
	}
	hosts, err := hl.Hosts()
	if err != nil {
		return internal(err)
	}
	local := s.deps.Hostname
	if f := s.fleet(); f != nil {
		local = f.LocalName()
	}
	out := make([]fleetHostJSON, 0, len(hosts)+1)
	out = append(out, s.localHostJSON(local))
	for _, h := range hosts {
		if h.Name != local {
			out = append(out, s.hostJSON(h))
		}
	}
	return c.JSON(fiber.Map{"hosts": out, "count": len(out)})
}

// localHostJSON is the hub's own host in the list.
func (s *Server) localHostJSON(name string) fleetHostJSON {
	info := storage.HostInfo{Name: name, Version: s.deps.Version, FirstSeen: s.deps.Latest.StartedAt()}
	if cfg := s.deps.Latest.Config(); cfg != nil && cfg.Fleet != nil {
		info.Labels = cfg.Fleet.Labels
	}
	if snap, ok := s.deps.Latest.System(); ok {
		info.LastSeen = snap.Time
		if snap.Host != nil {
			info.OS, info.Kernel = snap.Host.OS, snap.Host.Kernel
		}
	}
	j := s.hostJSON(info)
	j.Hub = true
	return j
}

// hostJSON is one host record in the API's vocabulary.
func (s *Server) hostJSON(h storage.HostInfo) fleetHostJSON {
	j := fleetHostJSON{Name: h.Name, State: "up", OS: h.OS, Kernel: h.Kernel, Version: h.Version, Labels: h.Labels,
		Interval: h.Interval.Seconds(), LastSeen: h.LastSeen, FirstSeen: h.FirstSeen,
		Ago: max(0, s.now().Sub(h.LastSeen).Round(time.Millisecond).Seconds())}
	if j.Labels == nil {
		j.Labels = map[string]string{}
	}
	if !h.UnreachableSince.IsZero() {
		since := h.UnreachableSince
		j.State, j.UnreachableSince = "unreachable", &since
	}
	return j
}
