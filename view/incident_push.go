package view

import (
	"context"
	"time"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// IncidentPush renders what the incident Manager pushes to the live pages
// (it is the Manager's incident.View): a new entry for the incident's
// page, the open incidents for the dashboard and the incidents page. It
// holds no state; the Manager calls it from its own goroutine.
type IncidentPush struct {
	// Now is the clock the times are written against (time.Now when nil).
	Now func() time.Time
}

func (p IncidentPush) now() time.Time {
	if p.Now == nil {
		return time.Now()
	}
	return p.Now()
}

// Entry is what the room of the incident's page gets for a new entry: the
// entry appended to the timeline, the header as of after it, and the
// state signals the page's buttons follow.
func (p IncidentPush) Entry(ctx context.Context, inc model.Incident, e model.IncidentEntry) []hub.Event {
	now := p.now()
	return []hub.Event{
		hub.PatchComponent(ctx, ui.IncidentEntry(IncidentEntryRow(e, now)),
			hub.WithSelector("#"+ui.IncidentTimelineID), hub.WithMergeMode(hub.ModeAppend)),
		hub.PatchComponent(ctx, ui.IncidentHead(IncidentRow(inc, now))),
		incidentSignals(inc.IsOpen(), inc.Held),
	}
}

// Open is what the dashboard and the incidents page get when an open
// incident changed: the banner of every open incident (hidden when none).
func (p IncidentPush) Open(ctx context.Context, open []model.Incident) []hub.Event {
	return []hub.Event{hub.PatchComponent(ctx, ui.IncidentBanner(IncidentRows(open, p.now())))}
}

// IncidentState is what a (re)connecting stream of an incident's page
// gets: the header, the whole timeline shown and the state signals.
func IncidentState(ctx context.Context, v ui.IncidentPageView) []hub.Event {
	return []hub.Event{
		hub.PatchComponent(ctx, ui.IncidentHead(v.Incident)),
		hub.PatchComponent(ctx, ui.IncidentTimeline(v.Entries)),
		incidentSignals(v.Incident.Open, v.Incident.Held),
	}
}

// IncidentsState is what a (re)connecting stream of the incidents page
// gets: the banner of the open incidents.
func IncidentsState(ctx context.Context, open []ui.IncidentRow) []hub.Event {
	return []hub.Event{hub.PatchComponent(ctx, ui.IncidentBanner(open))}
}

// incidentSignals carry the incident's state to its page's buttons. They
// are flags only: no text people wrote travels in a signal.
func incidentSignals(open, held bool) hub.Event {
	return hub.PatchSignals(map[string]bool{"_incOpen": open, "_incHeld": held})
}
