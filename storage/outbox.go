package storage

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/dashd/dashd/model"
)

// Bounds on alerting records (see the package doc, # Outbox). They are far
// above what an alert storm produces (50 checks x 8 channels is 400 items
// of well under 1 KiB) and keep one change small enough to be held in
// memory whole while the disk is full.
const (
	maxChangeRecords = 4096         // alerts plus outbox items in one change
	maxChangeBytes   = maxHeldBytes // approximate size of one change
	maxMarkIDs       = 4096         // items in one MarkOutbox call
	maxLabels        = 64           // labels of one alert
	maxErrorLen      = 1024         // stored LastError, cut beyond that
)

// alertReq is what the alerting request kinds carry.
type alertReq struct {
	// reqAlert: the change (a copy owned by the writer; apply fills in the
	// items' IDs), whether the request's event is stored first in the same
	// transaction, and the change's approximate size for the held bound.
	change    model.AlertChange
	withEvent bool
	bytes     int

	mark outboxMark // reqMarkOutbox

	// reqSilence: the silence to add; reqExpireSilence: ID and Expired.
	silence model.Silence
}

// outboxMark is one MarkOutbox call.
type outboxMark struct {
	channel string
	ids     []uint64
	u       model.OutboxUpdate
}

// AddEventWith stores e and the alert change c in one transaction: the
// event, the alerts' new states and the outbox items (each given its ID,
// EventID set to the event's ID, Created defaulting to the event's time)
// are all in the file or none is, so an alert is never lost between the
// event that caused it and its delivery, and never sent without its event.
// It returns the event and the items with their IDs once committed (with
// fsync). The waiting and failure contract is AddEvent's: on a failed
// commit the event and its change are held in memory as one record and
// stored together, in order with other held records, by the first commit
// that succeeds; the answer is then the event and items with ID 0 and an
// error wrapping ErrHeld, and they must not be added again. An empty
// change makes it AddEvent.
func (db *DB) AddEventWith(ctx context.Context, e model.Event, c model.AlertChange) (model.Event, []model.OutboxItem, error) {
	e, err := db.prepEvent(e)
	if err != nil {
		return e, nil, err
	}
	if c.Empty() {
		id, err := db.sync(ctx, request{kind: reqEvent, event: e})
		e.ID = id
		return e, nil, err
	}
	a, items, err := prepChange(c, e.Time, true)
	if err != nil {
		return e, nil, fmt.Errorf("storage: add event: %w", err)
	}
	rep := db.send(ctx, request{kind: reqAlert, event: e, alert: a})
	if rep.err != nil {
		return e, items, rep.err
	}
	e.ID = rep.id
	return e, rep.items, nil
}

// AddAlertChange stores an alert change that has no event of its own
// (reminders, test messages, alert state updates) in one transaction and
// returns its outbox items with their IDs once committed. Items keep the
// EventID they are given; a zero Created means now. Its waiting and
// failure contract is AddEventWith's (ErrHeld, items with ID 0). An empty
// change stores nothing and returns nil.
func (db *DB) AddAlertChange(ctx context.Context, c model.AlertChange) ([]model.OutboxItem, error) {
	if c.Empty() {
		return nil, nil
	}
	a, items, err := prepChange(c, db.now(), false)
	if err != nil {
		return nil, fmt.Errorf("storage: add alert change: %w", err)
	}
	rep := db.send(ctx, request{kind: reqAlert, alert: a})
	if rep.err != nil {
		return items, rep.err
	}
	return rep.items, nil
}

// MarkOutbox applies the outcome of one delivery attempt to the channel's
// pending items ids and returns once it is committed. State pending (a
// retry is due) records Attempts, NextAttempt, LastError and MessageID;
// delivered or failed also records Done (zero: now) and takes the items out
// of the pending set (Outbox no longer returns them; Deliveries does until
// retention removes them). The channel's counters count items. IDs that are
// not pending in the channel (unknown, or marked done already: a mark sent
// again after its answer was lost) are skipped, so marking is idempotent.
// LastError is cut to 1 KiB. Marks are not held: on a failed commit the
// error wraps ErrWriteFailed and the items are still pending (a restart
// delivers them again, under the same MessageID if the caller keeps it).
func (db *DB) MarkOutbox(ctx context.Context, channel string, ids []uint64, u model.OutboxUpdate) error {
	if channel == "" || len(channel) > maxNameLen {
		return fmt.Errorf("storage: mark outbox: %w: channel %q", ErrInvalid, trunc(channel))
	}
	switch {
	case len(ids) == 0:
		return nil
	case len(ids) > maxMarkIDs:
		return fmt.Errorf("storage: mark outbox %q: %w: %d items, at most %d at a time", channel, ErrInvalid, len(ids), maxMarkIDs)
	case u.State > model.OutboxFailed:
		return fmt.Errorf("storage: mark outbox %q: %w: state %d", channel, ErrInvalid, u.State)
	case u.Attempts < 0 || len(u.MessageID) > maxNameLen || !nsOK(u.NextAttempt) || !nsOK(u.Done):
		return fmt.Errorf("storage: mark outbox %q: %w: negative attempts, message id too long or time out of range", channel, ErrInvalid)
	}
	u.LastError = cutText(u.LastError, maxErrorLen)
	mark := outboxMark{channel: channel, ids: slices.Clone(ids), u: u}
	_, err := db.sync(ctx, request{kind: reqMarkOutbox, alert: &alertReq{mark: mark}})
	return err
}

