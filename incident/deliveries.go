package incident

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// deliveryBatch bounds the finished outbox items read per poll: far more
// than finish within a poll interval (channels keep to max_per_hour and
// group changes into few messages); should more finish, the oldest of
// them are not recorded in the timeline (logged).
const deliveryBatch = 200

// deliveryCursor is the newest finished outbox item already looked at
// (outbox_done's order: finishing time, then ID).
type deliveryCursor struct {
	done time.Time
	id   uint64
}

func (c deliveryCursor) before(it model.OutboxItem) bool {
	return it.Done.After(c.done) || it.Done.Equal(c.done) && it.ID > c.id
}

// loadCursor starts the deliveries after the newest one an open or recent
// incident recorded, so that a restart does not record them again.
func (m *Manager) loadCursor() error {
	var newest time.Time
	for _, inc := range append(m.openList(), recentList(m.recent)...) {
		after := uint64(0)
		if inc.Entries > 500 {
			after = inc.Entries - 500
		}
		es, err := m.o.Store.IncidentEntries(inc.ID, after, 500)
		if err != nil {
			return fmt.Errorf("incident: load the entries of incident %d: %w", inc.ID, err)
		}
		for _, e := range es {
			if e.Kind == model.EntryDelivery && e.Time.After(newest) {
				newest = e.Time
			}
		}
	}
	if !newest.IsZero() {
		// Items that finished in the same instant as the newest recorded
		// one were read with it.
		m.cursor = deliveryCursor{done: newest, id: math.MaxUint64}
	}
	return nil
}

func recentList(recent map[uint64]model.Incident) []model.Incident {
	out := make([]model.Incident, 0, len(recent))
	for _, inc := range recent {
		out = append(out, inc)
	}
	return out
}

// pollDeliveries records in the timelines the messages that reached a
// channel, or failed to, since the last poll: who was told what.
func (m *Manager) pollDeliveries(ctx context.Context) {
	items, err := m.o.Store.Deliveries(deliveryBatch)
	if err != nil {
		m.log.Warn("deliveries not read", "err", err)
		return
	}
	if len(items) == deliveryBatch && m.cursor.before(items[len(items)-1]) {
		m.log.Warn("more deliveries finished than one poll reads; the oldest are not in the incident timelines", "read", len(items))
	}
	byIncident := map[uint64][]model.IncidentEntry{}
	for i := len(items) - 1; i >= 0; i-- { // oldest first
		it := items[i]
		if !m.cursor.before(it) {
			continue
		}
		m.cursor = deliveryCursor{done: it.Done, id: it.ID}
		if it.Test {
			continue
		}
		if inc, s, ok := m.incidentOf(it); ok {
			byIncident[inc.ID] = append(byIncident[inc.ID], deliveryEntry(it, s))
		}
	}
	ids := make([]uint64, 0, len(byIncident))
	for id := range byIncident {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		inc, err := m.find(id)
		if err != nil {
			continue
		}
		m.addEntries(ctx, inc, byIncident[id]...)
	}
}

// incidentOf finds the open or recent incident an item's alert belongs
// to: its check or rule is involved, and the item was queued after the
// incident started (and before it was long over).
func (m *Manager) incidentOf(it model.OutboxItem) (model.Incident, subject, bool) {
	s := subject{name: it.Alert.Key, rule: true}
	if name, ok := strings.CutPrefix(it.Alert.Key, checkAlertPrefix); ok {
		name, _, _ = strings.Cut(name, ":") // check:web:flapping is web's
		s = subject{name: name}
	}
	var best model.Incident
	for _, inc := range append(m.openList(), recentList(m.recent)...) {
		if !inc.Involves(s.name) || it.Created.Before(inc.Started.Add(-time.Second)) {
			continue
		}
		if !inc.IsOpen() && it.Created.After(inc.Resolved.Add(recentFor)) {
			continue
		}
		if inc.ID > best.ID {
			best = inc
		}
	}
	return best, s, best.ID != 0
}

// deliveryEntry says what an item was and where it went.
func deliveryEntry(it model.OutboxItem, s subject) model.IncidentEntry {
	e := s.entry(model.EntryDelivery, it.Done)
	what := "message"
	switch {
	case it.Alert.State == model.AlertResolved:
		what = "resolution"
	case it.Reminder:
		what = "reminder"
	}
	if it.State == model.OutboxDelivered {
		e.Text = fmt.Sprintf("%s sent to %s: %s", what, it.Channel, it.Alert.Summary)
	} else {
		e.Text = cut(fmt.Sprintf("%s not delivered to %s: %s (%s)", what, it.Channel, it.Alert.Summary, it.LastError), MaxText)
	}
	return e
}
