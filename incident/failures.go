package incident

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// recentFor is how long a resolved incident is kept in memory: it may
// reopen within ReopenGrace, and the messages of its resolution are
// delivered after it resolved (group_wait, retries), which its timeline
// records.
const recentFor = 10 * time.Minute

// checkAlertPrefix starts the key of a check's alert ("check:web",
// "check:web:flapping"); alert keys of rules and dashd's own start
// otherwise.
const checkAlertPrefix = model.AlertSourceCheck + ":"

// subject is one thing that fails: a check (by name) or an alert of a
// host rule or dashd itself (by key).
type subject struct {
	name string
	rule bool
}

// entry is an entry about s.
func (s subject) entry(kind model.EntryKind, at time.Time) model.IncidentEntry {
	e := model.IncidentEntry{Kind: kind, Time: at}
	if s.rule {
		e.Rule = s.name
	} else {
		e.Check = s.name
	}
	return e
}

// join adds s to the incident's checks or rules; it reports whether s is
// new to it.
func (s subject) join(inc *model.Incident) bool {
	if s.rule {
		return addName(&inc.Rules, s.name)
	}
	return addName(&inc.Checks, s.name)
}

func addName(list *[]string, name string) bool {
	if slices.Contains(*list, name) {
		return false
	}
	*list = append(*list, name)
	return true
}

func removeName(list *[]string, name string) bool {
	i := slices.Index(*list, name)
	if i < 0 {
		return false
	}
	*list = slices.Delete(*list, i, i+1)
	return true
}

// handle takes one event of the flow.
func (m *Manager) handle(ctx context.Context, e model.Event) {
	switch e.Kind {
	case model.EventCheck:
		m.checkChanged(ctx, e)
	case model.EventFlapping:
		m.flapped(ctx, e)
	case model.EventAlert:
		m.alertChanged(ctx, e)
	}
}

// checkChanged follows a check's state change: down opens, joins or
// reopens; degraded keeps an involved check failing; up recovers it.
func (m *Manager) checkChanged(ctx context.Context, e model.Event) {
	s := subject{name: e.Check}
	en := s.entry(model.EntryState, e.Time)
	en.From, en.To, en.Text = e.From, e.To, e.Reason
	switch e.To {
	case model.StateDown:
		m.fail(ctx, s, e.Time, e.Check+" is down", en, true)
	case model.StateDegraded:
		m.fail(ctx, s, e.Time, "", en, false)
	case model.StateUp:
		m.recover(ctx, s, e.Time, en)
	}
}

// alertChanged follows a host rule's or dashd's own alert (the event's
// Check is the alert's key). A check's own alert comes this way only when
// a reload removed the check: nothing will report it up again.
func (m *Manager) alertChanged(ctx context.Context, e model.Event) {
	key := e.Check
	if key == "" {
		return
	}
	if name, ok := strings.CutPrefix(key, checkAlertPrefix); ok {
		if e.To == model.StateUp && !strings.Contains(name, ":") {
			s := subject{name: name}
			en := s.entry(model.EntryState, e.Time)
			en.From, en.To, en.Text = model.StateDown, model.StateUnknown, e.Reason
			m.recover(ctx, s, e.Time, en)
		}
		return
	}
	m.ruleChanged(ctx, key, e.Reason, e)
}

// ruleChanged follows the alert keyed key (a host rule's or dashd's own,
// here or on a fleet host): firing (e.To down) opens, joins or reopens an
// incident titled title; anything else recovers it. The entry's text is
// the event's.
func (m *Manager) ruleChanged(ctx context.Context, key, title string, e model.Event) {
	s := subject{name: key, rule: true}
	en := s.entry(model.EntryAlert, e.Time)
	en.Text = e.Reason
	if e.To == model.StateDown {
		en.From, en.To = model.StateUp, model.StateDown
		m.fail(ctx, s, e.Time, title, en, true)
		return
	}
	en.From, en.To = model.StateDown, model.StateUp
	m.recover(ctx, s, e.Time, en)
}

// flapped records a check starting or stopping to flap in the open
// incidents that involve it; flapping alone opens nothing.
func (m *Manager) flapped(ctx context.Context, e model.Event) {
	s := subject{name: e.Check}
	for _, inc := range m.openInvolving(e.Check) {
		en := s.entry(model.EntryState, e.Time)
		en.From, en.To, en.Text = e.From, e.To, "flapping: "+e.Reason
		if e.To == model.StateUp {
			en.Text = e.Reason
		}
		m.addEntries(ctx, inc, en)
	}
}

// fail records that s fails at at. With opens, s joins the open incident
// (the newest, should there be several), or reopens one it was part of
// that resolved less than ReopenGrace ago, or opens a new one titled
// title. Without, it only counts in the open incidents it is part of.
func (m *Manager) fail(ctx context.Context, s subject, at time.Time, title string, en model.IncidentEntry, opens bool) {
	targets := m.openInvolving(s.name)
	if opens {
		if cur, ok := m.current(); ok && !slices.ContainsFunc(targets, func(i model.Incident) bool { return i.ID == cur.ID }) {
			targets = append(targets, cur)
		}
	}
	if len(targets) > 0 {
		for _, inc := range targets {
			inc = clone(inc)
			joined := s.join(&inc)
			added := addName(&inc.Failing, s.name)
			if !joined && !added && en.From == model.StateUnknown {
				continue // still failing after a restart: no news
			}
			m.update(ctx, inc, m.automatic(inc, en)...)
		}
		return
	}
	if !opens {
		return
	}
	if inc, ok := m.reopenable(s.name, at); ok {
		inc = clone(inc)
		inc.State, inc.Resolved, inc.ResolvedBy, inc.Held = model.IncidentOpen, time.Time{}, "", false
		s.join(&inc)
		addName(&inc.Failing, s.name)
		en.Kind = model.EntryReopen
		if stored, ok := m.update(ctx, inc, m.automatic(inc, en)...); ok {
			m.announce(stored, model.StateDown, "reopened", "", "")
		}
		return
	}
	inc := model.Incident{Title: cut(title, maxTitle), State: model.IncidentOpen, Started: at, Updated: at,
		Checks: []string{}, Failing: []string{s.name}}
	if inc.Title == "" {
		inc.Title = s.name + " is failing"
	}
	s.join(&inc)
	stored, es, err := m.o.Store.CreateIncident(ctx, inc, en)
	if err != nil {
		m.log.Error("incident not opened", "subject", s.name, "err", err)
		return
	}
	m.remember(stored)
	m.push(ctx, stored, es, true)
	m.announce(stored, model.StateDown, "opened", "", "")
}