// prepChange checks c and copies it (labels included) for the writer, so
// that its apply cannot fail because of its content (a held change goes
// first into every later commit) and the caller may reuse what it passed.
// It returns the writer's copy and the caller's (the items as they will be
// stored, still without IDs). created is the default Created of the items;
// withEvent clears their EventID (apply sets the event's).
func prepChange(c model.AlertChange, created time.Time, withEvent bool) (*alertReq, []model.OutboxItem, error) {
	if n := len(c.Alerts) + len(c.Outbox); n > maxChangeRecords {
		return nil, nil, fmt.Errorf("%w: %d alerts and outbox items, at most %d", ErrInvalid, n, maxChangeRecords)
	}
	a := &alertReq{withEvent: withEvent}
	size := 0
	if len(c.Alerts) > 0 {
		a.change.Alerts = make([]model.Alert, len(c.Alerts))
	}
	for i, al := range c.Alerts {
		if al.Key == "" {
			return nil, nil, fmt.Errorf("%w: alert %d: empty key", ErrInvalid, i)
		}
		if al.State != model.AlertFiring && al.State != model.AlertResolved {
			return nil, nil, fmt.Errorf("%w: alert %q: state %q, want firing or resolved", ErrInvalid, trunc(al.Key), al.State)
		}
		if p := alertProblem(al); p != "" {
			return nil, nil, fmt.Errorf("%w: alert %q: %s", ErrInvalid, trunc(al.Key), p)
		}
		al.Labels = maps.Clone(al.Labels)
		a.change.Alerts[i] = al
		size += alertSize(al)
	}
	if len(c.Outbox) > 0 {
		a.change.Outbox = make([]model.OutboxItem, len(c.Outbox))
	}
	for i, it := range c.Outbox {
		switch {
		case it.Channel == "" || len(it.Channel) > maxNameLen:
			return nil, nil, fmt.Errorf("%w: outbox item %d: channel %q", ErrInvalid, i, trunc(it.Channel))
		case it.State != model.OutboxPending:
			return nil, nil, fmt.Errorf("%w: outbox item %d for %q: state %s, a new item is pending", ErrInvalid, i, it.Channel, it.State)
		case it.Attempts < 0 || len(it.LastError) > maxTextLen || len(it.MessageID) > maxNameLen ||
			!nsOK(it.Created) || !nsOK(it.NextAttempt) || !nsOK(it.Done):
			return nil, nil, fmt.Errorf("%w: outbox item %d for %q: negative attempts, field too long or time out of range", ErrInvalid, i, it.Channel)
		}
		if p := alertProblem(it.Alert); p != "" {
			return nil, nil, fmt.Errorf("%w: outbox item %d for %q: alert %q: %s", ErrInvalid, i, it.Channel, trunc(it.Alert.Key), p)
		}
		it.ID = 0
		if withEvent {
			it.EventID = 0
		}
		if it.Created.IsZero() {
			it.Created = created
		}
		it.Alert.Labels = maps.Clone(it.Alert.Labels)
		a.change.Outbox[i] = it
		size += alertSize(it.Alert) + len(it.Channel) + len(it.LastError) + len(it.MessageID) + 64
	}
	if size > maxChangeBytes {
		return nil, nil, fmt.Errorf("%w: the change is about %d bytes, at most %d", ErrInvalid, size, maxChangeBytes)
	}
	a.bytes = size
	return a, slices.Clone(a.change.Outbox), nil
}

// alertProblem says what is wrong with an alert's fields ("" if nothing):
// its key is a bbolt key, the rest must fit a held change.
func alertProblem(a model.Alert) string {
	switch {
	case len(a.Key) > maxNameLen || len(a.Source) > maxNameLen || len(a.Name) > maxNameLen || len(a.Severity) > maxNameLen:
		return "key, source, name or severity too long"
	case len(a.Summary) > maxTextLen || len(a.Reason) > maxTextLen || len(a.URL) > maxTextLen:
		return "summary, reason or URL too long"
	case len(a.Labels) > maxLabels:
		return fmt.Sprintf("%d labels, at most %d", len(a.Labels), maxLabels)
	case !nsOK(a.StartsAt) || !nsOK(a.EndsAt):
		return fmt.Sprintf("time out of range (years %d-%d)", nsMinYear, nsMaxYear)
	}
	for k, v := range a.Labels {
		if len(k) > maxNameLen || len(v) > maxTextLen {
			return fmt.Sprintf("label %q too long", trunc(k))
		}
	}
	return ""
}

// alertSize approximates the memory and encoded size of an alert.
func alertSize(a model.Alert) int {
	n := 128 + len(a.Key) + len(a.Source) + len(a.Name) + len(a.Severity) + len(a.Summary) + len(a.Reason) + len(a.URL)
	for k, v := range a.Labels {
		n += 16 + len(k) + len(v)
	}
	return n
}

// cutText cuts s to at most n bytes without splitting a character.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
