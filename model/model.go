// Package model holds the plain data types that flow through dashd:
// collectors produce them, storage keeps them, the scheduler, API and UI read them.
//
// It has no dependencies beyond the standard library so every other package can
// import it without reaching up or across the data flow
// (config -> collectors -> storage + latest state -> scheduler -> hub -> browsers).
package model

import (
	"fmt"
	"strings"
	"time"
)

// State is the health of a check as the dashboard shows it.
type State uint8

// The states, ordered so that a larger value is worse (worst-first sorting
// compares them directly); Unknown sorts between Up and Degraded because a check
// nobody has heard from deserves more attention than one that is fine.
const (
	StateUp State = iota
	StateUnknown
	StateDegraded
	StateDown
)

// String returns the lower-case name used in JSON, badges and CSS classes.
func (s State) String() string {
	switch s {
	case StateUp:
		return "up"
	case StateDegraded:
		return "degraded"
	case StateDown:
		return "down"
	default:
		return "unknown"
	}
}

// ParseState is the inverse of State.String.
func ParseState(s string) (State, error) {
	switch s {
	case "up":
		return StateUp, nil
	case "degraded":
		return StateDegraded, nil
	case "down":
		return StateDown, nil
	case "unknown":
		return StateUnknown, nil
	}
	return StateUnknown, fmt.Errorf("model: unknown state %q", s)
}

// MarshalText makes State encode as its name in JSON.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText parses a state name.
func (s *State) UnmarshalText(b []byte) error {
	v, err := ParseState(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Point is one value of one metric series at the time of its Sample.
type Point struct {
	// Series names the metric and its labels, e.g. "cpu.total" or
	// "disk.used_pct{mount=/}". Build it with SeriesKey so labels are ordered.
	Series string
	Value  float64
}

// Sample is everything one collection tick measured; storage commits one Sample
// per transaction.
type Sample struct {
	Time   time.Time
	Points []Point
}

// SeriesKey builds a series name from a metric and label pairs (k1, v1, k2, v2...),
// keeping the labels in the order given: callers pass them sorted by key.
func SeriesKey(metric string, labels ...string) string {
	if len(labels) < 2 {
		return metric
	}
	var b strings.Builder
	b.WriteString(metric)
	b.WriteByte('{')
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(labels[i])
		b.WriteByte('=')
		b.WriteString(labels[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

// Result is the outcome of one run of a service check.
type Result struct {
	Check   string        `json:"check"`
	Time    time.Time     `json:"time"`
	State   State         `json:"state"`
	Latency time.Duration `json:"latency_ns"`
	// Reason is a short human explanation: "HTTP 503", "connect: connection refused".
	Reason string `json:"reason,omitempty"`
	// Values holds type-specific figures (http status, cert days left, process RSS...).
	Values map[string]float64 `json:"values,omitempty"`
	// Maintenance marks a result taken during a maintenance window: it is
	// kept, but does not count for or against uptime.
	Maintenance bool `json:"maintenance,omitempty"`
}

// EventKind says what produced an Event.
type EventKind string

// Event kinds.
const (
	EventCheck    EventKind = "check"    // a check changed state
	EventStart    EventKind = "start"    // dashd started
	EventStop     EventKind = "stop"     // dashd stopped
	EventReload   EventKind = "reload"   // configuration reloaded
	EventConfig   EventKind = "config"   // configuration rejected
	EventAlert    EventKind = "alert"    // a host rule or dashd's own alert fired or resolved
	EventSilence  EventKind = "silence"  // a silence was created or expired
	EventAudit    EventKind = "audit"    // a sign-in, sign-out or failed sign-in
	EventFlapping EventKind = "flapping" // a check started (To degraded) or stopped (To up) flapping
	// EventIncident: an incident opened or reopened (To down), resolved
	// (To up), or someone held it open, let go of it or wrote a note
	// (User, Address). Check is the check that opened it, if one did;
	// Reason starts with what happened and names it ("opened incident #3:
	// web is down").
	EventIncident EventKind = "incident"
	// EventAck: someone acknowledged an incident (User, Address): the
	// audit log shows it and every session hears who is on it. Reason is
	// "acknowledged incident #3: web is down" (AckReasonPrefix, then the
	// incident's Label).
	EventAck EventKind = "ack"
	// EventHost: a host of the fleet became unreachable (To down) or was
	// heard from again (To up). Check is the host's fleet name, not a
	// check: a kind of its own, so that nothing takes it for a check the
	// configuration lost (a reload resolves those) and its alert carries
	// the host's own host label.
	EventHost EventKind = "host"
)

// AckReasonPrefix starts the Reason of every EventAck; the rest is the
// incident's Label.
const AckReasonPrefix = "acknowledged "

// Event is a state change of a check or something dashd itself did.
type Event struct {
	// ID is assigned by storage (monotonic; newest has the largest ID).
	ID   uint64    `json:"id"`
	Time time.Time `json:"time"`
	Kind EventKind `json:"kind"`
	// Check is the check the event is about; for an alert event (a host
	// rule's or dashd's own) the alert's key ("rule:disk-full:/var"),
	// which names the rule and what it watches.
	Check  string `json:"check,omitempty"`
	From   State  `json:"from"`
	To     State  `json:"to"`
	Reason string `json:"reason,omitempty"`
	// User and Address say who did it and from where, for what people do
	// (sign-ins, silences, acknowledgements): the audit log.
	User    string `json:"user,omitempty"`
	Address string `json:"address,omitempty"`
}

// Notification is a stored message for the header bell; read state is per session.
type Notification struct {
	ID    uint64    `json:"id"`
	Time  time.Time `json:"time"`
	Title string    `json:"title"`
	Body  string    `json:"body,omitempty"`
	Level State     `json:"level"`
	Check string    `json:"check,omitempty"`
}

// ChatMessage is one line of ops chat in a room.
type ChatMessage struct {
	ID     uint64    `json:"id"`
	Time   time.Time `json:"time"`
	Room   string    `json:"room"`
	Author string    `json:"author"`
	Text   string    `json:"text"`
	// Origin is the hub of the site the message was said on, when that is
	// another hub than this one ("" for a message said here): people see
	// "via <hub>" and know the author is on another hub's page.
	Origin string `json:"origin,omitempty"`
}
