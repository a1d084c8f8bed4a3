package incident

import (
	"context"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dashd/dashd/model"
)

// Ack records that user (from addr) took the incident on. The first
// acknowledgement sets its time to acknowledge and stops the reminders of
// its alerts; a later one by someone else is recorded as another
// responder. It is an event of kind ack (the audit log, and every
// session's notification). A resolved incident gives ErrResolved.
func (m *Manager) Ack(ctx context.Context, id uint64, user, addr string) error {
	if err := checkWho(user, addr); err != nil {
		return err
	}
	return m.do(ctx, func(ctx context.Context) error {
		inc, err := m.find(id)
		if err != nil {
			return err
		}
		return m.ack(ctx, inc, actor{user: user, addr: addr, at: m.o.Now()})
	})
}

// ack is Ack on Run's goroutine, for people here or on another hub.
func (m *Manager) ack(ctx context.Context, inc model.Incident, a actor) error {
	if !inc.IsOpen() {
		return fmt.Errorf("%w: %s", ErrResolved, inc.Label())
	}
	en := a.entry(model.EntryAck, "acknowledged")
	inc = clone(inc)
	if inc.Acked.IsZero() {
		inc.Acked, inc.AckedBy = a.at, a.user
	} else {
		en.Text = "also on it (acknowledged by " + inc.AckedBy + " first)"
	}
	stored, err := m.store(ctx, inc, m.automatic(inc, en)...)
	if err != nil {
		return err
	}
	m.o.Recorder.Event(model.Event{Time: m.o.Now(), Kind: model.EventAck, Check: first(stored.Checks),
		From: model.StateUnknown, To: model.StateUnknown, User: a.user, Address: a.addr,
		Reason: model.AckReasonPrefix + stored.Label() + a.via()})
	m.share(stored, a, Shared{Kind: model.EntryAck})
	return nil
}

// Note adds a note by user to the incident's timeline, open or resolved
// (a postmortem belongs there too). A public note is an update the status
// page shows. It is an event of kind incident (the audit log).
func (m *Manager) Note(ctx context.Context, id uint64, user, addr, text string, public bool) error {
	if err := checkWho(user, addr); err != nil {
		return err
	}
	text, err := cleanText("note", text)
	if err != nil {
		return err
	}
	return m.do(ctx, func(ctx context.Context) error {
		inc, err := m.find(id)
		if err != nil {
			return err
		}
		return m.note(ctx, inc, actor{user: user, addr: addr, at: m.o.Now()}, text, public)
	})
}

// note is Note on Run's goroutine.
func (m *Manager) note(ctx context.Context, inc model.Incident, a actor, text string, public bool) error {
	if err := hasRoom(inc); err != nil {
		return err
	}
	en := a.entry(model.EntryNote, text)
	en.Public = public
	if _, err := m.appendEntries(ctx, inc, en); err != nil {
		return err
	}
	what := "noted on"
	if public {
		what = "posted a public update on"
	}
	m.announceBy(inc, model.StateUnknown, what, a)
	m.share(inc, a, Shared{Kind: model.EntryNote, Text: text, Public: public})
	return nil
}

// Chat adds a line of the incident's chat (its room, where responders
// talk next to the evidence). Chat lines are not events: the audit log
// would drown in them, and the timeline keeps who wrote what from where.
func (m *Manager) Chat(ctx context.Context, id uint64, user, addr, text string) error {
	if err := checkWho(user, addr); err != nil {
		return err
	}
	text, err := cleanText("message", text)
	if err != nil {
		return err
	}
	return m.do(ctx, func(ctx context.Context) error {
		inc, err := m.find(id)
		if err != nil {
			return err
		}
		return m.chat(ctx, inc, actor{user: user, addr: addr, at: m.o.Now()}, text)
	})
}

// chat is Chat on Run's goroutine. The other hubs get the line with the
// incident's Ref, not its number here: each hub numbers its own
// incidents, so "incident 5" names another incident there.
func (m *Manager) chat(ctx context.Context, inc model.Incident, a actor, text string) error {
	if err := hasRoom(inc); err != nil {
		return err
	}
	if _, err := m.appendEntries(ctx, inc, a.entry(model.EntryChat, text)); err != nil {
		return err
	}
	m.share(inc, a, Shared{Kind: model.EntryChat, Text: text})
	return nil
}

// Resolve ends the incident by hand with a summary of what happened, even
// while something still fails (that stays listed as failing) and even if
// it was held open. A failure of something involved within ReopenGrace
// reopens it. It is an event of kind incident (the audit log).
func (m *Manager) Resolve(ctx context.Context, id uint64, user, addr, summary string) error {
	if err := checkWho(user, addr); err != nil {
		return err
	}
	summary, err := cleanText("summary", summary)
	if err != nil {
		return err
	}
	return m.do(ctx, func(ctx context.Context) error {
		inc, err := m.find(id)
		if err != nil {
			return err
		}
		return m.resolve(ctx, inc, actor{user: user, addr: addr, at: m.o.Now()}, summary)
	})
}