// recover records that s no longer fails, in every open incident it is
// part of; an incident left with nothing failing resolves, unless held.
func (m *Manager) recover(ctx context.Context, s subject, at time.Time, en model.IncidentEntry) {
	for _, inc := range m.openInvolving(s.name) {
		inc = clone(inc)
		removed := removeName(&inc.Failing, s.name)
		if !removed && en.From == model.StateUnknown {
			continue // up after a restart, and it was not failing: no news
		}
		entries := []model.IncidentEntry{en}
		resolves := false
		if removed && len(inc.Failing) == 0 {
			if inc.Held {
				entries = append(entries, model.IncidentEntry{Kind: model.EntryUpdate, Time: at,
					Text: "everything recovered; held open until someone resolves it or lets go"})
			} else {
				resolves = true
				inc.State, inc.Resolved, inc.ResolvedBy = model.IncidentResolved, at, ""
				entries = append(entries, model.IncidentEntry{Kind: model.EntryResolve, Time: at, Text: "everything recovered"})
			}
		}
		if stored, ok := m.update(ctx, inc, m.automatic(inc, entries...)...); ok && resolves {
			m.announce(stored, model.StateUp, "resolved", "", "")
		}
	}
}

// reconcile compares the failing checks of the open incidents with the
// checks' live state, after the subscription dropped messages: a check
// whose recovery was missed recovers now.
func (m *Manager) reconcile(ctx context.Context) {
	if m.o.Checks == nil {
		return
	}
	m.log.Warn("flow messages were dropped; re-reading the failing checks")
	var up []string
	for _, inc := range m.openList() {
		for _, name := range inc.Failing {
			if st, ok := m.o.Checks.Status(name); ok && st.State == model.StateUp && !slices.Contains(up, name) {
				up = append(up, name)
			}
		}
	}
	now := m.o.Now()
	for _, name := range up {
		s := subject{name: name}
		en := s.entry(model.EntryState, now)
		en.From, en.To, en.Text = model.StateDown, model.StateUp, "up (seen after missed updates)"
		m.recover(ctx, s, now, en)
	}
}

// openInvolving returns the open incidents that s is part of, oldest
// first.
func (m *Manager) openInvolving(name string) []model.Incident {
	var out []model.Incident
	for _, inc := range m.openList() {
		if inc.Involves(name) {
			out = append(out, inc)
		}
	}
	slices.Reverse(out)
	return out
}

// current is the newest open incident, which new failures join.
func (m *Manager) current() (model.Incident, bool) {
	var cur model.Incident
	for _, inc := range m.open {
		if inc.ID > cur.ID {
			cur = inc
		}
	}
	return cur, cur.ID != 0
}

// reopenable is the newest incident s was part of that resolved less than
// ReopenGrace before at.
func (m *Manager) reopenable(name string, at time.Time) (model.Incident, bool) {
	var best model.Incident
	for _, inc := range m.recent {
		if inc.Involves(name) && at.Sub(inc.Resolved) < ReopenGrace && inc.ID > best.ID {
			best = inc
		}
	}
	return best, best.ID != 0
}

// expireRecent forgets incidents that resolved more than recentFor ago.
func (m *Manager) expireRecent() {
	now := m.o.Now()
	for id, inc := range m.recent {
		if now.Sub(inc.Resolved) >= recentFor {
			delete(m.recent, id)
		}
	}
}

// automatic bounds dashd's own entries: they fill the timeline up to
// MaxEntries, the last slot saying that it is full; beyond, they are left
// out.
func (m *Manager) automatic(inc model.Incident, es ...model.IncidentEntry) []model.IncidentEntry {
	room := int64(MaxEntries) - int64(inc.Entries)
	switch {
	case int64(len(es)) < room:
		return es
	case room <= 0 || len(es) == 0:
		return nil
	}
	notice := model.IncidentEntry{Kind: model.EntryUpdate, Time: es[0].Time,
		Text: "the timeline is full: dashd records no more changes (the incident still follows what fails)"}
	return append(slices.Clone(es[:room-1]), notice)
}

// clone copies an incident so that changing its lists leaves the stored
// copies in memory alone.
func clone(inc model.Incident) model.Incident {
	inc.Checks, inc.Rules, inc.Failing = slices.Clone(inc.Checks), slices.Clone(inc.Rules), slices.Clone(inc.Failing)
	if inc.Checks == nil {
		inc.Checks = []string{}
	}
	if inc.Failing == nil {
		inc.Failing = []string{}
	}
	return inc
}

// cut shortens s to at most n bytes, on a rune boundary, marking the cut.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - len("…")
	for i > 0 && !utf8RuneStart(s[i]) {
		i--
	}
	return s[:i] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
