package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/storage"
)

// HostLister is the fleet's hosts as the hub stores them (*storage.DB):
// what the fleet part reads when the storage source has it.
type HostLister interface {
	Hosts() ([]storage.HostInfo, error)
}

// fleetPart exports dashd_fleet_hosts, dashd_fleet_host_up{host} and
// dashd_fleet_host_last_seen_timestamp_seconds{host}: one series per
// agent a hub has heard from (none on a single host or an agent).
//
// # When it fails
//
// When the hosts cannot be read from storage.
type fleetPart struct {
	src            HostLister // nil: a storage without hosts, nothing to export
	hosts, up, age *prometheus.Desc
}

func newFleetPart(st StorageSource) *fleetPart {
	src, _ := st.(HostLister)
	return &fleetPart{
		src:   src,
		hosts: desc("dashd_fleet_hosts", "Agents this hub has heard from."),
		up:    desc("dashd_fleet_host_up", "Whether an agent is heard from (1) or unreachable (0).", "host"),
		age:   desc("dashd_fleet_host_last_seen_timestamp_seconds", "When the hub last heard from an agent, as a Unix time.", "host"),
	}
}

func (p *fleetPart) describe(ch chan<- *prometheus.Desc) {
	ch <- p.hosts
	ch <- p.up
	ch <- p.age
}

func (p *fleetPart) collect(s *sink) error {
	if p.src == nil {
		return nil
	}
	hosts, err := p.src.Hosts()
	if err != nil {
		return err
	}
	s.gauge(p.hosts, float64(len(hosts)))
	for _, h := range hosts {
		up := 1.0
		if !h.UnreachableSince.IsZero() {
			up = 0
		}
		s.gauge(p.up, up, h.Name)
		if !h.LastSeen.IsZero() {
			s.gauge(p.age, float64(h.LastSeen.UnixNano())/1e9, h.Name)
		}
	}
	return nil
}
