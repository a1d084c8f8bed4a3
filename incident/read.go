package incident

import (
	"fmt"
	"time"

	"github.com/dashd/dashd/model"
)

// Get returns the incident with id, or ErrNotFound.
func (m *Manager) Get(id uint64) (model.Incident, error) {
	inc, ok, err := m.o.Store.Incident(id)
	if err != nil {
		return inc, fmt.Errorf("incident %d: %w", id, err)
	}
	if !ok {
		return inc, fmt.Errorf("%w: #%d", ErrNotFound, id)
	}
	return inc, nil
}

// List returns up to limit (<= 0: 50; at most 1000) incidents, open and
// resolved, with an ID below before (0: from the newest), newest first:
// the last one's ID is the next page's before.
func (m *Manager) List(before uint64, limit int) ([]model.Incident, error) {
	incs, err := m.o.Store.Incidents(before, limit)
	if err != nil {
		return nil, fmt.Errorf("incident: list: %w", err)
	}
	return incs, nil
}

// Open returns the open incidents, newest first, from memory: what the
// dashboard shows on every (re)connect.
func (m *Manager) Open() []model.Incident {
	p := m.openSnap.Load()
	if p == nil {
		return nil
	}
	out := make([]model.Incident, len(*p))
	for i, inc := range *p {
		out[i] = clone(inc)
	}
	return out
}

// Entries returns up to limit (<= 0: 200; at most 5000) entries of the
// incident's timeline with a sequence number above after, oldest first;
// ErrNotFound for an unknown incident.
func (m *Manager) Entries(id, after uint64, limit int) ([]model.IncidentEntry, error) {
	if _, err := m.Get(id); err != nil {
		return nil, err
	}
	es, err := m.o.Store.IncidentEntries(id, after, limit)
	if err != nil {
		return nil, fmt.Errorf("incident %d: entries: %w", id, err)
	}
	return es, nil
}

// AckedBy says who acknowledged the open incident the alert with key
// belongs to (alert.Acknowledgements: its reminders stop). It answers
// from memory, without locks.
func (m *Manager) AckedBy(alertKey string) (string, bool) {
	p := m.ackSnap.Load()
	if p == nil {
		return "", false
	}
	u, ok := (*p)[alertKey]
	return u, ok
}

// Stats is how incidents went for one check over a window.
type Stats struct {
	// Count is the incidents that involved the check and started in the
	// window; Acked and Resolved how many of them were acknowledged and
	// resolved (the rest are still open, or nobody took them on).
	Count    int `json:"count"`
	Acked    int `json:"acknowledged"`
	Resolved int `json:"resolved"`
	// MTTA and MTTR are the mean times to acknowledge and to resolve over
	// those that were (0 when none was).
	MTTA time.Duration `json:"mtta_ns"`
	MTTR time.Duration `json:"mttr_ns"`
}

// maxStatsWindow bounds the window Stats reads back over: a year is far
// beyond the retention of events, which incidents follow.
const maxStatsWindow = 366 * 24 * time.Hour

// Stats figures a check's mean time to acknowledge and to resolve over
// the incidents that involved it and started in the last window (30 or 90
// days on the check page).
func (m *Manager) Stats(check string, window time.Duration) (Stats, error) {
	if check == "" || window <= 0 || window > maxStatsWindow {
		return Stats{}, fmt.Errorf("%w: a check and a window of up to %s", ErrBadInput, maxStatsWindow)
	}
	incs, err := m.o.Store.IncidentsOf(check, m.o.Now().Add(-window), 0)
	if err != nil {
		return Stats{}, fmt.Errorf("incident: stats of %q: %w", check, err)
	}
	return figure(incs), nil
}

// figure computes Stats over incidents.
func figure(incs []model.Incident) Stats {
	var s Stats
	var toAck, toResolve time.Duration
	for _, inc := range incs {
		s.Count++
		if d, ok := inc.TimeToAck(); ok {
			s.Acked++
			toAck += d
		}
		if d, ok := inc.TimeToResolve(); ok {
			s.Resolved++
			toResolve += d
		}
	}
	if s.Acked > 0 {
		s.MTTA = toAck / time.Duration(s.Acked)
	}
	if s.Resolved > 0 {
		s.MTTR = toResolve / time.Duration(s.Resolved)
	}
	return s
}
