package view

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// Host history pages: /host/{group}?range=&{item}=. A group is one part of
// the host (CPU, memory, a filesystem...), drawn as a few charts over one
// range. Every chart of a page shares one slot grid: the range is cut into
// N slots of one step, aligned to the step, the last slot holding now
// (still open). The store picks the tier (storage.ChooseTier for the span
// and N): raw samples for the hour, minute rollups up to a day, hour
// rollups beyond, so each range reads the coarsest tier that still gives
// about N points.

// HistoryStore is the history a host history page reads (a *storage.DB).
type HistoryStore interface {
	Range(name string, from, to time.Time, maxPoints int) ([]storage.SeriesPoint, error)
	SeriesNames() ([]string, error)
	ChooseTier(from, to time.Time, maxPoints int) storage.Tier
}

// Errors of ParseHistory; the server answers them 404, 404 and 400.
var (
	// ErrUnknownHistory is returned for a group no history page shows.
	ErrUnknownHistory = errors.New("no such host history")
	// ErrUnknownHistoryItem is returned for a filesystem, interface or disk
	// without stored history.
	ErrUnknownHistoryItem = errors.New("no stored history for this item")
	// ErrHistoryRange is returned for a range that is not offered.
	ErrHistoryRange = errors.New("unknown range")
)

// histRange is one range choice: its span cut into span/step slots.
type histRange struct {
	name, label string
	span, step  time.Duration
}

// histRanges lists the ranges, shortest first. Steps divide a day, so
// slots line up with minutes, hours and UTC days, and with the tiers.
func histRanges() []histRange {
	const day = 24 * time.Hour
	return []histRange{
		{"1h", "1 hour", time.Hour, 20 * time.Second},
		{"6h", "6 hours", 6 * time.Hour, 2 * time.Minute},
		{"24h", "24 hours", day, 5 * time.Minute},
		{"7d", "7 days", 7 * day, time.Hour},
		{"30d", "30 days", 30 * day, 4 * time.Hour},
		{"90d", "90 days", 90 * day, 12 * time.Hour},
	}
}

// DefaultHistoryRange is the range of a history page that names none: an
// hour, so that a dashd started minutes ago shows a chart, not a sliver.
const DefaultHistoryRange = "1h"

