package incident

import "errors"

// Errors of the Manager's methods. The server maps them to statuses:
// ErrNotFound 404, ErrResolved and ErrFull 409, ErrBadInput 400,
// ErrStopped 503 (and any other error, a storage failure, 503 too).
var (
	// ErrNotFound is returned when no incident has the ID (never had, or
	// retention removed it).
	ErrNotFound = errors.New("incident: no such incident")

	// ErrResolved is returned by Ack, Hold and Resolve for an incident
	// that is over: there is nothing left to take on or hold open.
	ErrResolved = errors.New("incident: already resolved")

	// ErrBadInput is returned for a request people must fix: no user, an
	// empty or too long text, a text that is not UTF-8 or holds control
	// characters.
	ErrBadInput = errors.New("incident: bad input")

	// ErrFull is returned by Note and Chat when the incident's timeline
	// holds MaxEntries entries already.
	ErrFull = errors.New("incident: the timeline is full")

	// ErrStopped is returned when the Manager is not running (dashd is
	// stopping).
	ErrStopped = errors.New("incident: not running")
)

// Errors of ApplyRemote, the other hubs' actions.
var (
	// ErrNoMatch is returned by ApplyRemote when no incident here matches
	// the action's reference (yet: the other hub may have seen the
	// failure first).
	ErrNoMatch = errors.New("incident: no incident here matches")

	// ErrDuplicate is returned by ApplyRemote for an action an entry
	// records already (a redelivery).
	ErrDuplicate = errors.New("incident: the action was applied already")
)
