// Package window is dashd's one table of named time windows ("24h", "7d"):
// the check page's chart ranges and uptime figures, the API's uptime and
// the badges all pick from it, so a window means the same span and reads
// the same everywhere.
package window

import (
	"strings"
	"time"
)

// Window is a named span ending now.
type Window struct {
	Name  string        // as in URLs and JSON keys: "24h"
	Span  time.Duration // 24 * time.Hour
	Label string        // as people read it: "24 hours"
}

const day = 24 * time.Hour

// table lists every window, shortest first.
func table() []Window {
	return []Window{
		{"1h", time.Hour, "1 hour"},
		{"24h", day, "24 hours"},
		{"7d", 7 * day, "7 days"},
		{"30d", 30 * day, "30 days"},
		{"90d", 90 * day, "90 days"},
	}
}

// All is every window, shortest first (badges accept any of them).
func All() []Window { return table() }

// Chart is the check page's latency chart ranges.
func Chart() []Window { return pick("1h", "24h", "7d", "30d") }

// DefaultChart is the chart range of a check page that names none.
const DefaultChart = "24h"

// Uptime is the windows whose uptime the check page and the API report.
func Uptime() []Window { return pick("24h", "7d", "30d", "90d") }

// Latency is the windows a latency average may span (the latency badge's
// window=): averaging decodes every result in the window, so no window is
// longer than a day, which bounds the work of one public request.
func Latency() []Window { return pick("1h", "24h") }

// Parse finds a window by name among ws.
func Parse(ws []Window, name string) (Window, bool) {
	for _, w := range ws {
		if w.Name == name {
			return w, true
		}
	}
	return Window{}, false
}

// Names lists the names of ws for a message: "1h, 24h, 7d or 30d".
func Names(ws []Window) string {
	names := make([]string, len(ws))
	for i, w := range ws {
		names[i] = w.Name
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

func pick(names ...string) []Window {
	out := make([]Window, 0, len(names))
	for _, n := range names {
		if w, ok := Parse(table(), n); ok {
			out = append(out, w)
		}
	}
	return out
}
