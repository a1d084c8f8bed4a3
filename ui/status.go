package ui

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// OverallStatus counts checks per state; StatusBadge renders it as
// "All up", "2 degraded" or "1 down".
type OverallStatus struct {
	Up, Unknown, Degraded, Down int
}

// Total is the number of checks counted.
func (o OverallStatus) Total() int { return o.Up + o.Unknown + o.Degraded + o.Down }

// State is the worst state counted; Up when there are no checks at all.
func (o OverallStatus) State() model.State {
	switch {
	case o.Down > 0:
		return model.StateDown
	case o.Degraded > 0:
		return model.StateDegraded
	case o.Unknown > 0:
		return model.StateUnknown
	}
	return model.StateUp
}

// Label is the short text of the badge.
func (o OverallStatus) Label() string {
	switch {
	case o.Total() == 0:
		return "No checks"
	case o.Down > 0 && o.Degraded > 0:
		return fmt.Sprintf("%d down, %d degraded", o.Down, o.Degraded)
	case o.Down > 0:
		return fmt.Sprintf("%d down", o.Down)
	case o.Degraded > 0:
		return fmt.Sprintf("%d degraded", o.Degraded)
	case o.Unknown > 0:
		return fmt.Sprintf("%d pending", o.Unknown)
	}
	return "All up"
}

// Description is the longer text for screen readers and the tooltip.
func (o OverallStatus) Description() string {
	return fmt.Sprintf("%d checks: %d up, %d degraded, %d down, %d unknown",
		o.Total(), o.Up, o.Degraded, o.Down, o.Unknown)
}

// CheckBadgeView is what CheckBadge shows about one check.
type CheckBadgeView struct {
	Name    string
	State   model.State
	Reason  string
	Latency time.Duration
}

// StatusBadgeID is the element id of the overall status badge; GET
// /api/status answers with a morph of that element.
const StatusBadgeID = "status-badge"

// CheckBadgeID is the element id of one check's state badge (the check
// detail page's header badge, patched by /api/checks/{name}/status).
func CheckBadgeID(name string) string { return "check-badge-" + Slug(name) }

// Slug turns any check or room name into a string that is safe in an
// element id and a CSS selector: ASCII letters, digits and '-' stay, every
// other byte becomes "_xx" (hex), so distinct names never share a slug.
func Slug(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
			s := strconv.FormatUint(uint64(c), 16)
			if len(s) == 1 {
				b.WriteByte('0')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// stateLabel is the capitalised display name of a state.
func stateLabel(s model.State) string {
	switch s {
	case model.StateUp:
		return "Up"
	case model.StateDegraded:
		return "Degraded"
	case model.StateDown:
		return "Down"
	}
	return "Unknown"
}

func stateClass(s model.State) string { return "st-" + s.String() }

// Add counts one check in state s.
func (o *OverallStatus) Add(s model.State) {
	switch s {
	case model.StateUp:
		o.Up++
	case model.StateDegraded:
		o.Degraded++
	case model.StateDown:
		o.Down++
	default:
		o.Unknown++
	}
}

// statusPoll is the header badge's poll: every 5 s, or, on a page whose
// stream carries the badge, only while that stream is down ($_live is the
// stream's connection state).
func statusPoll(ch ChromeView) string {
	if ch.StatusLive {
		return "!$_live && @get('/api/status')"
	}
	return "@get('/api/status')"
}
