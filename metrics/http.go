package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/internal/connlimit"
)

// The reasons of dashd_http_refused_total. The listener's come from
// connlimit; the hub's stream refusals are counted by the hub (hub.go).
const (
	reasonStreams           = "streams"
	reasonStreamsPerAddress = "streams_per_address"
)

// refusedDesc is the descriptor of one reason of dashd_http_refused_total.
// The reason is a constant label, so the http part and the hub part each
// own the descriptors of their own reasons in one family (the registry
// refuses one descriptor registered by two collectors, and merges the
// family at scrape time). The exposition is the same as with a variable
// label: dashd_http_refused_total{reason="..."}.
func refusedDesc(reason string) *prometheus.Desc {
	return prometheus.NewDesc("dashd_http_refused_total",
		"Connections and streams refused at a limit, by limit.",
		nil, prometheus.Labels{"reason": reason})
}

// httpPart exports the HTTP listener's connection counters.
//
// # When it fails
//
// Practically never: the source is a few atomic counters, and a server
// that has not started serving answers zeros (the series exist from the
// start). It fails (success 0) only on a panic or a source that does not
// answer in time, which scrape.go handles for every part.
type httpPart struct {
	src func() connlimit.Stats

	connections, acceptErrors       *prometheus.Desc
	refusedTotal, refusedPerAddress *prometheus.Desc
}

func newHTTPPart(src func() connlimit.Stats) *httpPart {
	return &httpPart{
		src:               src,
		connections:       desc("dashd_http_connections", "Open HTTP connections (streams included)."),
		acceptErrors:      desc("dashd_http_accept_errors_total", "Temporary accept errors (out of file descriptors...) that were waited out."),
		refusedTotal:      refusedDesc(connlimit.ReasonTotal),
		refusedPerAddress: refusedDesc(connlimit.ReasonPerAddress),
	}
}

func (p *httpPart) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{p.connections, p.acceptErrors, p.refusedTotal, p.refusedPerAddress} {
		ch <- d
	}
}

func (p *httpPart) collect(s *sink) error {
	st := p.src()
	s.gauge(p.connections, float64(st.Open))
	s.counter(p.refusedTotal, float64(st.RefusedTotal))
	s.counter(p.refusedPerAddress, float64(st.RefusedPerAddress))
	s.counter(p.acceptErrors, float64(st.AcceptErrors))
	return nil
}
