package model

import "time"

// OutboxState is where an outbox item is in its delivery.
type OutboxState uint8

// Outbox states.
const (
	OutboxPending   OutboxState = iota // not delivered yet (maybe retrying)
	OutboxDelivered                    // the channel accepted it
	OutboxFailed                       // given up: permanent error or past alerts.max_age
)

// String names the state for JSON and pages.
func (s OutboxState) String() string {
	switch s {
	case OutboxDelivered:
		return "delivered"
	case OutboxFailed:
		return "failed"
	default:
		return "pending"
	}
}

// MarshalText makes OutboxState encode as its name in JSON.
func (s OutboxState) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// OutboxItem is one alert change waiting for (or done with) delivery to one
// channel. Items are written in the same transaction as the event that
// caused them, before any network call, so none is lost; a channel's items
// are delivered in ID order, several at a time when they fall within
// alerts.group_wait of each other.
type OutboxItem struct {
	// ID is assigned by storage, increasing per channel.
	ID      uint64    `json:"id"`
	Channel string    `json:"channel"`
	Created time.Time `json:"created"`
	// EventID is the event that caused it (0 for reminders and tests).
	EventID uint64 `json:"event_id,omitempty"`
	Alert   Alert  `json:"alert"`
	// Reminder and Test are as in AlertMessage.
	Reminder bool `json:"reminder,omitempty"`
	Test     bool `json:"test,omitempty"`

	State       OutboxState `json:"state"`
	Attempts    int         `json:"attempts"`
	NextAttempt time.Time   `json:"next_attempt,omitzero"`
	LastError   string      `json:"last_error,omitempty"`
	// Done is when it was delivered or given up.
	Done time.Time `json:"done,omitzero"`
	// MessageID is the id of the message that carried it (shared by the
	// items delivered together).
	MessageID string `json:"message_id,omitempty"`
}

// OutboxUpdate is the outcome of one delivery attempt for a set of items.
type OutboxUpdate struct {
	State       OutboxState
	Attempts    int // the attempts so far, this one included
	NextAttempt time.Time
	LastError   string
	Done        time.Time
	MessageID   string
}

// OutboxStat is a channel's delivery health.
type OutboxStat struct {
	Channel     string    `json:"channel"`
	Pending     int       `json:"pending"`
	Oldest      time.Time `json:"oldest_pending,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastFailure time.Time `json:"last_failure,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	Delivered   uint64    `json:"delivered"`
	Failed      uint64    `json:"failed"`
}

// AlertChange is what one alert change writes together, in one transaction
// (with its event, when it has one): the alerts' new states (a resolved
// alert is removed from the active set) and the outbox items for the
// channels that must hear of it.
type AlertChange struct {
	Alerts []Alert
	Outbox []OutboxItem
}

// Empty reports whether the change writes nothing.
func (c AlertChange) Empty() bool { return len(c.Alerts) == 0 && len(c.Outbox) == 0 }

// Silence keeps the alerts it matches from being sent while it lasts; they
// still show, marked, on the dashboard and the alerts page. A matcher left
// empty matches everything; globs as in path.Match.
type Silence struct {
	ID      uint64    `json:"id"`
	Checks  []string  `json:"checks,omitempty"`
	Groups  []string  `json:"groups,omitempty"`
	Rules   []string  `json:"rules,omitempty"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Author  string    `json:"author"`
	Comment string    `json:"comment"`
	Created time.Time `json:"created"`
	// Expired is when it was ended by hand before End; zero otherwise.
	Expired time.Time `json:"expired,omitzero"`
	// Address is where the author created it from, for the audit log
	// (recorded with its event, not kept with the silence).
	Address string `json:"-"`
	// Origin and OriginID say where a silence shared by another hub of
	// the site was made: that hub's name and its own ID there. Both are
	// empty for a silence made here. Together they name the silence on
	// every hub, so a redelivered copy is stored once and an expiry made
	// on any hub finds it.
	Origin   string `json:"origin,omitempty"`
	OriginID uint64 `json:"origin_id,omitempty"`
}

// Active reports whether the silence is in force at t.
func (s Silence) Active(t time.Time) bool {
	end := s.End
	if !s.Expired.IsZero() && s.Expired.Before(end) {
		end = s.Expired
	}
	return !t.Before(s.Start) && t.Before(end)
}
