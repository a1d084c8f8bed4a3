package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is dashd's /metrics: a registry of its own (never the global
// default one, so two daemons in one test binary do not collide) holding
// one collector per subsystem. It is safe for concurrent scrapes and owns
// no goroutine between scrapes.
type Metrics struct {
	reg     *prometheus.Registry
	handler http.Handler
}

// The names of the parts, as the scrape series label them.
const (
	partHost    = "host"
	partNode    = "node"
	partChecks  = "checks"
	partHub     = "hub"
	partHTTP    = "http"
	partStorage = "storage"
	partFlow    = "flow"
	partAlerts  = "alerts"
	partFleet   = "fleet"
)

// New builds the registry over src. It refuses a missing source with
// ErrMissingSource (all of them at once, joined), and fails if the
// collectors' descriptors conflict (a bug caught at start, not at a scrape).
func New(src Sources) (*Metrics, error) {
	return newMetrics(src, partTimeout)
}

// newMetrics is New with the parts' time limit (tests shorten it).
func newMetrics(src Sources, timeout time.Duration) (*Metrics, error) {
	if err := src.validate(); err != nil {
		return nil, err
	}
	log := src.Logger
	if log == nil {
		log = slog.Default()
	}
	cs, err := collectorsFor(src, log, timeout)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: register collector: %w", err)
		}
	}
	g := gatherer{reg: reg}
	if src.TextfileDirectory != "" {
		g.tf = &textfile{dir: src.TextfileDirectory, log: log, timeout: timeout}
	}
	return &Metrics{
		reg: reg,
		handler: promhttp.HandlerFor(g, promhttp.HandlerOpts{
			// As node_exporter does: one bad metric must not blank the
			// whole scrape; the error is logged.
			ErrorHandling: promhttp.ContinueOnError,
			ErrorLog:      promLogger{log},
			// Prometheus asks for OpenMetrics (Accept:
			// application/openmetrics-text); anyone else gets the text
			// format.
			EnableOpenMetrics: true,
		}),
	}, nil
}

// collectorsFor builds every collector over src: the self collectors,
// then one scrapeCollector per part. This is the one list of parts.
func collectorsFor(src Sources, log *slog.Logger, timeout time.Duration) ([]prometheus.Collector, error) {
	cs, err := selfCollectors(src.Version)
	if err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		part part
	}{
		{partHost, newHostPart(src.Host)},
		{partNode, newNodePart(src.Host)},
		{partChecks, newChecksPart(src.Checks)},
		{partHub, newHubPart(src.Hub)},
		{partHTTP, newHTTPPart(src.Listener)},
		{partStorage, newStoragePart(src.Storage)},
		{partFlow, newFlowPart(src.Flow)},
		{partAlerts, newAlertsPart(src.Alerts)},
		{partFleet, newFleetPart(src.Storage)},
	} {
		cs = append(cs, newScrapeCollector(p.name, p.part, log, timeout))
	}
	return cs, nil
}

// Handler serves the registry (GET /metrics): the Prometheus text format,
// or OpenMetrics when the scraper's Accept header asks for it, gzipped
// when asked. It answers 200 with what could be read even when a part
// fails (see the package documentation). Under fiber, mount it with
// adaptor.HTTPHandler: the adaptor buffers the whole response, which is
// fine for a scrape.
func (m *Metrics) Handler() http.Handler { return m.handler }

// promLogger adapts slog to promhttp's Println logger.
type promLogger struct{ log *slog.Logger }

// Println logs a gather or encoding error.
func (l promLogger) Println(v ...any) {
	l.log.Error("metrics: gather failed", "err", fmt.Sprint(v...))
}
