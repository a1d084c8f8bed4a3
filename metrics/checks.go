package metrics

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/model"
)

// The Values keys under which checks report what the probe families need:
// the days left on the certificate an HTTP check saw (cert_days_left) or
// a TLS check saw (days_left, the chain's earliest), and an HTTP check's
// status code.
const (
	certDaysKey   = "cert_days_left"
	tlsDaysKey    = "days_left"
	httpStatusKey = "status"
	checkTypeHTTP = "http"
	secondsPerDay = 86400
)

// checksPart exports the latest state of every check, labelled by check
// name, group ("" when none) and type (see the package documentation for
// the state encoding), and the same runs under blackbox_exporter's names
// (probe_success, probe_duration_seconds, probe_http_status_code,
// probe_ssl_earliest_cert_expiry) so its alert rules and dashboards work
// unchanged. Prometheus adds job and instance (dashd's address) itself;
// the probed target is the check label.
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

	// blackbox_exporter's names, beside dashd's: probe.go.
	probeSuccess, probeDuration, probeHTTPStatus, probeCertExpiry *prometheus.Desc
}

func newChecksPart(src ChecksSource) *checksPart {
	l := []string{"check", "group", "type"}
	return &checksPart{
		probeSuccess:    desc("probe_success", "Whether the check's latest run succeeded (blackbox_exporter's name; 1 up or degraded, 0 down).", l...),
		probeDuration:   desc("probe_duration_seconds", "Returns how long the check's latest run took to complete in seconds.", l...),
		probeHTTPStatus: desc("probe_http_status_code", "Response HTTP status code of an HTTP check's latest run (0 when no response).", l...),
		probeCertExpiry: desc("probe_ssl_earliest_cert_expiry", "Returns last SSL chain expiry in unixtime (the certificate the check saw).", l...),
		src:             src,
		up:              desc("dashd_check_up", "1 when the check's state is up, 0 otherwise (degraded, down or unknown).", l...),
		state:           desc("dashd_check_state", "The check's state by severity: 0 up, 1 unknown, 2 degraded, 3 down.", l...),
		latency:         desc("dashd_check_latency_seconds", "Latency the check's last run measured.", l...),
		certExpiry:      desc("dashd_check_certificate_expiry_seconds", "Seconds until the certificate the check saw expires (negative: expired).", l...),
		flapping:        desc("dashd_check_flapping", "1 when the check changed state often recently.", l...),
	}
}

func (p *checksPart) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.up, p.state, p.latency, p.certExpiry, p.flapping,
		p.probeSuccess, p.probeDuration, p.probeHTTPStatus, p.probeCertExpiry} {
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
		l := []string{st.Name, st.Group, st.Type}
		s.gauge(p.up, boolValue(st.State == model.StateUp), l...)
		s.gauge(p.state, stateValue(st.State), l...)
		s.gauge(p.flapping, boolValue(st.Flapping), l...)
		days, hasCert := certDays(st.Values)
		if hasCert {
			s.gauge(p.certExpiry, days*secondsPerDay, l...)
		}
		if st.LastCheck.IsZero() {
			continue // never ran: no probe yet, as blackbox has none before a scrape
		}
		s.gauge(p.latency, st.Latency.Seconds(), l...)
		s.gauge(p.probeSuccess, boolValue(st.LastResult == model.StateUp || st.LastResult == model.StateDegraded), l...)
		s.gauge(p.probeDuration, st.Latency.Seconds(), l...)
		if st.Type == checkTypeHTTP {
			s.gauge(p.probeHTTPStatus, st.Values[httpStatusKey], l...) // 0 without a response, as blackbox
		}
		if hasCert {
			s.gauge(p.probeCertExpiry, certExpiryTime(st.LastCheck, days), l...)
		}
	}
	return nil
}

// certDays is the days left on the certificate a check saw: an HTTP
// check's cert_days_left or a TLS check's days_left.
func certDays(v map[string]float64) (float64, bool) {
	if d, ok := v[certDaysKey]; ok {
		return d, true
	}
	d, ok := v[tlsDaysKey]
	return d, ok
}

// certExpiryTime turns days left at the check's run into the expiry's
// Unix time (probe_ssl_earliest_cert_expiry), rounded to the second: the
// certificate's NotAfter has whole seconds, the days were measured from
// a moment within the run, a few milliseconds from LastCheck.
func certExpiryTime(at time.Time, days float64) float64 {
	return math.Round(float64(at.UnixNano())/1e9 + days*secondsPerDay)
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
