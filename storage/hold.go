package storage

import "fmt"

// Bounds on the records held in memory while commits fail (see the package
// doc, # Write failures). Beyond either, a record of a held kind is dropped
// like any other and its writer told so.
const (
	maxHeldRecords = 1024
	maxHeldBytes   = 1 << 20
)

// holdable reports whether a record of kind k is kept in memory and retried
// when its commit fails, instead of being dropped. Only small, important
// records dashd produces itself qualify, and only kinds whose apply cannot
// fail because of their content: a held record goes first into every
// following commit, so one that always failed would fail them all.
//
// An alert change (with its event, if it has one) is held as one record:
// it is stored whole by one later commit or not at all, in its place among
// the other held records. Its apply cannot fail because of its content:
// prepChange checked every key and size, and its encoding cannot fail.
func (k reqKind) holdable() bool { return k == reqEvent || k == reqNotification || k == reqAlert }

// String names the kind in errors and logs.
func (k reqKind) String() string {
	switch k {
	case reqSample:
		return "sample"
	case reqResult:
		return "result"
	case reqEvent:
		return "event"
	case reqNotification:
		return "notification"
	case reqMarkRead:
		return "read mark"
	case reqChat:
		return "chat message"
	case reqFlush:
		return "flush"
	case reqAlert:
		return "alert change"
	case reqMarkOutbox:
		return "outbox mark"
	case reqSilence:
		return "silence"
	case reqExpireSilence:
		return "silence expiry"
	case reqSessionPut:
		return "session"
	case reqSessionUpdate:
		return "session update"
	case reqSessionDelete:
		return "session deletion"
	case reqIncident:
		return "incident change"
	}
	return fmt.Sprintf("request kind %d", uint8(k))
}

// size approximates the memory a held request keeps alive.
func (r *request) size() int {
	const fixed = 64 // times, kinds, states, the request itself
	switch r.kind {
	case reqEvent:
		return fixed + len(r.event.Kind) + len(r.event.Check) + len(r.event.Reason)
	case reqNotification:
		return fixed + len(r.notif.Title) + len(r.notif.Body) + len(r.notif.Check)
	case reqAlert:
		n := fixed + r.alert.bytes
		if r.alert.withEvent {
			n += len(r.event.Kind) + len(r.event.Check) + len(r.event.Reason)
		}
		return n
	}
	return fixed
}

// heldQueue is the records whose commit failed and that the next commit
// retries first, oldest first (so IDs keep following the order the records
// were written in). It is owned by the goroutine that owns the writer.
type heldQueue struct {
	reqs  []*request
	bytes int
}

// hold keeps r if the bounds allow and reports whether it did.
func (q *heldQueue) hold(r *request) bool {
	n := r.size()
	if len(q.reqs) >= maxHeldRecords || q.bytes+n > maxHeldBytes {
		return false
	}
	q.reqs = append(q.reqs, r)
	q.bytes += n
	return true
}

// clear forgets every held record (they were stored, or are given up).
func (q *heldQueue) clear() {
	clear(q.reqs)
	q.reqs, q.bytes = q.reqs[:0], 0
}

// heldErr answers a synchronous writer whose record is held.
func heldErr(k reqKind, cause error) error {
	return fmt.Errorf("storage: commit failed; the %s is held in memory and written with the first commit that succeeds (no ID yet): %w: %w", k, ErrHeld, cause)
}

// droppedErr answers a synchronous writer whose record is lost.
func droppedErr(k reqKind, cause error) error {
	if k == reqFlush {
		return fmt.Errorf("storage: flush: %w: %w", ErrWriteFailed, cause)
	}
	return fmt.Errorf("storage: commit failed; the %s was not stored: %w: %w", k, ErrWriteFailed, cause)
}
