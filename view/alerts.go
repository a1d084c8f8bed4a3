package view

import (
	"context"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
)

// RoomAlerts is the hub room of the alerts page.
const RoomAlerts = "alerts"

// AlertsFragments lists the live parts of the alerts page (the silence
// form is not one: it keeps what is being typed).
func AlertsFragments(v ui.AlertsView) []Fragment {
	return []Fragment{
		{ui.AlertsFiringID, v.Firing, func() templ.Component { return ui.AlertsFiring(v.Firing) }},
		{ui.AlertsSilencesID, v.Silences, func() templ.Component { return ui.AlertsSilences(v.Silences) }},
		{ui.AlertsChannelsID, v.Channels, func() templ.Component { return ui.AlertsChannels(v.Channels, v.Sending) }},
		{ui.AlertsDeliveriesID, v.Deliveries, func() templ.Component { return ui.AlertsDeliveries(v.Deliveries) }},
	}
}

// AlertsState is the events that bring a fresh alerts-page stream to v.
func AlertsState(ctx context.Context, v ui.AlertsView) []hub.Event {
	var evs []hub.Event
	for _, f := range AlertsFragments(v) {
		evs = append(evs, hub.PatchComponent(ctx, f.Comp()))
	}
	return evs
}
