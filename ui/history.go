package ui

import (
	"net/url"
	"strconv"
	"strings"
)

// Host history pages (/host/{group}): the view models view.HistoryPage
// fills and history.templ renders. Every chart shares one slot grid (N
// columns of one step each, the last one still open); the geometry is
// computed by the view builder, so these types only carry strings and
// positions.

// HistoryView is one host history page: a group of charts over one range.
type HistoryView struct {
	// Group names the page in URLs ("cpu", "fs").
	Group string
	// Title is the page heading ("CPU", "Filesystem /").
	Title string
	// Items are the other items of the group (filesystems, interfaces,
	// disks) to switch to; empty for host-wide groups.
	Items []HistoryLink
	// Ranges are the range choices, the current one marked.
	Ranges []HistoryLink
	// Range is the current range's name ("1h").
	Range string
	// Source says where the points come from ("20-second slots from raw
	// samples") and Zone the time zone of the axes ("UTC+02:00").
	Source string
	Zone   string
	Charts []HistoryChart
	// Notes say what the page cannot show and why ("Inode usage is not
	// recorded").
	Notes []string
}

// HistoryLink is a link of a range or item switcher.
type HistoryLink struct {
	Label   string
	Href    string
	Current bool
}

// HistoryChart is one chart: a plot of N slots (viewBox N wide, HistoryPlotH
// high), its axes, legend and the data the pointer readout reads.
type HistoryChart struct {
	// ID is short and fixed ("h0"): it names the chart in element ids and
	// in the readout's signal ($_hc), never user text.
	ID    string
	Title string
	// Unit is the display unit of the values ("MiB/s", "%"), shown by the
	// title; Suffix is what the readout appends to a value ("%", " MiB/s").
	Unit   string
	Suffix string
	// Label is the chart's accessible summary.
	Label string
	// Empty, when set, replaces the plot: the range holds no points.
	Empty  string
	N      int
	YTicks []HistoryTick
	XTicks []HistoryTick
	Series []HistorySeries
	// Edge is the open slot, patched every few seconds.
	Edge HistoryEdge
	// Readout data (see the page's pointer expression): the start of the
	// first slot (Unix ms), the slot width (ms), the width of a slot in
	// percent, how times are shown ("s", "m" or "d"), the series names
	// ("|"-separated) and the values of the settled slots: per series a
	// comma-separated list, "" for a slot without data, series separated
	// by "|".
	T0, Step  int64
	SlotPct   string
	TimeStyle string
	Names     string
	Vals      string
}

// HistoryTick is an axis label at Pos percent (from the top for y, from
// the left for x).
type HistoryTick struct {
	Pos   string
	Label string
	// At is the tick's instant (x ticks), ISO 8601 UTC, for <time>.
	At string
}

// HistorySeries is one line of a chart: its settled path and band, and a
// summary over the range for the legend.
type HistorySeries struct {
	Name    string
	Class   string // colour class: "s0".."s7"
	Line    string // path data; "" when the series has no settled points
	Band    string // min..max envelope; "" when not drawn
	Summary string // "avg 12.3% · max 80%"
}

// HistoryEdge is the right edge of a chart: the segment from the last
// settled slot to the open one, and the open slot's values (as in
// HistoryChart.Vals, one entry per series).
type HistoryEdge struct {
	Lines []HistoryEdgeLine
	Vals  string
}

// HistoryEdgeLine is one series' part of the edge.
type HistoryEdgeLine struct {
	Class string
	Line  string
	Band  string
}

// HistoryPlotH is the height of every history plot in viewBox units.
const HistoryPlotH = 300

// History element ids: the scheduler-free live feed patches them by id.
const (
	// HistoryChartsID is the container of all charts of a page (patched
	// whole when a slot closes).
	HistoryChartsID = "history-charts"
)

// HistoryEdgeID is the id of a chart's edge layer (patched every tick).
func HistoryEdgeID(chart string) string { return "he-" + chart }

