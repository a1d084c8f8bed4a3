package ui

import "time"

// StatusPageView is the public status page (view.StatusPage builds it):
// only what the operator chose to show, under public names. Everything
// in it is for anyone to read; nothing per user, so its bytes are cached
// and shared.
type StatusPageView struct {
	Title       string
	Description string
	Footer      string
	// Path is the page's path; its feed is FeedURL, its stream StreamURL.
	Path   string
	Banner StatusBanner
	Groups []StatusGroup
	// Open are the open incidents involving a shown check, newest first;
	// Past those resolved within PastDays.
	Open        []StatusIncident
	Past        []StatusIncident
	PastDays    int
	Maintenance []StatusMaintenance
	// Updated is when the view was built.
	Updated time.Time
}

// FeedURL is the Atom feed of the page's incidents.
func (v StatusPageView) FeedURL() string { return v.Path + "/feed.atom" }

// StreamURL is the page's live stream.
func (v StatusPageView) StreamURL() string { return v.Path + "/events" }

// Status levels of the banner and of a check's pill: CSS classes
// (sp-ok, sp-down, ...) and words.
const (
	StatusOK      = "ok"
	StatusDegr    = "degraded"
	StatusPartial = "partial"
	StatusMajor   = "major"
	StatusMaint   = "maint"
	StatusPending = "pending"
)

// StatusBanner is the overall line at the top ("All systems operational").
type StatusBanner struct {
	Level string
	Text  string
}

// StatusGroup is one group of checks under its public name.
type StatusGroup struct {
	ID     string // element id (by position: ids never carry internal names)
	Name   string
	Checks []StatusCheck
}

// StatusCheck is one check under its public name: its state now and its
// daily uptime bars.
type StatusCheck struct {
	ID    string // element id, patched live (by position, like the group's)
	Name  string
	Level string // a Status level
	Label string // "Operational", "Outage", ...
	// Reason is why it is not up; empty unless the operator allows
	// reasons (status_page.show_reasons).
	Reason string
	// Uptime sums the bars ("99.95% uptime over 90 days", "No data yet").
	Uptime string
	Days   []StatusDay
}

// StatusDay is one bar: one UTC day, coloured by its uptime.
type StatusDay struct {
	Class string // d-none (no data), d-100, d-99, d-95, d-low
	Title string // "2026-01-05: 99.95% up"
}

// StatusIncident is an incident as the public sees it: what it affected
// (public names) and its public updates, never its timeline.
type StatusIncident struct {
	ID       uint64
	Title    string
	Open     bool
	Started  time.Time
	Resolved time.Time
	Updates  []StatusUpdate // newest first
}

// Anchor is the incident's element id, the target of feed links.
func (i StatusIncident) Anchor() string { return "incident-" + utoa(i.ID) }

// StatusUpdate is one public note.
type StatusUpdate struct {
	Time time.Time
	Text string
}

// StatusMaintenance is a maintenance window affecting shown checks: going
// on (Active) or planned.
type StatusMaintenance struct {
	Name     string
	From, To time.Time
	Active   bool
	Affected string // public names, comma separated
}

// Element ids the live stream patches.
const (
	StatusMainID        = "status-main"
	StatusBannerID      = "status-banner"
	StatusGroupsID      = "status-groups"
	StatusOpenID        = "status-incidents"
	StatusMaintenanceID = "status-maintenance"
	StatusPastID        = "status-past"
	StatusUpdatedID     = "status-updated"
)

// statusTime formats a time for the page: UTC, to the minute, the same
// for every reader (so the bytes can be cached).
func statusTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") }
