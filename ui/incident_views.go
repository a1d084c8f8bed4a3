package ui

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Element ids of the incident pages, the dashboard's incident banner and
// the check page's MTTA/MTTR panel: the live patches find them by id.
const (
	IncidentBannerID   = "incident-banner"
	IncidentHeadID     = "incident-head"
	IncidentTimelineID = "incident-timeline"
	IncidentErrorID    = "incident-error"
	CheckIncidentsID   = "check-incidents"
)

// IncidentRow is one incident as lists, the banner and a page's header
// show it.
type IncidentRow struct {
	ID    uint64
	Title string
	Open  bool
	Held  bool
	// Started and Resolved (zero while open) with their server-side
	// text; the browser rewrites them into its local time.
	Started      time.Time
	StartedText  string
	Resolved     time.Time
	ResolvedText string
	ResolvedBy   string // "" when it resolved by itself
	Summary      string
	// AckedBy is who took it on first ("" while nobody has), at Acked.
	AckedBy   string
	Acked     time.Time
	AckedText string
	Checks    []string
	Rules     []string
	Failing   []string
	// ToAck and ToResolve are the time to acknowledge and to resolve
	// ("4m 10s"), "" until they happened.
	ToAck     string
	ToResolve string
	Entries   uint64
}

// URL is the incident's page.
func (r IncidentRow) URL() string { return IncidentURL(r.ID) }

// IncidentURL is the page of incident id.
func IncidentURL(id uint64) string { return "/incidents/" + strconv.FormatUint(id, 10) }

// IncidentEntryRow is one line of an incident's timeline.
type IncidentEntryRow struct {
	Seq  uint64
	At   time.Time
	When string
	// Kind is the entry kind (state, alert, delivery, ack, note, chat,
	// resolve, reopen, hold, update); Label says it in words.
	Kind  string
	Label string
	// Subject is the check or alert key it is about, if one; Change its
	// state change ("up → down") for state and alert entries, and State
	// the state it went to (for its colour).
	Subject string
	Change  string
	State   string
	User    string
	Text    string
	Public  bool
	// Origin is the hub of the site where someone did what the entry
	// records, when that is another hub ("" for this one's and dashd's
	// own): the line says "via <hub>".
	Origin string
}

// IncidentPageView is /incidents/{id}.
type IncidentPageView struct {
	Incident IncidentRow
	Entries  []IncidentEntryRow
	// Hidden counts the older entries the page leaves out (the API pages
	// through all of them).
	Hidden uint64
	// CanAct: the viewer may acknowledge, note, hold and resolve;
	// CanChat: post in its chat.
	CanAct  bool
	CanChat bool
	MaxText int
}

// IncidentListView is /incidents: the open incidents, then a page of all
// of them, newest first.
type IncidentListView struct {
	Open []IncidentRow
	All  []IncidentRow
	// Before is this page's ?before= (0: the first page); Next the next
	// page's (0: this is the last).
	Before uint64
	Next   uint64
}

// IncidentStatsWindow is how incidents went for a check over one window.
type IncidentStatsWindow struct {
	Label    string // "30 days"
	Count    int
	Acked    int
	Resolved int
	MTTA     string // "" when none was acknowledged
	MTTR     string // "" when none resolved
}

// CheckIncidentsView is the check page's MTTA/MTTR panel; Loaded is false
// for the placeholder the page renders before its figures arrive.
type CheckIncidentsView struct {
	Check   string
	Loaded  bool
	Windows []IncidentStatsWindow
	Problem string
}

// IncidentCheckHref is the page of a check an incident involves: a fleet
// host's check ("<check>@<host>", the subject incidents give it; the
// configuration's check names hold no "@") on its host's pages, else this
// dashd's own.
func IncidentCheckHref(check string) string {
	if i := strings.LastIndexByte(check, '@'); i > 0 && i < len(check)-1 {
		return FleetCheckHref(check[i+1:], check[:i])
	}
	return "/checks/" + url.PathEscape(check)
}

// HostCheckIncidentsURL is where the page of check on fleet host host gets
// its incidents panel: /hosts/{host}/checks/{check}/incidents. The names
// are the agent's, and the URL goes into a Datastar expression, where "$"
// and "@" are code: every byte but letters, digits, '.', '_' and '-' is
// %-escaped.
func HostCheckIncidentsURL(host, check string) string {
	return "/hosts/" + exprSegment(host) + "/checks/" + exprSegment(check) + "/incidents"
}

// exprSegment %-escapes s for a path segment inside an expression.
func exprSegment(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '.', c == '_', c == '-':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}

// FormatSpan renders a time to acknowledge or resolve: "42s", "4m 10s",
// "2h 5m", "3d 4h".
func FormatSpan(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	s := int64(d / time.Second)
	switch {
	case s < 60:
		return strconv.FormatInt(s, 10) + "s"
	case s < 3600:
		return strconv.FormatInt(s/60, 10) + "m " + strconv.FormatInt(s%60, 10) + "s"
	case s < 86400:
		return strconv.FormatInt(s/3600, 10) + "h " + strconv.FormatInt(s%3600/60, 10) + "m"
	}
	return strconv.FormatInt(s/86400, 10) + "d " + strconv.FormatInt(s%86400/3600, 10) + "h"
}

// localTimeExpr is the Datastar expression that rewrites a time element's
// text into the browser's local time with its full zone rules (the server
// renders its own zone, which is what a page without JavaScript keeps).
// Only digits reach the expression: nothing for the client to rewrite.
func localTimeExpr(t time.Time) string {
	return "new Date(" + strconv.FormatInt(t.UnixMilli(), 10) + ").toLocaleString()"
}

// displayIf is the initial inline style of an element data-show controls:
// hidden until the client takes over when show is false.
func displayIf(show bool) string {
	if show {
		return ""
	}
	return "display: none"
}

// joinNames lists checks and alert keys: "web, db, rule:disk-full:/".
func joinNames(checks, rules []string) string {
	return strings.Join(append(slices.Clone(checks), rules...), ", ")
}

func contains(list []string, s string) bool { return slices.Contains(list, s) }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
