package view

import (
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// RoomIncidents is the hub room of the incidents list page: it gets what
// the dashboard gets when an open incident changes (the banner).
const RoomIncidents = "incidents"

// IncidentRow is an incident as the lists, the banner and its page's
// header show it; times are written in now's zone.
func IncidentRow(inc model.Incident, now time.Time) ui.IncidentRow {
	r := ui.IncidentRow{
		ID: inc.ID, Title: inc.Title, Open: inc.IsOpen(), Held: inc.Held,
		Started: inc.Started, StartedText: ui.FormatWhen(inc.Started.In(now.Location()), now),
		AckedBy: inc.AckedBy, Acked: inc.Acked, ResolvedBy: inc.ResolvedBy, Summary: inc.Summary,
		Checks: inc.Checks, Rules: inc.Rules, Failing: inc.Failing, Entries: inc.Entries,
	}
	if d, ok := inc.TimeToAck(); ok {
		r.ToAck = ui.FormatSpan(d)
		r.AckedText = ui.FormatWhen(inc.Acked.In(now.Location()), now)
	}
	if d, ok := inc.TimeToResolve(); ok {
		r.Resolved = inc.Resolved
		r.ResolvedText = ui.FormatWhen(inc.Resolved.In(now.Location()), now)
		r.ToResolve = ui.FormatSpan(d)
	}
	return r
}

// IncidentRows maps IncidentRow over incs.
func IncidentRows(incs []model.Incident, now time.Time) []ui.IncidentRow {
	out := make([]ui.IncidentRow, 0, len(incs))
	for _, inc := range incs {
		out = append(out, IncidentRow(inc, now))
	}
	return out
}

// entryLabels say what each kind of entry is, in words.
var entryLabels = map[model.EntryKind]string{
	model.EntryState:    "state",
	model.EntryAlert:    "alert",
	model.EntryDelivery: "sent",
	model.EntryAck:      "acknowledged",
	model.EntryNote:     "note",
	model.EntryChat:     "chat",
	model.EntryResolve:  "resolved",
	model.EntryReopen:   "reopened",
	model.EntryHold:     "hold",
	model.EntryUpdate:   "update",
}

// IncidentEntryRow is one line of an incident's timeline.
func IncidentEntryRow(e model.IncidentEntry, now time.Time) ui.IncidentEntryRow {
	r := ui.IncidentEntryRow{Seq: e.Seq, At: e.Time, When: ui.FormatWhen(e.Time.In(now.Location()), now),
		Kind: string(e.Kind), Label: entryLabels[e.Kind], User: e.User, Text: e.Text, Public: e.Public, Origin: e.Origin}
	if r.Label == "" {
		r.Label = string(e.Kind)
	}
	r.Subject = e.Check
	if r.Subject == "" {
		r.Subject = e.Rule
	}
	if e.HasStates() {
		r.Change = e.From.String() + " → " + e.To.String()
		r.State = e.To.String()
	}
	if e.Kind == model.EntryReopen {
		// A reopening is a state entry whose failure reopened the
		// incident: its states say what failed.
		r.State = model.StateDown.String()
	}
	return r
}

// IncidentPage builds /incidents/{id} from the incident and the entries
// read for it (the newest, oldest first); hidden counts those left out.
func IncidentPage(inc model.Incident, entries []model.IncidentEntry, hidden uint64, now time.Time) ui.IncidentPageView {
	v := ui.IncidentPageView{Incident: IncidentRow(inc, now), Hidden: hidden,
		Entries: make([]ui.IncidentEntryRow, 0, len(entries))}
	for _, e := range entries {
		v.Entries = append(v.Entries, IncidentEntryRow(e, now))
	}
	return v
}

// IncidentList builds /incidents: the open incidents (newest first), one
// page of all of them, and where the pages go.
func IncidentList(open, page []model.Incident, before, next uint64, now time.Time) ui.IncidentListView {
	return ui.IncidentListView{Open: IncidentRows(open, now), All: IncidentRows(page, now), Before: before, Next: next}
}

// IncidentStats is one window of the check page's MTTA/MTTR panel: mtta
// and mttr count only when some incident was acknowledged or resolved.
func IncidentStats(label string, count, acked, resolved int, mtta, mttr time.Duration) ui.IncidentStatsWindow {
	w := ui.IncidentStatsWindow{Label: label, Count: count, Acked: acked, Resolved: resolved}
	if acked > 0 {
		w.MTTA = ui.FormatSpan(mtta)
	}
	if resolved > 0 {
		w.MTTR = ui.FormatSpan(mttr)
	}
	return w
}
