package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/model"
)

// certDaysKey is the Values key under which checks report the days left on
// the certificate they saw.
const certDaysKey = "cert_days_left"

// checksPart exports the latest state of every check, labelled by check
// name and type (see the package documentation for the state encoding).
//
// # When it fails
//
// Practically never: the source is the Runner's memory and always
// answers. No checks configured is an empty answer, not a failure. A
// check that is down, unknown or has not run yet is a value
// (dashd_check_state), never a failed scrape. It fails (success 0) only on
// a panic or a source that does not answer in time (a Runner lock held
// too long), which scrape.go handles for every part.
type checksPart struct {
	src ChecksSource

	up, state, latency, certExpiry, flapping *prometheus.Desc
}

func newChecksPart(src ChecksSource) *checksPart {
	l := []string{"check", "type"}
	return &checksPart{
		src:        src,
		up:         desc("dashd_check_up", "1 when the check's state is up, 0 otherwise (degraded, down or unknown).", l...),
		state:      desc("dashd_check_state", "The check's state by severity: 0 up, 1 unknown, 2 degraded, 3 down.", l...),
		latency:    desc("dashd_check_latency_seconds", "Latency the check's last run measured.", l...),
		certExpiry: desc("dashd_check_certificate_expiry_seconds", "Seconds until the certificate the check saw expires (negative: expired).", l...),
		flapping:   desc("dashd_check_flapping", "1 when the check changed state often recently.", l...),
	}
}

func (p *checksPart) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.up, p.state, p.latency, p.certExpiry, p.flapping} {
		ch <- d
	}
}

// collect exports each check once: names are unique in a valid
// configuration, and a duplicate series would fail the whole scrape.
func (p *checksPart) collect(s *sink) error {
	seen := map[string]bool{}
	for _, st := range p.src.Statuses() {
		if seen[st.Name] {
			continue
		}
		seen[st.Name] = true
		l := []string{st.Name, st.Type}
		s.gauge(p.up, boolValue(st.State == model.StateUp), l...)
		s.gauge(p.state, stateValue(st.State), l...)
		s.gauge(p.flapping, boolValue(st.Flapping), l...)
		if !st.LastCheck.IsZero() {
			s.gauge(p.latency, st.Latency.Seconds(), l...)
		}
		if days, ok := st.Values[certDaysKey]; ok {
			s.gauge(p.certExpiry, days*86400, l...)
		}
	}
	return nil
}

// stateValue is the exported encoding of a check state, written out rather
// than taken from model.State's numbering: dashboards and alerts depend on
// these numbers, so a reordering in model must not change them silently.
// A state this package does not know is exported as unknown.
func stateValue(st model.State) float64 {
	switch st {
	case model.StateUp:
		return 0
	case model.StateDegraded:
		return 2
	case model.StateDown:
		return 3
	default:
		return 1
	}
}

// boolValue is 1 for true and 0 for false.
func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
