// Package incident gathers failures into incidents: what broke together,
// what dashd told people, and what people did about it, until it is over.
// The Manager is a subscriber of the flow, like the alerter and the
// notifier; the server calls its methods for what people do.
//
// # Opening and joining
//
// An incident opens when a check goes down (an event of kind check with
// To down) or an alert fires (kind alert: a host rule or dashd's own; the
// event's Check is the alert's key). While one is open, every further
// failure joins it: one incident for a storm, not forty. Everything that
// happens to an involved check or rule afterwards is an entry of its
// timeline: state changes, alerts fired and resolved, the deliveries of
// their messages and to whom (read from the outbox's finished items every
// few seconds while an incident is open or just ended), and what people
// do: acknowledgements, notes, chat, holding it open, resolving it.
//
// # Resolving and reopening
//
// An involved check fails while it is down or degraded; a rule while its
// alert fires. When nothing involved fails any more the incident resolves
// by itself, unless someone held it open; people can also resolve it by
// hand, with a summary. A failure of something it involved within
// ReopenGrace of its resolution reopens it instead of opening another.
// Time to acknowledge (first acknowledgement) and time to resolve are kept
// with each incident; Stats figures them per check.
//
// # Who is on it
//
// Every action people take is also an event on the flow, with who and from
// where (the audit log picks those), except chat lines, which stay in the
// timeline: an acknowledgement (kind ack) is pushed by package notify to
// every session ("alice is on incident #3: web is down"), and the alerts of
// an acknowledged, open incident get no more reminders: the Manager is the
// alerter's alert.Acknowledgements (AckedBy). The acknowledgement is stored
// with the incident, so the reminders stay quiet across a restart.
//
// # Live pages
//
// Each new entry is pushed to the hub room of the incident's page
// (view.IncidentRoom), and every change of an open incident to the
// dashboard room, rendered by Options.View: the UI supplies it, the
// Manager only says what changed, as the notifier does with its Hub. A page
// that (re)connects reads the state itself (Open, Get, Entries).
//
// # Ownership and restarts
//
// All state belongs to Run's goroutine: flow messages and people's actions
// (sent to it by the methods, which wait for the answer) are handled one
// at a time, each change written to storage (the incident and the entry
// that says why, in one transaction) before anything is pushed or
// announced. Open incidents are stored, so they survive a restart; New
// reads them, and the first results after a start reconcile them: a check
// that recovered while dashd was down reports up and resolves its part.
// After the subscription dropped messages, the failing checks are compared
// with the checks' live state (Options.Checks).
package incident
