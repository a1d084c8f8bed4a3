package ui

import (
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// View models: plain data the components render. The scheduler and the
// server handlers fill them from collectors, storage and state; the
// components do no I/O, so every one of them is golden-testable.

// Element ids of the dashboard fragments the scheduler patches.
const (
	HostID          = "host"
	StatsID         = "stats"
	ChecksID        = "checks"
	TopID           = "top"
	EventsID        = "events"
	NotifListID     = "notif-list"
	ChatLogID       = "chat-log"
	CheckSummaryID  = "check-summary"
	CheckResultsID  = "check-results"
	CheckEventsID   = "check-events"
	CheckUptimeID   = "check-uptime"
	CheckLatencyID  = "check-latency"
	ConnectionID    = "conn"
	ConfigBannerID  = "config-banner"
	StorageBannerID = "storage-banner"
	ChatErrorID     = "chat-error"
	SessionNameID   = "session-name"
	NotifPanelID    = "notif-panel"
	ThemeToggleID   = "theme-toggle"
	MainContentID   = "main"
	StatValueSignal = "v"
)

// HostView is the host line of the dashboard header.
type HostView struct {
	Hostname string
	OS       string // "Debian 12.5"
	Kernel   string
	Arch     string
	CPUs     int
	Uptime   string // coarse ("3d 4h"), so it changes at most once a minute
	Version  string // dashd version
	Virt     string
}

// StatCard is one stat tile: a title, a live value, a secondary line and a
// sparkline of the last minutes.
//
// Value, Sub and Pct change every tick, so they travel as signals
// ($v.<Key>.val, .sub, .pct) and the card's HTML only changes when its
// sparkline or its identity does. The fields here are the values at render
// time, so a fresh page or a patched card is right before any signal lands.
type StatCard struct {
	// Key is the signal key and id suffix: letters, digits and '_' only
	// (see SignalKey).
	Key   string
	Title string
	// Hint names what the card measures in full (mount point, device).
	Hint  string
	Value StatValue
	// Meter shows Value.Pct as a bar (memory, swap, filesystems).
	Meter bool
	Spark SparkView
}

// StatValue is the part of a card that changes every tick; it is marshalled
// as the card's signal.
type StatValue struct {
	Val string  `json:"val"`
	Sub string  `json:"sub"`
	Pct float64 `json:"pct"`
	// Lvl is "", "warn" or "crit", for the card's colour.
	Lvl string `json:"lvl"`
}

// SparkID is the element id of a card's sparkline.
func SparkID(key string) string { return "spark-" + key }

// SignalKey turns a name into a key usable in a Datastar expression and an
// element id: the prefix, the name's ASCII letters and digits, "x" and a
// short hash of the whole name (so "/a-b" and "/ab" differ). Letters and
// digits only: the client rejects keys with "__" (its modifier separator)
// and '-' would read as a minus.
func SignalKey(prefix, name string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for i := 0; i < len(name); i++ {
		if c := name[i]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
			b.WriteByte(c)
		}
	}
	h := fnv.New32a()
	h.Write([]byte(name))
	fmt.Fprintf(&b, "x%06x", h.Sum32()&0xffffff)
	return b.String()
}

// CheckRow is one check in the dashboard grid.
type CheckRow struct {
	Name    string
	Group   string
	State   model.State
	Reason  string
	Latency string // "123 ms", "" when unknown
	Since   string // coarse relative time of the last change ("5m")
	// SinceAt is the absolute time of the last change (tooltip, <time>).
	SinceAt  time.Time
	Flapping bool
	// Held is what holds the check's alerts back: "silenced",
	// "maintenance" or "".
	Held string
	// Beats are the check's last results for the heartbeat strip (cheap
	// to copy, and comparable: see Heartbeat).
	Beats Heartbeat
}

// HeartbeatLen is how many results a check tile's heartbeat strip shows.
const HeartbeatLen = 30

// Heartbeat is a check's last results, oldest first. It is what a glance
// needs to tell a blip from a pattern (Uptime Kuma's strip), and small
// enough to re-send on each result.
//
// The beats sit in an array that is never written once a Heartbeat holds
// it (Push makes a new one), so a Heartbeat is a few words to copy: every
// tick builds every check's row, and a row that carried the array by
// value was most of what a dashboard tick allocated. It stays comparable
// with ==: equal pointers mean equal beats.
type Heartbeat struct {
	beats *[HeartbeatLen]Beat
	// N is how many beats are in use.
	N int
	// Seq counts every beat ever pushed, so whoever sends a strip bar by
	// bar knows how many are new since it last looked.
	Seq uint64
}

// HeartbeatID is the element id of a check's heartbeat strip.
func HeartbeatID(name string) string { return "hb-" + Slug(name) }

// Beat is one result of the heartbeat strip.
type Beat struct {
	At      time.Time
	State   model.State
	Latency time.Duration // 0: not measured (failed runs show none)
}

