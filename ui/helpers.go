package ui

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"

	"github.com/dashd/dashd/model"
)

func itoa(n int) string    { return strconv.Itoa(n) }
func utoa(n uint64) string { return strconv.FormatUint(n, 10) }
func iso(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Signals marshals the initial signals of a page for data-signals.
func Signals(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// sig is the Datastar expression of one field of a stat card's signal.
func sig(key, field string) string { return "$_v." + key + "." + field }

func widthStyle(pct float64) string {
	return "width:" + strconv.FormatFloat(clamp(pct, 0, 100), 'f', 1, 64) + "%"
}

func archSuffix(a string) string {
	if a == "" {
		return ""
	}
	return " · " + a
}

// DashboardSignals is the initial data-signals of the dashboard: every card's
// values, the unread count and the panel state.
func DashboardSignals(v DashboardView, ch ChromeView) string {
	vals := make(map[string]StatValue, len(v.Stats))
	for _, c := range v.Stats {
		vals[c.Key] = c.Value
	}
	return Signals(map[string]any{"_v": vals, "unreadCount": ch.Unread, "_notifOpen": false, "_live": false})
}

// PageSignals is the initial data-signals of a page without stat cards.
func PageSignals(ch ChromeView, extra map[string]any) string {
	m := map[string]any{"unreadCount": ch.Unread, "_notifOpen": false, "_live": false}
	for k, v := range extra {
		m[k] = v
	}
	return Signals(m)
}

func uptimeStripLabel(days []UptimeDay) string {
	good, known := 0, 0
	for _, d := range days {
		if d.Pct == d.Pct { // not NaN
			known++
			if d.Pct >= 99.9 {
				good++
			}
		}
	}
	return "Daily uptime over " + itoa(len(days)) + " days: " + itoa(good) + " of " + itoa(known) + " days with data at or above 99.9%"
}

func sinceText(age string) string {
	if age == "now" {
		return "changed just now"
	}
	return "for " + age
}

func docTitle(p Page, ch ChromeView) string {
	if ch.Heading == "" {
		return p.Title
	}
	return ch.Heading + " · " + p.Title
}

// urlQuery escapes s for a query string value.
func urlQuery(s string) string { return url.QueryEscape(s) }

// beatClass colours one bar of a heartbeat strip.
func beatClass(s model.State) string {
	switch s {
	case model.StateUp:
		return "hb-up"
	case model.StateDegraded:
		return "hb-deg"
	case model.StateDown:
		return "hb-down"
	}
	return "hb-unk"
}

// beatTitle is a bar's text: time, state and, when measured, latency. A
// failed run has no latency worth showing (a refused connect is not a
// response time).
func beatTitle(b Beat) string {
	t := b.At.Format("15:04:05") + " " + b.State.String()
	if b.State != model.StateDown && b.Latency > 0 {
		t += " " + FormatLatency(b.Latency)
	}
	return t
}

// statsColumns balances the stat grid: for each column count the screen
// may fit (2 to 8), the count that fills every row as evenly as possible
// (9 cards on 6 columns is 5+4, not 6+3). The stylesheet picks one per
// width through the custom properties --c2 .. --c8.
func statsColumns(n int) string {
	var b []byte
	for max := 2; max <= 8; max++ {
		c := max
		if n > 0 {
			rows := (n + max - 1) / max
			c = (n + rows - 1) / rows
		}
		b = append(b, "--c"...)
		b = strconv.AppendInt(b, int64(max), 10)
		b = append(b, ':')
		b = strconv.AppendInt(b, int64(c), 10)
		b = append(b, ';')
	}
	return string(b)
}

// groupStyle sizes a check group by its number of checks, so small groups
// share a row instead of each taking a whole one.
func groupStyle(n int) string { return "--k:" + itoa(min(max(n, 1), 6)) }

// askedRange is the range a check page's stream asks for: "" when the
// page fitted its range to the data, so a reconnect fits it again instead
// of stretching a young check's chart over the whole range.
func askedRange(v CheckDetailView) string {
	if v.Fitted {
		return ""
	}
	return v.Range
}

// leftStyle places a mark at pct percent of its row.
func leftStyle(pct float64) string {
	return "left:" + strconv.FormatFloat(clamp(pct, 0, 100), 'f', 1, 64) + "%"
}

// failsLabel sums up the failure marks of a latency chart.
func failsLabel(fails []FailMark) string {
	if len(fails) == 1 {
		return "1 failed run in this range: " + fails[0].Title
	}
	return itoa(len(fails)) + " failed runs in this range, latest " + fails[len(fails)-1].Title
}
