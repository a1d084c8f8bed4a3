package ui

import (
	"encoding/json"
	"net/url"
	"strconv"
	"time"
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
