package metrics

import (
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// partTimeout bounds how long a scrape waits for one part. The parts run
// concurrently, so a scrape takes at most about this long even with a hung
// source, well inside Prometheus' default 10 s scrape timeout.
const partTimeout = 5 * time.Second

// part is one subsystem of the scrape: what node_exporter calls a
// Collector. Its collect reads the source once and adds the metrics to s.
// An error means the source could not answer in full; what was added to s
// before it is still exported.
type part interface {
	// describe sends every descriptor the part can emit.
	describe(ch chan<- *prometheus.Desc)
	// collect reads the part's source into s.
	collect(s *sink) error
}

// sink gathers one collection's metrics. It belongs to one collection's
// goroutine: a collection that outlives its scrape writes only to its own
// sink, which nobody reads any more.
type sink struct{ ms []prometheus.Metric }

// gauge adds a gauge sample. A label count that does not match d panics:
// that is a bug, caught by the part's recover and its tests.
func (s *sink) gauge(d *prometheus.Desc, v float64, labels ...string) {
	s.ms = append(s.ms, prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...))
}

// add adds a sample of type t.
func (s *sink) add(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
	s.ms = append(s.ms, prometheus.MustNewConstMetric(d, t, v, labels...))
}

// counter adds a counter sample.
func (s *sink) counter(d *prometheus.Desc, v float64, labels ...string) {
	s.ms = append(s.ms, prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...))
}

// scrapeCollector is the prometheus.Collector of one part: it runs the
// part under a time limit and a recover, and adds the part's
// dashd_scrape_collector_duration_seconds and _success series.
//
// The scrape series' descriptors carry the part's name as a constant
// label, so each part owns distinct descriptors of the two shared families
// and the registry still checks every descriptor at registration.
type scrapeCollector struct {
	name    string
	part    part
	log     *slog.Logger
	timeout time.Duration

	duration, success *prometheus.Desc

	// failing is whether the latest collection failed: a part that keeps
	// failing logs a warning once, then at debug, and once more (info)
	// when it recovers, so a missing file does not write a line a scrape.
	failing atomic.Bool
	// stuck counts collections that outlived their scrape and have not
	// returned yet; while it is above zero the part fails at once.
	stuck atomic.Int64
}

// newScrapeCollector wraps p under the name the scrape series label it with.
func newScrapeCollector(name string, p part, log *slog.Logger, timeout time.Duration) *scrapeCollector {
	cl := prometheus.Labels{"collector": name}
	return &scrapeCollector{
		name:    name,
		part:    p,
		log:     log,
		timeout: timeout,
		duration: prometheus.NewDesc("dashd_scrape_collector_duration_seconds",
			"Seconds a part of the /metrics scrape took, by part.", nil, cl),
		success: prometheus.NewDesc("dashd_scrape_collector_success",
			"1 when a part of the /metrics scrape could read its source, 0 when it failed and its series may be missing.", nil, cl),
	}
}

// uncheckedPart is a part whose family names are only known at collection
// (the node part): its collector describes nothing at all, which makes it
// an unchecked collector for the registry, scrape series included.
type uncheckedPart interface {
	part
	unchecked()
}

// Describe implements prometheus.Collector: the part's descriptors and the
// two scrape series, or nothing for an uncheckedPart.
func (c *scrapeCollector) Describe(ch chan<- *prometheus.Desc) {
	if _, ok := c.part.(uncheckedPart); ok {
		return
	}
	c.part.describe(ch)
	ch <- c.duration
	ch <- c.success
}

// Collect implements prometheus.Collector. It never blocks for longer than
// the part's time limit, whatever the source does.
func (c *scrapeCollector) Collect(ch chan<- prometheus.Metric) {
	start := time.Now()
	ms, err := c.run()
	for _, m := range ms {
		ch <- m
	}
	ok := 1.0
	if err != nil {
		ok = 0
	}
	ch <- prometheus.MustNewConstMetric(c.duration, prometheus.GaugeValue, time.Since(start).Seconds())
	ch <- prometheus.MustNewConstMetric(c.success, prometheus.GaugeValue, ok)
	c.report(err)
}

// outcome is what one collection produced.
type outcome struct {
	ms  []prometheus.Metric
	err error
}

// run collects the part in a goroutine of its own and waits at most the
// time limit for it.
//
// Ownership: the goroutine ends when the part's collect returns. If that
// takes longer than the limit, the scrape goes on without it and the
// goroutine is counted in stuck until it ends; claimed decides, exactly
// once, whether the scrape took the result or gave up on it.
func (c *scrapeCollector) run() ([]prometheus.Metric, error) {
	if n := c.stuck.Load(); n > 0 {
		return nil, fmt.Errorf("metrics: %s: %w (%d waiting)", c.name, errPartStuck, n)
	}
	done := make(chan outcome, 1)
	var claimed atomic.Bool
	go func() {
		done <- c.collectOnce()
		if !claimed.CompareAndSwap(false, true) {
			c.stuck.Add(-1) // the scrape gave up on this one
		}
	}()
	timer := time.NewTimer(c.timeout)
	defer timer.Stop()
	select {
	case o := <-done:
		return o.ms, o.err
	case <-timer.C:
		if claimed.CompareAndSwap(false, true) {
			c.stuck.Add(1)
			return nil, fmt.Errorf("metrics: %s: %w (limit %s)", c.name, errPartTimeout, c.timeout)
		}
		o := <-done // it finished as the timer fired
		return o.ms, o.err
	}
}

// collectOnce runs the part's collect, turning a panic into an error (and
// logging it with its stack, since it is a bug): a scrape is a client, and
// no client may take the process down.
func (c *scrapeCollector) collectOnce() (o outcome) {
	var s sink
	defer func() {
		if p := recover(); p != nil {
			c.log.Error("metrics: collector panicked", "collector", c.name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			o = outcome{ms: s.ms, err: fmt.Errorf("metrics: %s: %w: %v", c.name, errPartPanic, p)}
		}
	}()
	err := c.part.collect(&s)
	return outcome{ms: s.ms, err: err}
}

// report logs a failure when it starts, and the recovery when it ends.
func (c *scrapeCollector) report(err error) {
	switch {
	case err == nil:
		if c.failing.Swap(false) {
			c.log.Info("metrics: collector recovered", "collector", c.name)
		}
	case !c.failing.Swap(true):
		c.log.Warn("metrics: collector failed", "collector", c.name, "err", err)
	default:
		c.log.Debug("metrics: collector still failing", "collector", c.name, "err", err)
	}
}