// NewHeartbeat keeps the newest HeartbeatLen of beats (given oldest first).
func NewHeartbeat(beats []Beat) Heartbeat {
	if len(beats) == 0 {
		return Heartbeat{}
	}
	if len(beats) > HeartbeatLen {
		beats = beats[len(beats)-HeartbeatLen:]
	}
	h := Heartbeat{beats: new([HeartbeatLen]Beat)}
	h.N = copy(h.beats[:], beats)
	return h
}

// Push appends one beat, dropping the oldest when the strip is full. The
// beats move to a new array: copies of h taken before keep theirs.
func (h *Heartbeat) Push(b Beat) {
	nb := new([HeartbeatLen]Beat)
	old := h.List()
	if len(old) == HeartbeatLen {
		old = old[1:]
	}
	n := copy(nb[:], old)
	nb[n] = b
	h.beats, h.N = nb, n+1
	h.Seq++
}

// List returns the beats in use, oldest first. They are shared: read them,
// never write them.
func (h Heartbeat) List() []Beat {
	if h.beats == nil {
		return nil
	}
	return h.beats[:h.N:h.N] // no room to append into the shared array
}

// CheckGroup is a group of checks, worst first.
type CheckGroup struct {
	Name   string
	Checks []CheckRow
	Worst  model.State
}

// ProcRow is one top-process line.
type ProcRow struct {
	PID  int32
	Name string
	User string
	CPU  string
	Mem  string
	RSS  string
}

// TopView holds both top-process rankings.
type TopView struct {
	ByCPU    []ProcRow
	ByMemory []ProcRow
}

// EventRow is one line of an event list.
type EventRow struct {
	ID    uint64
	At    time.Time
	When  string // "15:04:05" or "Jan 2 15:04"
	Check string
	Text  string
	State model.State
	Kind  string
}

// NotificationRow is one notification in the header panel.
type NotificationRow struct {
	ID     uint64
	At     time.Time
	When   string
	Title  string
	Body   string
	Level  model.State
	Check  string
	Unread bool
}

// DashboardView is everything the dashboard page shows.
type DashboardView struct {
	Host   HostView
	Status OverallStatus
	Stats  []StatCard
	Groups []CheckGroup
	Top    TopView
	Events []EventRow
	// Problems lists a rejected configuration reload, shown as a banner.
	Problems []string
	// Storage says why history is not being written right now ("" while
	// storage is healthy), shown as a banner.
	Storage string
	// Incidents are the open incidents and who is on each, shown as a
	// banner (IncidentBanner); the incident Manager pushes its changes.
	Incidents []IncidentRow
}

// ChromeView is the per-request part of the page header: the session's
// notifications and display name.
type ChromeView struct {
	Status        OverallStatus
	Notifications []NotificationRow
	Unread        int
	DisplayName   string
	// Stream is the URL of the page's single SSE stream.
	Stream string
	// StatusLive says the stream carries the overall status badge (the
	// dashboard's room does): the header then polls GET /api/status only
	// while the stream is down, instead of every 5 s from every open tab.
	StatusLive bool
	// Nav marks the current section: "dashboard", "chat", "check".
	Nav string
	// Heading names the page in the document title ("web" gives
	// "web · dashd"); empty on the dashboard.
	Heading string
	// User is who is signed in ("" in auth mode none) and Role their role.
	User string
	Role string
	// What the role may do: the page hides what it may not (the server
	// refuses it anyway).
	CanChat, CanSilence, CanRun, CanAdmin bool
	// Unprotected warns that dashd listens beyond loopback without auth
	// (auth.allow_unauthenticated).
	Unprotected bool
}

// CheckDetailView is the /checks/{name} page.
type CheckDetailView struct {
	Name        string
	Type        string
	Group       string
	Description string
	State       model.State
	Reason      string
	Latency     string
	Since       string
	SinceAt     time.Time
	Flapping    bool
	Uptime      []UptimeWindow
	Days        []UptimeDay // oldest first, 90 entries
	Range       string      // selected latency range: 1h, 24h, 7d, 30d
	// Fitted says the page named no range: Range was chosen to fit the
	// data, and the page's stream asks for the same fitting (range "").
	Fitted bool
	Chart  ChartView
	// Fails are the failed results within the chart's time span, drawn as
	// marks under its time axis (they have no latency to plot).
	Fails []FailMark
	// First is the check's first stored result (zero: none yet).
	First   time.Time
	Results []ResultRow
	Events  []EventRow
	Config  [][2]string // key, value pairs of the check's configuration
	// Source is the check's YAML as written (secrets stay ${VAR}).
	Source string
}

// UptimeWindow is the uptime over one window ("24h": 99.98%).
type UptimeWindow struct {
	Label string
	Pct   float64 // NaN when there is no data
	// Since, when set, is the first result: the data are younger than the
	// window, so the figure is labelled "since <Since>" instead of
	// claiming the whole window.
	Since time.Time
}

