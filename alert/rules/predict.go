package rules

import (
	"math"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/storage"
)

// History is the stored metric history fs_full_in fits: *storage.DB
// satisfies it. Range returns the points of series in [from, to], oldest
// first, at most maxPoints of them.
type History interface {
	Range(series string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
}

var _ History = (*storage.DB)(nil)

// Prediction limits.
const (
	// RefitEvery is how often a filesystem's prediction is re-fitted at
	// most: one Range over the minute tier per filesystem and minute,
	// instead of one per sample.
	RefitEvery = time.Minute
	// MinFitPoints is the fewest points a fit uses; the points must also
	// cover at least half of the rule's Window.
	MinFitPoints = 10
)

// availSeries is the stored series of a mount point's available bytes.
func availSeries(mount string) string {
	return model.SeriesKey(series.FSMetrics()[2], series.LabelMount, mount)
}

// fit is the outcome of one least-squares fit of available bytes.
type fit struct {
	at time.Time
	// ok is false when there was not enough data (or no history).
	ok bool
	// fullIn is the predicted time until full in seconds, +Inf when the
	// trend is flat or rising.
	fullIn float64
	// avail is the fitted available bytes at the fit time; slope the trend
	// in bytes per second (negative: filling up).
	avail, slope float64
	points       int
	span         time.Duration
}

// fitAvail fits a line through the points (time, available bytes) and
// predicts when it reaches zero, counting from now. It refuses fewer than
// MinFitPoints finite points or points spanning less than window/2.
func fitAvail(pts []storage.SeriesPoint, now time.Time, window time.Duration) fit {
	f := fit{at: now}
	var n, sx, sy float64
	var first, last time.Time
	for _, p := range pts {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		if first.IsZero() {
			first = p.Time
		}
		last = p.Time
		n++
		sx += p.Time.Sub(now).Seconds()
		sy += p.Value
	}
	f.points = int(n)
	f.span = last.Sub(first)
	if f.points < MinFitPoints || f.span < window/2 {
		return f
	}
	// Centred sums: byte counts of 1e12 and times of 1e4 s stay exact
	// enough in float64 this way.
	mx, my := sx/n, sy/n
	var sxx, sxy float64
	for _, p := range pts {
		if math.IsNaN(p.Value) || math.IsInf(p.Value, 0) {
			continue
		}
		dx := p.Time.Sub(now).Seconds() - mx
		sxx += dx * dx
		sxy += dx * (p.Value - my)
	}
	if sxx == 0 {
		return f
	}
	f.ok = true
	f.slope = sxy / sxx
	f.avail = my - f.slope*mx // the line at x = 0, now
	switch {
	case f.slope >= 0:
		f.fullIn = math.Inf(1)
	case f.avail <= 0:
		f.fullIn = 0
	default:
		f.fullIn = f.avail / -f.slope
	}
	return f
}

// refit reads the window of history and fits it; a nil History or a read
// error is no fit (the error is returned for the log).
func refit(h History, mount string, now time.Time, window time.Duration) (fit, error) {
	if h == nil {
		return fit{at: now}, nil
	}
	// One point per minute: Range then reads the minute tier. The window
	// holds one minute slot more than that, so Range merges into slightly
	// wider buckets labelled by their start: points may be placed up to a
	// minute early, which shortens a prediction by at most about a minute.
	maxPoints := max(int(window/time.Minute), 1)
	pts, err := h.Range(availSeries(mount), now.Add(-window), now, maxPoints)
	if err != nil {
		return fit{at: now}, err
	}
	return fitAvail(pts, now, window), nil
}