// HistoryRangeNames lists the range names for messages: "1h, 6h, ... or 90d".
func HistoryRangeNames() string {
	rs := histRanges()
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.name
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// histSeries is one line: its legend name and stored series.
type histSeries struct{ name, key string }

// histChartSpec is one chart of a page.
type histChartSpec struct {
	title  string
	unit   histUnit
	band   bool // draw min..max bands (single-measure charts)
	series []histSeries
}

// Chart limits: a host with 256 cores or 40 interfaces still gets a page
// of bounded size (every line costs about 1.5 KB per closing slot on the
// live stream), and more lines than colours are unreadable anyway.
const (
	maxCoreLines    = 16
	maxOverviewItem = 12
)

// histGroup is one history page kind.
type histGroup struct {
	name, title string
	// param is the query parameter naming an item ("mount", "iface",
	// "dev"); "" for host-wide groups. Items are the values of label on
	// the stored series metric.
	param, metric, label string
	// noun names an item in messages and headings ("filesystem").
	noun string
	// charts builds the charts of one item ("" for host-wide groups);
	// names are all stored series.
	charts func(item string, names []string) []histChartSpec
	// overview is the page of an itemised group without an item: one
	// chart per item.
	overview func(items []string) []histChartSpec
	notes    []string
}

func histChart(title string, u histUnit, band bool, ss ...histSeries) histChartSpec {
	return histChartSpec{title: title, unit: u, band: band, series: ss}
}

// histGroups is the table of history pages, in the dashboard's order.
func histGroups() []histGroup {
	fs := series.FSMetrics()
	disk := series.DiskMetrics()
	netm := series.NetMetrics()
	return []histGroup{
		{name: "cpu", title: "CPU", charts: func(_ string, names []string) []histChartSpec {
			cs := []histChartSpec{
				histChart("Busy", histPct, true, histSeries{"busy", series.CPUTotal}),
				histChart("By mode", histPct, false,
					histSeries{"user", series.CPUUser}, histSeries{"system", series.CPUSystem},
					histSeries{"iowait", series.CPUIOWait}, histSeries{"nice", series.CPUNice},
					histSeries{"irq", series.CPUIRQ}, histSeries{"softirq", series.CPUSoftIRQ},
					histSeries{"steal", series.CPUSteal}),
			}
			cores := histLabelValues(names, series.CPUCore, series.LabelCore)
			slices.SortFunc(cores, func(a, b string) int { return histAtoi(a, -1) - histAtoi(b, -1) })
			if len(cores) > 0 {
				c := histChartSpec{title: "Busy per core", unit: histPct}
				if len(cores) > maxCoreLines {
					c.title = fmt.Sprintf("Busy per core (the first %d of %d)", maxCoreLines, len(cores))
					cores = cores[:maxCoreLines]
				}
				for _, n := range cores {
					c.series = append(c.series, histSeries{"core " + n, model.SeriesKey(series.CPUCore, series.LabelCore, n)})
				}
				cs = append(cs, c)
			}
			return cs
		}},
		{name: "memory", title: "Memory", charts: func(string, []string) []histChartSpec {
			return []histChartSpec{
				histChart("Used", histPct, true, histSeries{"used", series.MemUsedPct}),
				histChart("Memory", histBytes, false, histSeries{"used", series.MemUsed}, histSeries{"cached", series.MemCached},
					histSeries{"available", series.MemAvailable}, histSeries{"total", series.MemTotal}),
			}
		}},
		{name: "swap", title: "Swap", charts: func(string, []string) []histChartSpec {
			return []histChartSpec{
				histChart("Used", histPct, true, histSeries{"used", series.SwapUsedPct}),
				histChart("Swap", histBytes, false, histSeries{"used", series.SwapUsed}, histSeries{"total", series.SwapTotal}),
			}
		}},
		{name: "load", title: "Load", charts: func(string, []string) []histChartSpec {
			return []histChartSpec{histChart("Load average", histLoad, false,
				histSeries{"1 min", series.Load1}, histSeries{"5 min", series.Load5}, histSeries{"15 min", series.Load15})}
		}},
		{name: "fs", title: "Filesystem", param: "mount", metric: fs[3], label: series.LabelMount, noun: "filesystem",
			charts: func(m string, _ []string) []histChartSpec {
				k := func(metric string) string { return model.SeriesKey(metric, series.LabelMount, m) }
				return []histChartSpec{
					histChart("Space used", histPct, true, histSeries{"used", k(fs[3])}),
					histChart("Space", histBytes, false, histSeries{"used", k(fs[1])}, histSeries{"available", k(fs[2])}, histSeries{"size", k(fs[0])}),
					histChart("Inodes used", histPct, true, histSeries{"inodes", k(fs[4])}),
				}
			},
			overview: func(items []string) []histChartSpec {
				c := histChartSpec{title: "Space used", unit: histPct}
				for _, m := range items {
					c.series = append(c.series, histSeries{m, model.SeriesKey(fs[3], series.LabelMount, m)})
				}
				return []histChartSpec{c}
			},
			notes: []string{"Filesystems that report no inodes (btrfs, vfat) have no inode chart data."}},
		{name: "net", title: "Network", param: "iface", metric: netm[0], label: series.LabelIface, noun: "interface",
			charts: func(i string, _ []string) []histChartSpec {
				k := func(j int) histSeries {
					names := [...]string{"in", "out", "in", "out", "in errors", "out errors", "in drops", "out drops"}
					return histSeries{names[j], model.SeriesKey(netm[j], series.LabelIface, i)}
				}
				return []histChartSpec{
					histChart("Throughput", histBytesRate, true, k(0), k(1)),
					histChart("Packets", histPerSec, false, k(2), k(3)),
					histChart("Errors and drops", histPerSec, false, k(4), k(5), k(6), k(7)),
				}
			},
			overview: func(items []string) []histChartSpec {
				var cs []histChartSpec
				for _, i := range items {
					cs = append(cs, histChart(i+" throughput", histBytesRate, false,
						histSeries{"in", model.SeriesKey(netm[0], series.LabelIface, i)},
						histSeries{"out", model.SeriesKey(netm[1], series.LabelIface, i)}))
				}
				return cs
			}},
		{name: "disk", title: "Disk I/O", param: "dev", metric: disk[0], label: series.LabelDevice, noun: "disk",
			charts: func(d string, _ []string) []histChartSpec {
				k := func(name, metric string) histSeries {
					return histSeries{name, model.SeriesKey(metric, series.LabelDevice, d)}
				}
				return []histChartSpec{
					histChart("Throughput", histBytesRate, true, k("read", disk[0]), k("write", disk[1])),
					histChart("Operations", histPerSec, false, k("reads", disk[2]), k("writes", disk[3])),
					histChart("Utilisation", histPct, true, k("busy", disk[4])),
					histChart("Latency (await)", histMillis, false, k("read", disk[5]), k("write", disk[6])),
				}
			},
			overview: func(items []string) []histChartSpec {
				var cs []histChartSpec
				for _, d := range items {
					cs = append(cs, histChart(d+" throughput", histBytesRate, false,
						histSeries{"read", model.SeriesKey(disk[0], series.LabelDevice, d)},
						histSeries{"write", model.SeriesKey(disk[1], series.LabelDevice, d)}))
				}
				return cs
			},
			notes: []string{"Latency is the mean time a completed read or write took in each interval, queueing included (iostat's r_await and w_await)."}},
		{name: "processes", title: "Processes", charts: func(string, []string) []histChartSpec {
			return []histChartSpec{
				histChart("Processes", histCount, false, histSeries{"processes", series.ProcCount}),
				histChart("Tasks", histCount, false, histSeries{"running", series.ProcRunning}, histSeries{"blocked", series.ProcBlocked}),
				histChart("Open file handles", histCount, false, histSeries{"open", series.FDOpen}),
			}
		}},
		{name: "dashd", title: "dashd itself", charts: func(string, []string) []histChartSpec {
			return []histChartSpec{
				histChart("CPU", histPct, true, histSeries{"cpu", series.SelfCPUPct}),
				histChart("Memory (RSS)", histBytes, false, histSeries{"rss", series.SelfRSS}),
				histChart("Goroutines", histCount, false, histSeries{"goroutines", series.SelfGoroutines}),
			}
		}},
	}
}

// HistoryGroupNames lists the history pages for messages.
func HistoryGroupNames() string {
	var names []string
	for _, g := range histGroups() {
		names = append(names, g.name)
	}
	return strings.Join(names, ", ")
}

// HistoryItemParam is the query parameter that names a group's item
// ("mount" for fs), "" for host-wide groups and unknown ones.
func HistoryItemParam(group string) string {
	for _, g := range histGroups() {
		if g.name == group {
			return g.param
		}
	}
	return ""
}

// histLabelValues lists the values of label on the stored series of metric
// (the mounts of fs.used_pct{mount=...}), sorted.
func histLabelValues(names []string, metric, label string) []string {
	prefix := metric + "{" + label + "="
	var out []string
	for _, n := range names {
		if v, ok := strings.CutPrefix(n, prefix); ok && strings.HasSuffix(v, "}") {
			out = append(out, strings.TrimSuffix(v, "}"))
		}
	}
	slices.Sort(out)
	return out
}

func histAtoi(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// HistorySpec is a validated history request: which charts of which
// series over which range. It is a plain value, safe to share.
type HistorySpec struct {
	Group string
	Item  string
	Range string

	title  string
	param  string
	noun   string
	items  []string
	rng    histRange
	charts []histChartSpec
	notes  []string
}

// ParseHistory resolves a history request against the stored series names:
// group must name a page (ErrUnknownHistory), item a stored item of an
// itemised group or "" for its overview (ErrUnknownHistoryItem), rng a
// range or "" for DefaultHistoryRange (ErrHistoryRange). The errors say
// what was wrong in words fit for a 4xx answer.
func ParseHistory(group, item, rng string, names []string) (HistorySpec, error) {
	var g *histGroup
	for _, c := range histGroups() {
		if c.name == group {
			g = &c
			break
		}
	}
	if g == nil {
		return HistorySpec{}, fmt.Errorf("%w %s (the pages are %s)", ErrUnknownHistory, histQuote(group), HistoryGroupNames())
	}
	if rng == "" {
		rng = DefaultHistoryRange
	}
	spec := HistorySpec{Group: g.name, Range: rng, title: g.title, param: g.param, noun: g.noun, notes: g.notes}
	found := false
	for _, r := range histRanges() {
		if r.name == rng {
			spec.rng, found = r, true
		}
	}
	if !found {
		return HistorySpec{}, fmt.Errorf("%w: range %s is not one of %s", ErrHistoryRange, histQuote(rng), HistoryRangeNames())
	}
	if g.param == "" {
		spec.charts = g.charts("", names)
		return spec, nil
	}
	spec.items = histLabelValues(names, g.metric, g.label)
	if item == "" {
		if len(spec.items) == 0 {
			spec.notes = append(slices.Clone(spec.notes), "No "+g.noun+" has stored history yet.")
		}
		items := spec.items
		if len(items) > maxOverviewItem {
			items = items[:maxOverviewItem]
			spec.notes = append(slices.Clone(spec.notes), fmt.Sprintf("Showing the first %d of %d; pick one above for the rest.", maxOverviewItem, len(spec.items)))
		}
		spec.charts = g.overview(items)
		return spec, nil
	}
	if !slices.Contains(spec.items, item) {
		return HistorySpec{}, fmt.Errorf("%w: no %s %s has stored history", ErrUnknownHistoryItem, g.noun, histQuote(item))
	}
	spec.Item = item
	spec.title = g.title + " " + item
	spec.charts = g.charts(item, names)
	return spec, nil
}

// histQuote quotes s for a message, cut to 80 bytes: the message of a
// refusal must not echo a megabyte back.
func histQuote(s string) string {
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strconv.Quote(s)
}

// href is the URL of spec's page with another range or item.
func (s HistorySpec) href(item, rng string) string {
	q := url.Values{}
	if s.param != "" && item != "" {
		q.Set(s.param, item)
	}
	if rng != DefaultHistoryRange {
		q.Set("range", rng)
	}
	u := "/host/" + s.Group
	if e := q.Encode(); e != "" {
		u += "?" + e
	}
	return u
}

// StreamURL is the page's live stream (its range and offset travel as
// signals).
func (s HistorySpec) StreamURL() string {
	u := "/host/" + s.Group + "/events"
	if s.param != "" && s.Item != "" {
		u += "?" + url.Values{s.param: {s.Item}}.Encode()
	}
	return u
}

// Title is the page heading ("Filesystem /srv").
func (s HistorySpec) Title() string { return s.title }

// HistoryPage builds the page of spec at now, its axes in the zone of the
// browser offset tzo (minutes, as Date.getTimezoneOffset: see HistoryZone).
// The store is read once per series.
func HistoryPage(store HistoryStore, spec HistorySpec, now time.Time, tzo int) (ui.HistoryView, error) {
	g := newHistGrid(spec.rng, now)
	loc := HistoryZone(tzo)
	v := ui.HistoryView{Group: spec.Group, Title: spec.title, Range: spec.rng.name, Zone: loc.String(), Notes: spec.notes}
	for _, r := range histRanges() {
		v.Ranges = append(v.Ranges, ui.HistoryLink{Label: r.name, Href: spec.href(spec.Item, r.name), Current: r.name == spec.rng.name})
	}
	if spec.param != "" {
		v.Items = append(v.Items, ui.HistoryLink{Label: "all", Href: spec.href("", spec.rng.name), Current: spec.Item == ""})
		for _, it := range spec.items {
			v.Items = append(v.Items, ui.HistoryLink{Label: it, Href: spec.href(it, spec.rng.name), Current: it == spec.Item})
		}
	}
	to, tier := g.readTo(store)
	v.Source = histSource(g.step, tier)
	for i, cs := range spec.charts {
		data := make([]histData, len(cs.series))
		for j, ss := range cs.series {
			pts, err := store.Range(ss.key, g.from, to, g.n)
			if err != nil {
				return v, fmt.Errorf("history %s: %w", spec.Group, err)
			}
			data[j] = histData{slots: g.slots(pts), join: histJoin(histSpacing(pts), g.step)}
		}
		v.Charts = append(v.Charts, buildHistChart("h"+strconv.Itoa(i), cs, data, g, spec.rng.label, loc))
	}
	return v, nil
}

// histSource says where a page's points come from.
func histSource(step time.Duration, tier storage.Tier) string {
	var from string
	switch tier {
	case storage.TierRaw:
		from = "raw samples"
	case storage.TierMinute:
		from = "minute rollups (min, avg, max)"
	default:
		from = "hour rollups (min, avg, max)"
	}
	return histStepWords(step) + " points from " + from
}

// histStepWords names a slot width: "20-second", "5-minute", "1-hour".
func histStepWords(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d/time.Second)) + "-second"
	case d < time.Hour:
		return strconv.Itoa(int(d/time.Minute)) + "-minute"
	default:
		return strconv.Itoa(int(d/time.Hour)) + "-hour"
	}
}
