package metrics

import "github.com/prometheus/client_golang/prometheus"

// flowPart exports the flow's subscribers: how many messages each one has
// waiting and how many it missed because it fell behind (a slow subscriber
// never stalls checks; it drops, and this is where that shows).
//
// # When it fails
//
// Never but on a panic or a timeout (scrape.go): the source is memory.
type flowPart struct {
	src              FlowSource
	dropped, waiting *prometheus.Desc
}

func newFlowPart(src FlowSource) *flowPart {
	return &flowPart{
		src:     src,
		dropped: desc("dashd_flow_dropped_total", "Results and events a subscriber missed because its buffer was full.", "subscriber"),
		waiting: desc("dashd_flow_waiting", "Results and events waiting for a subscriber.", "subscriber"),
	}
}

func (p *flowPart) describe(ch chan<- *prometheus.Desc) {
	ch <- p.dropped
	ch <- p.waiting
}

func (p *flowPart) collect(s *sink) error {
	for _, sub := range p.src.Subscriptions() {
		s.counter(p.dropped, float64(sub.Dropped()), sub.Name())
		s.gauge(p.waiting, float64(len(sub.C())), sub.Name())
	}
	return nil
}
