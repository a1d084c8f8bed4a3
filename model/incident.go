package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// IncidentState is whether an incident is going on.
type IncidentState string

// Incident states. An incident is open from the first failure until
// nothing involved fails any more (or someone resolves it by hand); a
// failure of something it involved shortly after it resolved reopens it.
const (
	IncidentOpen     IncidentState = "open"
	IncidentResolved IncidentState = "resolved"
)

// Incident is one outage as people deal with it: everything that failed
// together (one incident for a storm, not forty), who is on it, and how
// long it took to notice and to fix. Its story is its entries
// (IncidentEntry). The JSON names are the API's (/api/v1/incidents).
type Incident struct {
	// ID is assigned by storage (increasing: the newest has the largest).
	ID uint64 `json:"id"`
	// Title names the failure that opened it ("web is down"); it does not
	// change as more joins.
	Title string        `json:"title"`
	State IncidentState `json:"state"`
	// Started is the first failure; Updated the newest entry.
	Started time.Time `json:"started"`
	Updated time.Time `json:"updated,omitzero"`
	// Acked is the first acknowledgement (zero while nobody took it on),
	// by AckedBy: with Started, the time to acknowledge.
	Acked   time.Time `json:"acknowledged,omitzero"`
	AckedBy string    `json:"acknowledged_by,omitempty"`
	// Resolved is when it ended (zero while open; cleared on a reopen),
	// by ResolvedBy ("" when it resolved by itself on recovery): with
	// Started, the time to resolve.
	Resolved   time.Time `json:"resolved,omitzero"`
	ResolvedBy string    `json:"resolved_by,omitempty"`
	// Summary is what the operator wrote when resolving it by hand.
	Summary string `json:"summary,omitempty"`
	// Held keeps it open after everything recovered, until someone
	// resolves it or lets go: a fix people still watch.
	Held bool `json:"held,omitempty"`
	// Checks are the checks involved, in the order they joined; Rules the
	// keys of the host rule and dashd alerts involved ("rule:disk-full:/var",
	// "dashd:storage": a rule's key names what it watches).
	Checks []string `json:"checks"`
	Rules  []string `json:"rules,omitempty"`
	// Failing is what still fails now: check names and rule keys (check
	// names never contain a colon, alert keys always do).
	Failing []string `json:"failing"`
	// Entries counts the entries of its timeline (set by storage).
	Entries uint64 `json:"entries"`
}

// Label is how people refer to it: "incident #3: web is down".
func (i Incident) Label() string { return fmt.Sprintf("incident #%d: %s", i.ID, i.Title) }

// IsOpen reports whether it is going on.
func (i Incident) IsOpen() bool { return i.State == IncidentOpen }

// Involves reports whether the check or alert key was part of it.
func (i Incident) Involves(checkOrRule string) bool {
	return slices.Contains(i.Checks, checkOrRule) || slices.Contains(i.Rules, checkOrRule)
}

// TimeToAck is how long it took someone to acknowledge it; ok is false
// while nobody has.
func (i Incident) TimeToAck() (d time.Duration, ok bool) {
	if i.Acked.IsZero() {
		return 0, false
	}
	return max(i.Acked.Sub(i.Started), 0), true
}

// TimeToResolve is how long it lasted; ok is false while it is open.
func (i Incident) TimeToResolve() (d time.Duration, ok bool) {
	if i.Resolved.IsZero() || i.IsOpen() {
		return 0, false
	}
	return max(i.Resolved.Sub(i.Started), 0), true
}

// EntryKind says what an IncidentEntry records.
type EntryKind string

// Entry kinds: what happened to something involved, what dashd told
// people, and what people did.
const (
	EntryState    EntryKind = "state"    // an involved check changed state (From, To), or joined
	EntryAlert    EntryKind = "alert"    // an involved alert fired or resolved (Rule, From, To)
	EntryDelivery EntryKind = "delivery" // an alert message reached a channel or failed to (Text names it)
	EntryAck      EntryKind = "ack"      // someone took it on
	EntryNote     EntryKind = "note"     // someone wrote a note (Public: a status page update)
	EntryChat     EntryKind = "chat"     // a line of the incident's chat
	EntryResolve  EntryKind = "resolve"  // it resolved: by itself on recovery, or by hand (User, Text: the summary)
	EntryReopen   EntryKind = "reopen"   // something involved failed again soon after it resolved
	EntryHold     EntryKind = "hold"     // someone held it open or let go (Text says which)
	EntryUpdate   EntryKind = "update"   // dashd's own account: opened, everything recovered but held open
)

// IncidentEntry is one line of an incident's timeline. Entries are never
// changed once written.
type IncidentEntry struct {
	Incident uint64 `json:"incident"`
	// Seq numbers the incident's entries from 1 (assigned by storage).
	Seq  uint64    `json:"seq"`
	Time time.Time `json:"time"`
	Kind EntryKind `json:"kind"`
	// Check or Rule (an alert key) is what the entry is about, if one
	// thing; From and To are its states for state and alert entries.
	Check string `json:"check,omitempty"`
	Rule  string `json:"rule,omitempty"`
	From  State  `json:"-"`
	To    State  `json:"-"`
	// User and Address say who did it and from where (acks, notes,
	// chat, hand resolutions, holds).
	User    string `json:"user,omitempty"`
	Address string `json:"address,omitempty"`
	Text    string `json:"text,omitempty"`
	// Public marks a note meant for the outside world: the status page
	// shows public notes, nothing else of the timeline.
	Public bool `json:"public,omitempty"`
	// Origin is the hub of the site where someone did what the entry
	// records, when that is another hub ("" for what was done here or by
	// dashd itself): the timeline shows "via <hub>".
	Origin string `json:"origin,omitempty"`
	// Action is the site-wide ID of a shared action this entry applied
	// (set with Origin): a redelivered action whose ID an entry holds
	// already is not applied twice.
	Action string `json:"-"`
}

// HasStates reports whether From and To mean something (state and alert
// entries): the zero State is "up".
func (e IncidentEntry) HasStates() bool { return e.Kind == EntryState || e.Kind == EntryAlert }

// MarshalJSON writes from and to only for the entries that have states.
func (e IncidentEntry) MarshalJSON() ([]byte, error) {
	type plain IncidentEntry
	v := struct {
		plain
		From *State `json:"from,omitempty"`
		To   *State `json:"to,omitempty"`
	}{plain: plain(e)}
	if e.HasStates() {
		v.From, v.To = &e.From, &e.To
	}
	return json.Marshal(v)
}