// resolve is Resolve on Run's goroutine.
func (m *Manager) resolve(ctx context.Context, inc model.Incident, a actor, summary string) error {
	if !inc.IsOpen() {
		return fmt.Errorf("%w: %s", ErrResolved, inc.Label())
	}
	inc = clone(inc)
	inc.State, inc.Resolved, inc.ResolvedBy, inc.Summary, inc.Held = model.IncidentResolved, a.at, a.user, summary, false
	stored, err := m.store(ctx, inc, a.entry(model.EntryResolve, summary))
	if err != nil {
		return err
	}
	m.announceBy(stored, model.StateUp, "resolved", a)
	m.share(stored, a, Shared{Kind: model.EntryResolve, Text: summary})
	return nil
}

// Hold keeps the incident open after everything recovered (held true),
// or lets go of it (false): then, if nothing fails any more, it resolves
// at once. Holding what is held already changes nothing. It is an event
// of kind incident (the audit log). A resolved incident gives
// ErrResolved.
func (m *Manager) Hold(ctx context.Context, id uint64, user, addr string, held bool) error {
	if err := checkWho(user, addr); err != nil {
		return err
	}
	return m.do(ctx, func(ctx context.Context) error {
		inc, err := m.find(id)
		if err != nil {
			return err
		}
		return m.hold(ctx, inc, actor{user: user, addr: addr, at: m.o.Now()}, held)
	})
}

// hold is Hold on Run's goroutine.
func (m *Manager) hold(ctx context.Context, inc model.Incident, a actor, held bool) error {
	if !inc.IsOpen() {
		return fmt.Errorf("%w: %s", ErrResolved, inc.Label())
	}
	if inc.Held == held {
		return nil
	}
	inc = clone(inc)
	inc.Held = held
	es := []model.IncidentEntry{a.entry(model.EntryHold, "held open")}
	what := "held open"
	resolves := !held && len(inc.Failing) == 0
	if !held {
		es[0].Text, what = "let go", "let go of"
	}
	if resolves {
		inc.State, inc.Resolved, inc.ResolvedBy = model.IncidentResolved, a.at, ""
		es = append(es, model.IncidentEntry{Kind: model.EntryResolve, Time: a.at, Text: "everything had recovered"})
	}
	stored, err := m.store(ctx, inc, m.automatic(inc, es...)...)
	if err != nil {
		return err
	}
	m.announceBy(stored, model.StateUnknown, what, a)
	if resolves {
		m.announce(stored, model.StateUp, "resolved", "", "")
	}
	m.share(stored, a, Shared{Kind: model.EntryHold, Held: held})
	return nil
}

// find returns the incident with id, from memory when it is open or just
// resolved, else from storage. Run's goroutine only.
func (m *Manager) find(id uint64) (model.Incident, error) {
	if inc, ok := m.open[id]; ok {
		return inc, nil
	}
	if inc, ok := m.recent[id]; ok {
		return inc, nil
	}
	inc, ok, err := m.o.Store.Incident(id)
	if err != nil {
		return inc, fmt.Errorf("incident %d: %w", id, err)
	}
	if !ok {
		return inc, fmt.Errorf("%w: #%d", ErrNotFound, id)
	}
	return inc, nil
}

// hasRoom refuses people's entries when the timeline is full.
func hasRoom(inc model.Incident) error {
	if inc.Entries >= MaxEntries {
		return fmt.Errorf("%w: %s has %d entries", ErrFull, inc.Label(), inc.Entries)
	}
	return nil
}

// checkWho refuses an action without a user, or with a user or address
// beyond their bounds.
func checkWho(user, addr string) error {
	switch {
	case strings.TrimSpace(user) == "":
		return fmt.Errorf("%w: no user", ErrBadInput)
	case len(user) > MaxUser || !printable(user, false):
		return fmt.Errorf("%w: user name longer than %d bytes or not printable", ErrBadInput, MaxUser)
	case len(addr) > MaxAddress || !printable(addr, false):
		return fmt.Errorf("%w: address longer than %d bytes or not printable", ErrBadInput, MaxAddress)
	}
	return nil
}

// cleanText trims a text people wrote and refuses it when empty, longer
// than MaxText bytes, not UTF-8, or holding control characters other
// than line breaks and tabs.
func cleanText(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", fmt.Errorf("%w: the %s is empty", ErrBadInput, what)
	case len(s) > MaxText:
		return "", fmt.Errorf("%w: the %s is %d bytes, at most %d", ErrBadInput, what, len(s), MaxText)
	case !printable(s, true):
		return "", fmt.Errorf("%w: the %s is not UTF-8 text or holds control characters", ErrBadInput, what)
	}
	return s, nil
}

// printable reports whether s is UTF-8 without control characters (but
// line breaks and tabs when lines is set).
func printable(s string, lines bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(lines && (r == '\n' || r == '\t' || r == '\r')) {
			return false
		}
	}
	return true
}
