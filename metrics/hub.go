package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
)

// hubPart exports the SSE hub's streams and counters, and the hub's stream
// refusals as dashd_http_refused_total{reason="streams"|"streams_per_address"}
// (the family is defined in http.go).
//
// # When it fails
//
// Practically never: the source is the hub's memory and always answers;
// no streams is a zero, not a failure. It fails (success 0) only on a panic
// or a source that does not answer in time (the hub's lock held too long),
// which scrape.go handles for every part.
type hubPart struct {
	src HubSource

	clients, streams, events, evictions *prometheus.Desc
	connects, bytesWritten, queuedBytes *prometheus.Desc
	refusedStreams, refusedPerAddress   *prometheus.Desc
}

func newHubPart(src HubSource) *hubPart {
	return &hubPart{
		src:               src,
		clients:           desc("dashd_sse_clients", "Connected SSE streams per room kind (dashboard, check, incident, chat, history, ...; hub.RoomKind).", "room"),
		streams:           desc("dashd_sse_streams", "Connected SSE streams in all."),
		events:            desc("dashd_sse_events_total", "Events written to SSE clients, counted once per client."),
		evictions:         desc("dashd_sse_evictions_total", "SSE clients dropped for being too slow."),
		connects:          desc("dashd_sse_connects_total", "SSE streams accepted."),
		bytesWritten:      desc("dashd_sse_bytes_written_total", "Bytes written to SSE clients."),
		queuedBytes:       desc("dashd_sse_queued_bytes", "Bytes queued for SSE clients and not yet written."),
		refusedStreams:    refusedDesc(reasonStreams),
		refusedPerAddress: refusedDesc(reasonStreamsPerAddress),
	}
}

func (p *hubPart) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		p.clients, p.streams, p.events, p.evictions, p.connects, p.bytesWritten, p.queuedBytes,
		p.refusedStreams, p.refusedPerAddress,
	} {
		ch <- d
	}
}

func (p *hubPart) collect(s *sink) error {
	st := p.src.Stats()
	// Per room kind, not per room: rooms are one per check, incident,
	// chat room or history page, an unbounded label set.
	for kind, n := range st.RoomKinds {
		s.gauge(p.clients, float64(n), kind)
	}
	s.gauge(p.streams, float64(st.Clients))
	s.counter(p.events, float64(st.EventsSent))
	s.counter(p.evictions, float64(st.Evictions))
	s.counter(p.connects, float64(st.Connects))
	s.counter(p.bytesWritten, float64(st.BytesWritten))
	s.gauge(p.queuedBytes, float64(st.QueuedBytes))
	s.counter(p.refusedStreams, float64(st.RefusedTotal))
	s.counter(p.refusedPerAddress, float64(st.RefusedPerAddress))
	return nil
}
