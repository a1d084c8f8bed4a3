package alert

import (
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// recentDeliveries is how many finished deliveries the alerts page lists.
const recentDeliveries = 25

// Page builds the /alerts view at now.
func (a *Alerter) Page(now time.Time) (ui.AlertsView, error) {
	cfg := a.o.Latest.Config()
	snap, err := a.State()
	if err != nil {
		return ui.AlertsView{}, err
	}
	dels, err := a.o.Store.Deliveries(recentDeliveries)
	if err != nil {
		return ui.AlertsView{}, err
	}
	v := ui.AlertsView{Sending: len(cfg.Alerts.Channels) > 0}
	for _, f := range snap.Firing {
		v.Firing = append(v.Firing, ui.AlertRow{Key: f.Key, Summary: f.Summary, Reason: f.Reason, Severity: f.Severity,
			Since: ui.FormatAge(now.Sub(f.StartsAt)), SinceAt: f.StartsAt, HeldBy: f.HeldBy, URL: f.URL})
	}
	for _, s := range snap.Silences {
		v.Silences = append(v.Silences, ui.SilenceRow{ID: s.ID, Matchers: matchers(s), Author: s.Author, Comment: s.Comment,
			Until: ui.FormatWhen(s.End, now), UntilAt: s.End, Pending: now.Before(s.Start), Origin: s.Origin})
	}
	for _, c := range snap.Channels {
		r := ui.ChannelRow{Name: c.Name, Type: c.Type, Description: c.Described, Pending: c.Pending,
			Delivered: c.OutboxStat.Delivered, Failed: c.OutboxStat.Failed, Routed: c.Routed,
			Healthy: c.LastFailure.IsZero() || c.LastSuccess.After(c.LastFailure)}
		if !c.LastSuccess.IsZero() {
			r.LastSuccess = ui.FormatWhen(c.LastSuccess, now)
		}
		if !r.Healthy {
			r.LastError = c.LastError
		}
		v.Channels = append(v.Channels, r)
	}
	for _, d := range dels {
		v.Deliveries = append(v.Deliveries, ui.DeliveryRow{ID: d.ID, Channel: d.Channel, Summary: summaryOf(d),
			State: d.State.String(), When: ui.FormatWhen(d.Done, now), At: d.Done, Error: d.LastError})
	}
	return v, nil
}

func summaryOf(it model.OutboxItem) string {
	s := it.Alert.Summary
	switch {
	case it.Test:
		s = "test message"
	case it.Reminder:
		s += " (reminder)"
	case it.Alert.State == model.AlertResolved:
		s += " (resolved)"
	}
	return s
}
