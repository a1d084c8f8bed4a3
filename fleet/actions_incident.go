package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/model"
)

// IncidentApplier carries out the other hubs' incident actions on this
// hub's incidents (the incident.Manager): see incident.Manager.ApplyRemote
// for what its errors mean.
type IncidentApplier interface {
	ApplyRemote(ctx context.Context, origin, id string, a incident.Shared) error
}

// incidentWire is an incident action between hubs. The incident is named
// by its Ref (subjects and start): its ID is the origin's own, kept only
// for the action's ID.
type incidentWire struct {
	Kind     model.EntryKind `json:"kind"`
	Ref      incident.Ref    `json:"ref"`
	Incident uint64          `json:"incident"`
	Time     time.Time       `json:"time"`
	User     string          `json:"user"`
	Address  string          `json:"address,omitempty"`
	Text     string          `json:"text,omitempty"`
	Public   bool            `json:"public,omitempty"`
	Held     bool            `json:"held,omitempty"`
}

// incidentActionID names an incident action across the site: its hub,
// its incident's ID there, its kind and its time. It is the message's
// Nats-Msg-Id and the IncidentEntry.Action of every hub that applies it.
func incidentActionID(hub string, w incidentWire) string {
	return hub + ":incident:" + strconv.FormatUint(w.Incident, 36) + ":" + string(w.Kind) + ":" +
		strconv.FormatInt(w.Time.UnixNano(), 36)
}

// IncidentAction is the message that shares a, done on hub, with the
// other hubs.
func IncidentAction(hub string, a incident.Shared) (Message, error) {
	w := incidentWire{Kind: a.Kind, Ref: a.Ref, Incident: a.Incident, Time: a.Time, User: a.User,
		Address: a.Address, Text: a.Text, Public: a.Public, Held: a.Held}
	data, err := json.Marshal(w)
	if err != nil {
		return Message{}, fmt.Errorf("fleet: encode incident action: %w", err)
	}
	return Message{Subject: ActionSubject(hub, ActionIncident), ID: incidentActionID(hub, w), Data: data}, nil
}

// DecodeIncidentAction decodes an incident action hub shared, and its
// site-wide ID. What it says is checked by the Manager, as strictly as
// people's own actions here.
func DecodeIncidentAction(hub string, data []byte) (string, incident.Shared, error) {
	var w incidentWire
	if err := decodeJSON("incident", data, &w); err != nil {
		return "", incident.Shared{}, err
	}
	if w.Time.IsZero() || w.Ref.Started.IsZero() || len(w.Ref.Subjects) == 0 {
		return "", incident.Shared{}, fmt.Errorf("%w: incident action without a time or an incident reference", ErrBadMessage)
	}
	return incidentActionID(hub, w), incident.Shared{Kind: w.Kind, Ref: w.Ref, Incident: w.Incident, Time: w.Time,
		User: w.User, Address: w.Address, Text: w.Text, Public: w.Public, Held: w.Held}, nil
}

// ShareIncident hands a, an action people took on an incident here and
// that is stored, to the other hubs (incident.Sharer): once it is in the
// outbox it reaches them, across restarts and NATS outages. Its Ref is
// the site's (incident.SiteRef): this hub's own checks and rules are
// qualified with ActionsOptions.Host. A failure is logged (the action
// stays done here, only not shared).
func (a *Actions) ShareIncident(s incident.Shared) {
	s.Ref = incident.SiteRef(s.Ref, a.o.Host)
	msg, err := IncidentAction(a.name, s)
	if err == nil {
		err = a.enqueue(msg)
	}
	if err != nil {
		a.log.Warn("incident action not shared with the other hubs", "incident", s.Incident, "kind", s.Kind, "err", err)
	}
}

// SetTargets gives what the other hubs' actions are carried out through
// here: the incident Manager and the alerter (not a wrapper that shares
// again). Call it once, before Run: the Manager is built with these
// Actions as its Sharer, so they cannot be options. Until they are set,
// those actions are put back (and dropped after LaterFor).
func (a *Actions) SetTargets(incidents IncidentApplier, silences Silencer) {
	a.incidents, a.silences = incidents, silences
}

// handleIncident applies one incident action of hub origin. It returns
// the message's fate: done (acknowledge), later (no incident matches yet:
// come again), or an error to retry the batch.
func (a *Actions) handleIncident(ctx context.Context, origin string, data []byte) (fate, error) {
	id, s, err := DecodeIncidentAction(origin, data)
	if err != nil {
		return refused, err
	}
	ref, ok := incident.FleetRef(s.Ref)
	if !ok {
		return refused, fmt.Errorf("%w: incident action %s names only hub %s's own checks and rules (%s), never this hub's",
			ErrBadMessage, id, origin, trunc(strings.Join(s.Ref.Subjects, ",")))
	}
	s.Ref = ref
	if a.incidents == nil {
		return later, nil
	}
	err = a.incidents.ApplyRemote(ctx, origin, id, s)
	switch {
	case err == nil:
		a.stored.Add(1)
		a.log.Debug("incident action from another hub", "hub", origin, "id", id, "kind", s.Kind, "incident", s.Ref.Title)
		return done, nil
	case errors.Is(err, incident.ErrDuplicate):
		a.duplicates.Add(1)
		return done, nil
	case errors.Is(err, incident.ErrNoMatch):
		return later, nil
	case errors.Is(err, incident.ErrResolved), errors.Is(err, incident.ErrFull):
		a.moot.Add(1)
		a.log.Info("incident action from another hub has nothing left to do here", "hub", origin, "id", id, "err", err)
		return done, nil
	case errors.Is(err, incident.ErrBadInput):
		return refused, err
	}
	return done, fmt.Errorf("apply incident action %s from hub %s: %w", id, origin, err)
}
