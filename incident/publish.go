package incident

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/view"
)

// update stores inc with the entries that say why it changed and, once
// stored, remembers it, publishes it and pushes the change; it logs and
// reports false when storage refused (the incident in memory stays as it
// was, so memory never runs ahead of the disk).
func (m *Manager) update(ctx context.Context, inc model.Incident, es ...model.IncidentEntry) (model.Incident, bool) {
	stored, err := m.store(ctx, inc, es...)
	if err != nil {
		m.log.Error("incident change not stored", "incident", inc.ID, "err", err)
		return inc, false
	}
	return stored, true
}

// store is update returning the error, for people's actions.
func (m *Manager) store(ctx context.Context, inc model.Incident, es ...model.IncidentEntry) (model.Incident, error) {
	stored, written, err := m.o.Store.UpdateIncident(ctx, inc, es...)
	if err != nil {
		return inc, fmt.Errorf("incident %d: store: %w", inc.ID, err)
	}
	m.remember(stored)
	m.push(ctx, stored, written, true)
	return stored, nil
}

// addEntries adds entries to an incident without changing it otherwise
// (dashd's own entries: bounded by automatic).
func (m *Manager) addEntries(ctx context.Context, inc model.Incident, es ...model.IncidentEntry) {
	es = m.automatic(inc, es...)
	if len(es) == 0 {
		return
	}
	if _, err := m.appendEntries(ctx, inc, es...); err != nil {
		m.log.Error("incident entries not stored", "incident", inc.ID, "err", err)
	}
}

// appendEntries stores entries of inc and pushes them; the incident in
// memory follows its entry count and update time.
func (m *Manager) appendEntries(ctx context.Context, inc model.Incident, es ...model.IncidentEntry) ([]model.IncidentEntry, error) {
	written, err := m.o.Store.AddIncidentEntries(ctx, inc.ID, es...)
	if err != nil {
		return nil, fmt.Errorf("incident %d: store entries: %w", inc.ID, err)
	}
	for _, e := range written {
		inc.Entries = max(inc.Entries, e.Seq)
		if e.Time.After(inc.Updated) {
			inc.Updated = e.Time
		}
	}
	if _, ok := m.open[inc.ID]; ok {
		m.open[inc.ID] = inc
	} else if _, ok := m.recent[inc.ID]; ok {
		m.recent[inc.ID] = inc
	}
	m.push(ctx, inc, written, false)
	return written, nil
}

// remember files a stored incident as open or recently resolved and
// publishes the open ones.
func (m *Manager) remember(inc model.Incident) {
	if inc.IsOpen() {
		m.open[inc.ID] = inc
		delete(m.recent, inc.ID)
	} else {
		delete(m.open, inc.ID)
		m.recent[inc.ID] = inc
	}
	m.publish()
}

// openList is the open incidents, newest first.
func (m *Manager) openList() []model.Incident {
	out := make([]model.Incident, 0, len(m.open))
	for _, inc := range m.open {
		out = append(out, inc)
	}
	slices.SortFunc(out, func(a, b model.Incident) int { return cmp.Compare(b.ID, a.ID) })
	return out
}

// publish makes the open incidents and their acknowledged alert keys
// readable from other goroutines (Open, AckedBy).
func (m *Manager) publish() {
	open := m.openList()
	acks := map[string]string{}
	for _, inc := range open {
		if inc.AckedBy == "" {
			continue
		}
		for _, c := range inc.Checks {
			acks[checkAlertPrefix+c] = inc.AckedBy
			acks[checkAlertPrefix+c+":flapping"] = inc.AckedBy
		}
		for _, r := range inc.Rules {
			acks[r] = inc.AckedBy
		}
	}
	m.openSnap.Store(&open)
	m.ackSnap.Store(&acks)
}

// push carries entries to the incident's room and, when the incident
// itself changed, the open incidents to the dashboard and the incidents
// page.
func (m *Manager) push(ctx context.Context, inc model.Incident, es []model.IncidentEntry, changed bool) {
	if m.o.Hub == nil || m.o.View == nil {
		return
	}
	room := view.IncidentRoom(inc.ID)
	for _, e := range es {
		if evs := m.o.View.Entry(ctx, inc, e); len(evs) > 0 {
			m.o.Hub.BroadcastToRoom(room, evs...)
		}
	}
	if changed {
		if evs := m.o.View.Open(ctx, m.Open()); len(evs) > 0 {
			m.o.Hub.BroadcastToRoom(view.RoomDashboard, evs...)
			m.o.Hub.BroadcastToRoom(view.RoomIncidents, evs...)
		}
	}
}

// announce records what happened to an incident as an event on the flow:
// the event log shows it, the audit log when user is set.
func (m *Manager) announce(inc model.Incident, to model.State, what, user, addr string) {
	m.announceBy(inc, to, what, actor{user: user, addr: addr})
}

// announceBy is announce for what a did: another hub's action says which
// hub it came from.
func (m *Manager) announceBy(inc model.Incident, to model.State, what string, a actor) {
	m.o.Recorder.Event(model.Event{Time: m.o.Now(), Kind: model.EventIncident, Check: first(inc.Checks), To: to,
		From: opposite(to), User: a.user, Address: a.addr, Reason: what + " " + inc.Label() + a.via()})
}

func first(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

// opposite is the From of an incident event: down for a resolution, up
// for an opening; unknown for what changes no state.
func opposite(to model.State) model.State {
	switch to {
	case model.StateDown:
		return model.StateUp
	case model.StateUp:
		return model.StateDown
	}
	return model.StateUnknown
}
