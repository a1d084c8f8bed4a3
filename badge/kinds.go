package badge

import (
	"math"
	"strconv"
	"time"

	"github.com/dashd/dashd/model"
)

// StateBadge is the badge for a check's state: the state name ("up",
// "degraded", "down", "unknown") coloured by StateColor.
func StateBadge(label string, s model.State) Badge {
	return Badge{Label: label, Message: s.String(), Color: StateColor(s)}
}

// UptimeBadge is the badge for an uptime percentage, formatted by FormatUptime
// and coloured by UptimeColor; NaN means no data.
func UptimeBadge(label string, pct float64) Badge {
	return Badge{Label: label, Message: FormatUptime(pct), Color: UptimeColor(pct)}
}

// LatencyBadge is the badge for a latency, formatted by FormatLatency and
// coloured by LatencyColor with thresholds (nil for the defaults); a negative
// latency means not measured.
func LatencyBadge(label string, d time.Duration, thresholds []time.Duration) Badge {
	return Badge{Label: label, Message: FormatLatency(d), Color: LatencyColor(d, thresholds)}
}

// FormatUptime formats a percentage with two decimals, truncated rather than
// rounded so that 99.999 reads "99.99%" and only a perfect record reads
// "100%". NaN is "no data"; values are clamped to [0, 100].
func FormatUptime(pct float64) string {
	switch {
	case math.IsNaN(pct):
		return "no data"
	case pct >= 100:
		return "100%"
	case pct <= 0:
		return "0.00%"
	}
	// The epsilon keeps binary representation error (99.95*100 is
	// 9994.999...) from truncating a displayed digit away.
	t := math.Floor(pct*100+1e-6) / 100
	return strconv.FormatFloat(t, 'f', 2, 64) + "%"
}

// FormatLatency formats a latency for a badge: "0.4 ms" and "3.2 ms" below
// 10 ms, "123 ms" below a second, "1.25 s" above. Negative is "no data".
func FormatLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d < 0:
		return "no data"
	case d < 100*time.Microsecond:
		return "<0.1 ms"
	// The bounds sit half a unit below the next format so rounding never
	// shows "10.0 ms" or "1000 ms".
	case d < 10*time.Millisecond-50*time.Microsecond:
		return strconv.FormatFloat(ms, 'f', 1, 64) + " ms"
	case d < time.Second-500*time.Microsecond:
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
