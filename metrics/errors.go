package metrics

import "errors"

// ErrMissingSource is returned by New when a field of Sources is nil (or
// Version is empty): every part reads a source at scrape time, and a
// missing one is a wiring mistake better refused at start than answered
// with a gap at every scrape.
var ErrMissingSource = errors.New("metrics: missing source")

// Why a part failed a scrape. They reach the log only (the scrape shows
// dashd_scrape_collector_success 0), wrapped with the part's name.
var (
	// errPartTimeout is returned when a part's source did not answer
	// within the part's time limit.
	errPartTimeout = errors.New("no answer in time")
	// errPartStuck is returned when an earlier collection of the part has
	// still not returned: no new one is started.
	errPartStuck = errors.New("an earlier collection is still stuck")
	// errPartPanic is returned when a part's collection panicked.
	errPartPanic = errors.New("panic")
)