// FailMark is a failed result (or a run of them) on the latency chart's
// time axis: a failure has no latency to plot, but must not be invisible.
type FailMark struct {
	At time.Time
	// Pct is the position on the time axis, 0 (From) to 100 (To).
	Pct float64
	// Title says when and why ("15:04:05 down: connection refused").
	Title string
}

// UptimeDay is one bar of the 90-day strip.
type UptimeDay struct {
	Day time.Time
	Pct float64 // NaN: no data that day
}

// ResultRow is one recent check result.
type ResultRow struct {
	At      time.Time
	When    string
	State   model.State
	Latency string
	Reason  string
}

// ChatView is the /chat/{room} page.
type ChatView struct {
	Room     string
	Messages []ChatRow
	MaxLen   int
}

// ChatRow is one chat message.
type ChatRow struct {
	ID     uint64
	At     time.Time
	When   string
	Author string
	Text   string
	// Origin is the hub of the site the message was said on when that is
	// another hub ("" for one said here): the line says "via <hub>".
	Origin string
}

// Formatting helpers shared by the scheduler and handlers, so the same value
// reads the same on every page.

// FormatBytes renders a byte count with binary units: "1.5 GiB".
func FormatBytes(v float64) string {
	const unit = 1024
	if v < unit {
		return strconv.FormatFloat(v, 'f', 0, 64) + " B"
	}
	exp, div := 0, float64(unit)
	for n := v / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return trimFloat(v/div) + " " + string("KMGTPE"[exp]) + "iB"
}

// FormatRate renders bytes per second: "12.3 KiB/s".
func FormatRate(v float64) string { return FormatBytes(v) + "/s" }

// FormatPct renders a percentage with one decimal under 10 and none above.
func FormatPct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	if math.Round(v*10) < 100 {
		return strconv.FormatFloat(v, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 0, 64) + "%"
}

// FormatUptimePct renders uptime with enough digits to tell 99.9 from 99.99.
func FormatUptimePct(v float64) string {
	switch {
	case math.IsNaN(v):
		return "no data"
	case v >= 100:
		return "100%"
	case v >= 99:
		return strconv.FormatFloat(math.Floor(v*100)/100, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(v, 'f', 1, 64) + "%"
}

// CheckTileID is the element id of a check's tile on the dashboard.
func CheckTileID(name string) string { return "check-" + Slug(name) }

// CheckMetaID is the element id of a check tile's meta line (CheckMeta).
func CheckMetaID(name string) string { return "meta-" + Slug(name) }

// TileLatency renders a latency coarsely for the dashboard grid, so that
// microsecond jitter of a healthy service does not re-send its tile every run;
// the check page shows FormatLatency's precise figure.
func TileLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return "<1 ms"
	case d < 20*time.Millisecond:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	case d < time.Second:
		return fmt.Sprintf("%d ms", d.Round(10*time.Millisecond).Milliseconds())
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + " s"
}

// FormatLatency renders a check latency: "850 µs", "12 ms", "1.2 s".
func FormatLatency(d time.Duration) string {
	switch {
	case d <= 0:
		return ""
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < 10*time.Second:
		return fmt.Sprintf("%d ms", d.Milliseconds())
	}
	return trimFloat(d.Seconds()) + " s"
}

// FormatAge renders a coarse age: "now", "42s", "5m", "3h", "2d".
func FormatAge(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return "now"
	case d < time.Minute:
		return strconv.Itoa(int(d/(10*time.Second))*10) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d/time.Hour)) + "h"
	}
	return strconv.Itoa(int(d/(24*time.Hour))) + "d"
}

// FormatDuration renders an uptime: "3d 4h", "5h 12m", "12m".
func FormatDuration(d time.Duration) string {
	days := int(d / (24 * time.Hour))
	h := int(d/time.Hour) % 24
	m := int(d/time.Minute) % 60
	switch {
	case days > 0:
		return fmt.Sprintf("%dd %dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh %dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}

// FormatWhen renders a timestamp relative to now: the clock time today,
// the date and time before.
func FormatWhen(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	if y1 == y2 && m1 == m2 && d1 == d2 {
		return t.Format("15:04:05")
	}
	return t.Format("Jan 2 15:04")
}

func trimFloat(v float64) string {
	if v >= 100 {
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
	if v >= 10 {
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func uptimeClass(p float64) string {
	switch {
	case math.IsNaN(p):
		return "u-none"
	case p >= 99.9:
		return "u-good"
	case p >= 99:
		return "u-ok"
	case p >= 95:
		return "u-warn"
	}
	return "u-bad"
}

func uptimeDayTitle(d UptimeDay) string {
	return d.Day.Format("Mon Jan 2") + ": " + FormatUptimePct(d.Pct)
}

// lvlClass is the card's class; "warn" and "crit" are the classes the
// card's data-class-warn / data-class-crit then toggle live.
func lvlClass(l string) string {
	if l == "" {
		return "card"
	}
	return "card " + l
}

// AuditRow is one line of the audit log.
type AuditRow struct {
	At      time.Time
	When    string
	User    string
	Address string
	What    string
}
