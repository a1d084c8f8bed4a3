package storage

import (
	"fmt"
	"iter"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// reminderEvery is the pace of the "still failing" log line during a
// failure streak: the first failure and the recovery are logged at once,
// the commits in between (one a second) only this often.
const reminderEvery = time.Minute

// WriteHealth is a snapshot of how the writer's commits are going, for
// /readyz, /metrics and the dashboard banner. It is a plain value: the
// counters are totals since Open, so a scrape can turn them into rates.
type WriteHealth struct {
	// OK is false while commits fail (the disk is full, read-only or
	// failing): from a failed commit until one succeeds that stored a
	// sample, or any that succeeds if no sample was lost meanwhile (a small
	// commit may still fit in the file's free pages while it cannot grow).
	// A fresh DB is OK.
	OK bool

	// FailingSince is when the current failure streak began (its first
	// failed commit); zero while OK.
	FailingSince time.Time

	// LastError is the error of the most recent failed commit, and
	// LastErrorAt when it happened. They are kept after recovery so an
	// operator can still see what went wrong; empty/zero if no commit
	// ever failed.
	LastError   string
	LastErrorAt time.Time

	// LastCommit is when the most recent commit succeeded; zero if none
	// did since Open.
	LastCommit time.Time

	// FailedCommits counts the commits that failed since Open.
	FailedCommits uint64

	// Dropped counts, by kind, the records that were accepted but never
	// stored since Open: their commit failed (and they are not of a kind
	// that is held), the memory for held records was full, or an
	// asynchronous write found the queue full. A dropped sample is a gap
	// in the charts.
	Dropped DropCounts

	// Held is the number of records (events, notifications, alert
	// changes: one each, with its event and outbox items) kept in
	// memory because their commit failed; every following commit retries
	// them first. HeldBytes is their approximate size. Both fall to zero
	// once a commit succeeds.
	Held      int
	HeldBytes int
}

// String summarises the state in one line for logs, /readyz and the
// dashboard banner.
func (h WriteHealth) String() string {
	if h.OK {
		return "storage writes OK"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "storage writes failing since %s (%d failed commits): %s", h.FailingSince.UTC().Format(time.RFC3339), h.FailedCommits, h.LastError)
	if n := h.Dropped.Total(); n > 0 {
		fmt.Fprintf(&b, "; %d records dropped", n)
	}
	if h.Held > 0 {
		fmt.Fprintf(&b, "; %d held in memory until the disk accepts writes", h.Held)
	}
	return b.String()
}

// DropCounts counts records that were not stored, by kind.
type DropCounts struct {
	Samples       uint64 // ticks of host and check samples (each a gap in every chart)
	Results       uint64 // check results (a gap in the check's history and uptime)
	Events        uint64
	Notifications uint64
	Chat          uint64
	ReadMarks     uint64 // notification read marks
	// Alerts counts alerting records: alert changes (AddAlertChange, and
	// AddEventWith with a change: its event is counted here, not in
	// Events), outbox marks and silences. A lost alert change is a
	// notification nobody receives.
	Alerts uint64
}

// Total is the sum over every kind.
func (d DropCounts) Total() uint64 {
	var n uint64
	for _, v := range d.All() {
		n += v
	}
	return n
}

// All yields every kind with its count in a fixed order, under the names
// dashd uses as the metric label "kind": sample, result, event,
// notification, chat, read_mark, alert (zero counts included, so a metric
// series exists from the start).
func (d DropCounts) All() iter.Seq2[string, uint64] {
	return func(yield func(string, uint64) bool) {
		_ = yield("sample", d.Samples) && yield("result", d.Results) && yield("event", d.Events) &&
			yield("notification", d.Notifications) && yield("chat", d.Chat) && yield("read_mark", d.ReadMarks) &&
			yield("alert", d.Alerts)
	}
}

// add counts one record of kind k (requests that store nothing, such as
// Flush, are not counted).
func (d *DropCounts) add(k reqKind) {
	switch k {
	case reqSample:
		d.Samples++
	case reqResult:
		d.Results++
	case reqEvent:
		d.Events++
	case reqNotification:
		d.Notifications++
	case reqChat:
		d.Chat++
	case reqMarkRead:
		d.ReadMarks++
	case reqAlert, reqMarkOutbox, reqSilence, reqExpireSilence:
		d.Alerts++
	}
}

func (d *DropCounts) merge(o DropCounts) {
	d.Samples += o.Samples
	d.Results += o.Results
	d.Events += o.Events
	d.Notifications += o.Notifications
	d.Chat += o.Chat
	d.ReadMarks += o.ReadMarks
	d.Alerts += o.Alerts
}

// logAttrs lists the non-zero kinds as slog attributes.
func (d DropCounts) logAttrs() []any {
	var out []any
	for k, v := range d.All() {
		if v > 0 {
			out = append(out, slog.Uint64(k, v))
		}
	}
	return out
}

// healthTracker keeps WriteHealth and decides what to log about it. The
// writer goroutine updates it after every commit; readers take snapshots
// from any goroutine. mu is never held while logging or doing I/O.
type healthTracker struct {
	mu sync.Mutex
	h  WriteHealth

	// The current streak: failed commits, records dropped, whether a line
	// was logged about it; and when the last line was logged.
	streakFailed  uint64
	streakDropped DropCounts
	streakLogged  bool
	lastLogged    time.Time
}

func newHealthTracker() *healthTracker {
	return &healthTracker{h: WriteHealth{OK: true}}
}

func (t *healthTracker) snapshot() WriteHealth {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.h
}

// dropped counts records lost outside a commit (a full queue).
func (t *healthTracker) dropped(k reqKind) {
	t.mu.Lock()
	t.h.Dropped.add(k)
	t.mu.Unlock()
}

// lost counts held records given up at Close.
func (t *healthTracker) lost(d DropCounts) {
	t.mu.Lock()
	t.h.Dropped.merge(d)
	t.h.Held, t.h.HeldBytes = 0, 0
	t.mu.Unlock()
}

// commitOutcome is what one call of commit did, as the tracker needs it.
type commitOutcome struct {
	at        time.Time
	err       error      // the last failed transaction's error; nil: none failed
	failedTx  int        // transactions that failed
	committed bool       // a transaction succeeded (maybe only the retry without samples)
	samples   bool       // a sample was stored
	dropped   DropCounts // records lost
	held      int        // records (and their bytes) held after the commit
	heldB     int
	written   int // held records from earlier commits stored now
}

// note records one commit. A failure streak starts with a failed commit and
// ends with a successful one that stored a sample (the largest regular
// commit: smaller ones may still fit in the file's free pages while the
// file cannot grow), or any successful one if no sample was lost during the
// streak. It logs the start of a streak, its end, and at most one reminder
// per reminderEvery in between; a streak that starts less than
// reminderEvery after the last line (the disk hovering at full) is logged
// only by the next reminder, and its end only if that came.
func (t *healthTracker) note(log *slog.Logger, o commitOutcome) {
	t.mu.Lock()
	h := &t.h
	h.Dropped.merge(o.dropped)
	h.Held, h.HeldBytes = o.held, o.heldB
	if o.committed {
		h.LastCommit = o.at
	}
	due := t.lastLogged.IsZero() || o.at.Sub(t.lastLogged) >= reminderEvery
	var line func()
	switch {
	case o.err == nil && !h.OK && (o.samples || t.streakDropped.Samples == 0):
		if t.streakLogged {
			t.lastLogged = o.at
			since, failed, dropped, written := h.FailingSince, t.streakFailed, t.streakDropped, o.written
			line = func() {
				args := []any{"failed_for", o.at.Sub(since).Round(time.Millisecond), "failed_commits", failed,
					"dropped", dropped.Total(), "held_written", written}
				if attrs := dropped.logAttrs(); len(attrs) > 0 {
					args = append(args, slog.Group("dropped_by_kind", attrs...))
				}
				log.Warn("storage: commits succeed again", args...)
			}
		}
		h.OK, h.FailingSince = true, time.Time{}
		t.streakFailed, t.streakDropped, t.streakLogged = 0, DropCounts{}, false
	case o.err != nil:
		h.FailedCommits += uint64(o.failedTx)
		h.LastError, h.LastErrorAt = o.err.Error(), o.at
		t.streakFailed += uint64(o.failedTx)
		t.streakDropped.merge(o.dropped)
		starts := h.OK
		if starts {
			h.OK, h.FailingSince = false, o.at
		}
		if due {
			t.lastLogged, t.streakLogged = o.at, true
			since, failed, dropped, held := h.FailingSince, t.streakFailed, t.streakDropped.Total(), o.held
			line = func() {
				if starts {
					log.Error("storage: commits failing; records that cannot be stored are dropped (samples, results, chat, read marks) or held in memory (events, notifications, alert changes) until a commit succeeds",
						"err", o.err, "dropped", dropped, "held", held)
					return
				}
				log.Error("storage: commits still failing", "err", o.err, "since", since, "for", o.at.Sub(since).Round(time.Second),
					"failed_commits", failed, "dropped", dropped, "held", held)
			}
		}
	}
	t.mu.Unlock()
	if line != nil {
		line()
	}
}

// WriteHealth returns how the writer's commits are going. It is cheap and
// safe to call from any goroutine at any time (also after Close).
func (db *DB) WriteHealth() WriteHealth { return db.health.snapshot() }
