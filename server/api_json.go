package server

import (
	"time"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
)

// The JSON API's vocabulary (README "JSON API", openapi.json). The API
// answers with these types, never with the internal ones, so a field
// renamed inside dashd cannot rename a field of the API, and every answer
// follows the same rules:
//
//   - An instant is an RFC 3339 string. The moment a record stands for
//     (a result, an event, a point) is "time"; any other instant ends in
//     "_at" ("last_check_at", "starts_at"). "from" and "to" are only the
//     bounds of a requested time range. The one exception: an
//     incident's "started" and "resolved" (incidentJSON), names issue
//     #16 fixed first; openapi_test.go allows them there only.
//   - A state change names its ends "from_state" and "to_state".
//   - A duration is a number of seconds (fractional) ending in
//     "_seconds"; a rate is per second, ending in "_per_second".
//   - A percentage is 0-100 and ends in "_pct"; sizes are bytes.
//   - "points" is only ever the data array of a series; a number of
//     things is "count" (or "total" for what the range holds).
//   - Nothing measured is omitted for being zero; "no data" is null.

// seconds converts a duration to the API's unit.
func seconds(d time.Duration) float64 { return d.Seconds() }

// instant is an optional instant: nil (omitted) for the zero time.
func instant(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// checkJSON is one check in /api/v1/checks and /api/v1/checks/{check}.
type checkJSON struct {
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Group       string      `json:"group,omitempty"`
	Description string      `json:"description,omitempty"`
	State       model.State `json:"state"`
	// LastResult is the state of the latest run, which may disagree with
	// State while fail_after or recover_after is still counting.
	LastResult     model.State        `json:"last_result"`
	Reason         string             `json:"reason,omitempty"`
	Detail         string             `json:"detail,omitempty"`
	LatencySeconds float64            `json:"latency_seconds"`
	LastCheckAt    *time.Time         `json:"last_check_at,omitempty"`
	LastChangeAt   *time.Time         `json:"last_change_at,omitempty"`
	Flapping       bool               `json:"flapping"`
	Values         map[string]float64 `json:"values,omitempty"`
	Badge          bool               `json:"badge"`
	// IntervalSeconds and TimeoutSeconds are the check's configuration.
	IntervalSeconds float64 `json:"interval_seconds"`
	TimeoutSeconds  float64 `json:"timeout_seconds"`
	// UptimePct maps each window of window.Uptime ("24h", "7d", "30d",
	// "90d", the check page's windows) to the percentage of known results
	// that were up or degraded; null when the window has none.
	UptimePct map[string]*float64 `json:"uptime_pct"`
}

func newCheckJSON(st collectors.Status) checkJSON {
	return checkJSON{Name: st.Name, Type: st.Type, Group: st.Group, Description: st.Description,
		State: st.State, LastResult: st.LastResult, Reason: st.Reason, Detail: st.Detail,
		LatencySeconds: seconds(st.Latency), LastCheckAt: instant(st.LastCheck), LastChangeAt: instant(st.LastChange),
		Flapping: st.Flapping, Values: st.Values, Badge: st.Badge,
		IntervalSeconds: seconds(st.Interval), TimeoutSeconds: seconds(st.Timeout)}
}

// resultJSON is one result of /api/v1/checks/{check}/history.
type resultJSON struct {
	Time           time.Time          `json:"time"`
	State          model.State        `json:"state"`
	LatencySeconds float64            `json:"latency_seconds"`
	Reason         string             `json:"reason,omitempty"`
	Values         map[string]float64 `json:"values,omitempty"`
	// Maintenance marks a result taken in a maintenance window (it does
	// not count for uptime).
	Maintenance bool `json:"maintenance,omitempty"`
}

func newResultJSON(r model.Result) resultJSON {
	return resultJSON{Time: r.Time, State: r.State, LatencySeconds: seconds(r.Latency), Reason: r.Reason,
		Values: r.Values, Maintenance: r.Maintenance}
}

// eventJSON is one event of /api/v1/events and /api/v1/audit. The state
// change is there only for the kinds that change a state (stateKinds): on
// a sign-in it would read "up" to "up".
type eventJSON struct {
	ID        uint64          `json:"id"`
	Time      time.Time       `json:"time"`
	Kind      model.EventKind `json:"kind"`
	Check     string          `json:"check,omitempty"`
	FromState *model.State    `json:"from_state,omitempty"`
	ToState   *model.State    `json:"to_state,omitempty"`
	Reason    string          `json:"reason,omitempty"`
	User      string          `json:"user,omitempty"`
	Address   string          `json:"address,omitempty"`
}

// stateKinds are the event kinds whose From and To mean something.
var stateKinds = map[model.EventKind]bool{
	model.EventCheck: true, model.EventFlapping: true, model.EventAlert: true, model.EventIncident: true,
}

func newEventJSON(e model.Event) eventJSON {
	v := eventJSON{ID: e.ID, Time: e.Time, Kind: e.Kind, Check: e.Check, Reason: e.Reason, User: e.User, Address: e.Address}
	if stateKinds[e.Kind] {
		from, to := e.From, e.To
		v.FromState, v.ToState = &from, &to
	}
	return v
}

// pointJSON is one bucket of a series: the average of the samples in it
// and their extremes, all null when the bucket holds none.
type pointJSON struct {
	Time  time.Time `json:"time"`
	Value *float64  `json:"value"`
	Min   *float64  `json:"min"`
	Max   *float64  `json:"max"`
}

// silenceOut is a silence as the API answers it.
type silenceOut struct {
	ID        uint64     `json:"id"`
	Checks    []string   `json:"checks,omitempty"`
	Groups    []string   `json:"groups,omitempty"`
	Rules     []string   `json:"rules,omitempty"`
	StartsAt  time.Time  `json:"starts_at"`
	EndsAt    time.Time  `json:"ends_at"`
	Author    string     `json:"author"`
	Comment   string     `json:"comment"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiredAt *time.Time `json:"expired_at,omitempty"`
	// Origin and OriginID are the hub of the site a silence was made on
	// and its ID there, for one another hub shared (absent for one made
	// here, which every silence created through this API is).
	Origin   string `json:"origin,omitempty"`
	OriginID uint64 `json:"origin_id,omitempty"`
}

func newSilenceOut(s model.Silence) silenceOut {
	return silenceOut{ID: s.ID, Checks: s.Checks, Groups: s.Groups, Rules: s.Rules, StartsAt: s.Start, EndsAt: s.End,
		Author: s.Author, Comment: s.Comment, CreatedAt: s.Created, ExpiredAt: instant(s.Expired),
		Origin: s.Origin, OriginID: s.OriginID}
}

// alertJSON is an alert as the API answers it (model.Alert already
// follows the vocabulary; HeldBy only for firing ones).
type alertJSON struct {
	model.Alert
	HeldBy string `json:"held_by,omitempty"`
}

func newAlertJSON(f alert.Firing) alertJSON { return alertJSON{Alert: f.Alert, HeldBy: f.HeldBy} }

// channelJSON is a channel's delivery health.
type channelJSON struct {
	Name        string `json:"name"`
	Type        string `json:"type"`
	Description string `json:"description"`
	// Routed is false for a channel no route sends to.
	Routed          bool       `json:"routed"`
	Pending         int        `json:"pending"`
	OldestPendingAt *time.Time `json:"oldest_pending_at,omitempty"`
	LastSuccessAt   *time.Time `json:"last_success_at,omitempty"`
	LastFailureAt   *time.Time `json:"last_failure_at,omitempty"`
	LastError       string     `json:"last_error,omitempty"`
	// Delivered and Failed count every stored delivery; the
	// _since_start ones this process's attempts.
	Delivered           uint64 `json:"delivered"`
	Failed              uint64 `json:"failed"`
	DeliveredSinceStart uint64 `json:"delivered_since_start"`
	FailedSinceStart    uint64 `json:"failed_since_start"`
	RetriedSinceStart   uint64 `json:"retried_since_start"`
}

func newChannelJSON(c alert.ChannelHealth) channelJSON {
	return channelJSON{Name: c.Name, Type: c.Type, Description: c.Described, Routed: c.Routed,
		Pending: c.Pending, OldestPendingAt: instant(c.Oldest), LastSuccessAt: instant(c.LastSuccess),
		LastFailureAt: instant(c.LastFailure), LastError: c.LastError,
		Delivered: c.OutboxStat.Delivered, Failed: c.OutboxStat.Failed,
		DeliveredSinceStart: c.Delivered, FailedSinceStart: c.Failed, RetriedSinceStart: c.Retried}
}

// deliveryJSON is one finished alert delivery.
type deliveryJSON struct {
	ID            uint64            `json:"id"`
	Channel       string            `json:"channel"`
	CreatedAt     time.Time         `json:"created_at"`
	EventID       uint64            `json:"event_id,omitempty"`
	Alert         model.Alert       `json:"alert"`
	Reminder      bool              `json:"reminder,omitempty"`
	Test          bool              `json:"test,omitempty"`
	State         model.OutboxState `json:"state"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt *time.Time        `json:"next_attempt_at,omitempty"`
	LastError     string            `json:"last_error,omitempty"`
	DoneAt        *time.Time        `json:"done_at,omitempty"`
	MessageID     string            `json:"message_id,omitempty"`
}

func newDeliveryJSON(o model.OutboxItem) deliveryJSON {
	return deliveryJSON{ID: o.ID, Channel: o.Channel, CreatedAt: o.Created, EventID: o.EventID, Alert: o.Alert,
		Reminder: o.Reminder, Test: o.Test, State: o.State, Attempts: o.Attempts, NextAttemptAt: instant(o.NextAttempt),
		LastError: o.LastError, DoneAt: instant(o.Done), MessageID: o.MessageID}
}

// mapSlice converts a slice, never returning nil (the API answers [] for
// an empty list, not null).
func mapSlice[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}
