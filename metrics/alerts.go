package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/model"
)

// AlertsSource is the alerting state (an *alert.Alerter and its outbox in
// storage).
type AlertsSource interface {
	// FiringCount is how many alerts fire now.
	FiringCount() int
	// Counters are deliveries since start by channel and result
	// (delivered, failed, retried).
	Counters() map[string]map[string]uint64
	// OutboxStats is each channel's queue, from storage.
	OutboxStats() ([]model.OutboxStat, error)
}

// alertsPart exports dashd_alerts_firing, dashd_notifications_total and
// dashd_outbox_pending.
//
// # When it fails
//
// When the outbox statistics cannot be read from storage; the firing count
// and the counters (memory) are exported anyway.
type alertsPart struct {
	src                   AlertsSource
	firing, sent, pending *prometheus.Desc
}

func newAlertsPart(src AlertsSource) *alertsPart {
	return &alertsPart{
		src:     src,
		firing:  desc("dashd_alerts_firing", "Alerts firing now (silenced ones included)."),
		sent:    desc("dashd_notifications_total", "Alert deliveries by channel and result (delivered, failed, retried) since dashd started; one per alert in a message.", "channel", "result"),
		pending: desc("dashd_outbox_pending", "Alert changes waiting in a channel's outbox.", "channel"),
	}
}

func (p *alertsPart) describe(ch chan<- *prometheus.Desc) {
	ch <- p.firing
	ch <- p.sent
	ch <- p.pending
}

func (p *alertsPart) collect(s *sink) error {
	s.gauge(p.firing, float64(p.src.FiringCount()))
	counters := p.src.Counters()
	names := make([]string, 0, len(counters))
	for n := range counters {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		for _, r := range []string{"delivered", "failed", "retried"} {
			s.counter(p.sent, float64(counters[n][r]), n, r)
		}
	}
	stats, err := p.src.OutboxStats()
	if err != nil {
		return err
	}
	for _, st := range stats {
		s.gauge(p.pending, float64(st.Pending), st.Channel)
	}
	return nil
}
