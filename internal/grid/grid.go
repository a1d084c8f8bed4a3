// Package grid is dashd's one clock grid: the instants, whole multiples of
// an interval counted from the Unix epoch, at which the host sampler, the
// check runner and the systemd status loop wake.
//
// They must wake at the same instants, so that one wake-up of the process
// serves all three (a quiet host then sleeps between ticks instead of being
// woken three times a second). That only holds when every caller counts from
// the same epoch: time.Truncate counts from year 1, not 1970, and the two
// grids differ for every interval that does not divide a day (7s, 11m).
//
// Times are counted in nanoseconds since the Unix epoch, so both functions
// hold for the years 1678 to 2262 (the range of time.UnixNano).
package grid

import "time"

// Next returns the first multiple of d strictly after t: the next tick for a
// loop that has just served the tick at t. It returns t when d <= 0 (no grid).
func Next(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	return at(t, floor(t.UnixNano(), d)+int64(d))
}

// Until returns how long until the next multiple of d after now: the
// timer a loop on the grid sets after each tick. d must be positive (with
// no grid it returns 0, which would make such a loop spin).
func Until(d time.Duration) time.Duration {
	now := time.Now()
	return Next(now, d).Sub(now)
}

// AtOrAfter returns the first multiple of d at or after t: t itself when it
// is on the grid. It moves a due time up to the grid without skipping a tick
// that is due exactly now. It returns t when d <= 0 (no grid).
func AtOrAfter(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	ns := t.UnixNano()
	f := floor(ns, d)
	if f == ns {
		return t
	}
	return at(t, f+int64(d))
}

// floor returns the largest multiple of d at or before ns, also for times
// before the epoch, where Go's % is negative.
func floor(ns int64, d time.Duration) int64 {
	r := ns % int64(d)
	if r < 0 {
		r += int64(d)
	}
	return ns - r
}

// at is the instant ns in t's location, so a caller's time zone survives.
func at(t time.Time, ns int64) time.Time {
	return time.Unix(0, ns).In(t.Location())
}
