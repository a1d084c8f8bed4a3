package metrics

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
)

// selfCollectors are dashd's own process: dashd_build_info, and
// client_golang's Go runtime (go_*) and process (process_*) collectors,
// with their default options as before. They are not wrapped in the scrape
// series: the build info cannot fail, and the two library collectors
// report their own errors to the gather (logged, the rest still served).
func selfCollectors(version string) ([]prometheus.Collector, error) {
	bi, err := newBuildInfo(version)
	if err != nil {
		return nil, err
	}
	return []prometheus.Collector{
		bi,
		promcollectors.NewGoCollector(),
		promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}),
	}, nil
}

// buildInfo is dashd_build_info{version} 1: a constant, built once.
type buildInfo struct {
	desc   *prometheus.Desc
	metric prometheus.Metric
}

// newBuildInfo fails on a version that is not a valid label value (not
// UTF-8).
func newBuildInfo(version string) (*buildInfo, error) {
	d := desc("dashd_build_info", "A metric with a constant '1' value labeled by the dashd version.", "version")
	m, err := prometheus.NewConstMetric(d, prometheus.GaugeValue, 1, version)
	if err != nil {
		return nil, fmt.Errorf("metrics: build info for version %q: %w", version, err)
	}
	return &buildInfo{desc: d, metric: m}, nil
}

// Describe implements prometheus.Collector.
func (b *buildInfo) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

// Collect implements prometheus.Collector.
func (b *buildInfo) Collect(ch chan<- prometheus.Metric) { ch <- b.metric }