// historyGroupHref maps a stat card's key to its history page.
func historyGroupHref(key string) string {
	switch key {
	case "cpu":
		return "/host/cpu"
	case "mem":
		return "/host/memory"
	case "swap":
		return "/host/swap"
	case "load":
		return "/host/load"
	case "net":
		return "/host/net"
	case "disk":
		return "/host/disk"
	case "procs":
		return "/host/processes"
	case "dashd":
		return "/host/dashd"
	}
	return ""
}

// HistoryHref is the history page a stat card links to, "" for a card
// without one. A filesystem card's key is a hash of its mount point, so the
// mount is read back from its title ("Disk /srv") and accepted only if it
// hashes to the key.
func HistoryHref(c StatCard) string {
	if h := historyGroupHref(c.Key); h != "" {
		return h
	}
	if mount, ok := strings.CutPrefix(c.Title, "Disk "); ok && strings.HasPrefix(c.Key, "fs") && SignalKey("fs", mount) == c.Key {
		return "/host/fs?mount=" + url.QueryEscape(mount)
	}
	return ""
}

// historyTZCookie remembers the browser's UTC offset so the next history
// page draws its axes in local time from the first byte (the stream sends
// the offset as the signal tzo).
const historyTZCookie = `document.cookie = 'dashd_tzo=' + new Date().getTimezoneOffset() + '; path=/; max-age=31536000; samesite=strict'`

// historyReadout is the pointer readout: from the slot under the pointer it
// sets $_hc (the chart), $_hx (the cursor's left, percent) and $_hr (the
// text: the slot's start in the browser's own zone, 24-hour like the axes,
// then each series' value, the eight highest when there are more). It
// reads the plot's data attributes, and the open slot's values from the
// edge layer. Datastar splits an expression at
// semicolons outside string and regex literals and returns the last
// statement, so the code has a single "/" (two would read as a regex
// literal) and ends in an expression.
const historyReadout = `const p = evt.target.closest('.hplot');
if (!p) { $_hc = ''; return '' }
const d = p.dataset, n = +d.n, b = p.getBoundingClientRect();
const i = Math.max(0, Math.min(n - 1, Math.floor((evt.clientX - b.left) * n / b.width)));
if (!(i >= 0)) return '';
const e = p.querySelector('.hedge'), rows = d.vals.split('|'), last = ((e && e.dataset.vals) || '').split('|'), names = d.names.split('|');
let o = [];
for (let k = 0; k < names.length; k++) { const v = i < n - 1 ? (rows[k] || '').split(',')[i] : last[k]; if (v) o.push([+v, names[k] + ' ' + v + d.u]) }
if (o.length > 8) o = o.sort((x, y) => y[0] - x[0]).slice(0, 8);
const f = {hour: '2-digit', minute: '2-digit', hour12: false};
if (d.tf === 's') f.second = '2-digit';
if (d.tf === 'd') f.month = 'short', f.day = 'numeric';
const t = new Date(+d.t0 + i * +d.st).toLocaleString([], f);
$_hx = (i + 0.5) * +d.w;
$_hc = d.id;
$_hr = o.length ? t + ' · ' + o.map(x => x[1]).join(' · ') : t + ' · no data'`

// historyCursorStyle places chart id's cursor line, hidden unless the
// pointer is over that chart.
func historyCursorStyle(id string) string {
	return "$_hc === '" + id + "' ? 'left:' + $_hx + '%' : 'display:none'"
}

// historyReadoutText shows the readout under chart id only.
func historyReadoutText(id string) string {
	return "$_hc === '" + id + "' ? $_hr : ''"
}

// HistorySignals is the initial data-signals of a history page: the range
// (sent with the stream) and the readout's local signals.
func HistorySignals(ch ChromeView, rng string) string {
	return PageSignals(ch, map[string]any{"range": rng, "_hc": "", "_hr": "", "_hx": 0})
}

func i64toa(n int64) string { return strconv.FormatInt(n, 10) }
