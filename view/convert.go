package view

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// HostView converts the host identity and uptime.
func HostView(s system.Snapshot, version string) ui.HostView {
	h := ui.HostView{Version: version, Uptime: ui.FormatDuration(time.Duration(s.UptimeSeconds) * time.Second)}
	if s.UptimeSeconds <= 0 {
		h.Uptime = ""
	}
	if s.Host != nil {
		h.Hostname = s.Host.Hostname
		h.OS = strings.TrimSpace(titleCase(s.Host.Platform) + " " + s.Host.PlatformVersion)
		if h.OS == "" {
			h.OS = s.Host.OS
		}
		h.Kernel, h.Arch, h.CPUs = s.Host.Kernel, s.Host.Arch, s.Host.CPUs
		if s.Host.Virtualization != "" {
			h.Virt = s.Host.Virtualization
			if s.Host.VirtualizationRole != "" {
				h.Virt += " " + s.Host.VirtualizationRole
			}
		}
	}
	return h
}

func titleCase(s string) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// card describes one stat card: its signal key, what it shows and its
// sparkline metric. Cards are built from a snapshot in a fixed order.
type card struct {
	ui.StatCard
	metric float64 // the sparkline's value at this snapshot (NaN: none)
	lo, hi float64 // sparkline scale; hi <= lo fits the data
}

func level(pct, warn, crit float64) string {
	switch {
	case pct >= crit:
		return "crit"
	case pct >= warn:
		return "warn"
	}
	return ""
}

// cards lists the stat cards of a snapshot, and dashd's own card when its
// footprint is known.
func cards(s system.Snapshot, self *selfstat.Footprint) []card {
	// Built every sample: one allocation (CPU, memory, swap, load,
	// network, disk I/O, processes, the filesystems, dashd itself).
	out := make([]card, 0, 8+len(s.Filesystems))
	cpus := 1
	if s.Host != nil && s.Host.CPUs > 0 {
		cpus = s.Host.CPUs
	}
	// CPU
	c := card{StatCard: ui.StatCard{Key: "cpu", Title: "CPU"}, metric: math.NaN(), lo: 0, hi: 100}
	if s.CPU != nil {
		c.Value = ui.StatValue{Val: ui.FormatPct(s.CPU.Busy), Pct: round1(s.CPU.Busy),
			Sub: cpuSub(s.CPU),
			Lvl: level(s.CPU.Busy, 80, 95)}
		c.metric = s.CPU.Busy
	} else {
		c.Value = ui.StatValue{Val: "–", Sub: "measuring"}
	}
	c.Hint = strconv.Itoa(cpus) + " cores"
	out = append(out, c)

	// Memory
	m := s.Memory
	out = append(out, card{StatCard: ui.StatCard{Key: "mem", Title: "Memory", Meter: true,
		Hint: ui.FormatBytes(float64(m.Total)),
		Value: ui.StatValue{Val: ui.FormatPct(m.UsedPercent), Pct: round1(m.UsedPercent),
			Sub: ui.FormatBytes(float64(m.Used)) + " used",
			Lvl: level(m.UsedPercent, 85, 95)}}, metric: m.UsedPercent, lo: 0, hi: 100})

	// Swap
	sw := card{StatCard: ui.StatCard{Key: "swap", Title: "Swap", Meter: true}, lo: 0, hi: 100}
	if s.Swap.Total > 0 {
		sw.Hint = ui.FormatBytes(float64(s.Swap.Total))
		sw.Value = ui.StatValue{Val: ui.FormatPct(s.Swap.UsedPercent), Pct: round1(s.Swap.UsedPercent),
			Sub: ui.FormatBytes(float64(s.Swap.Used)) + " of " + ui.FormatBytes(float64(s.Swap.Total)),
			Lvl: level(s.Swap.UsedPercent, 50, 80)}
		sw.metric = s.Swap.UsedPercent
	} else {
		sw.Value = ui.StatValue{Val: "off", Sub: "no swap configured"}
		sw.metric = math.NaN()
	}
	out = append(out, sw)

	// Load
	l := s.Load
	out = append(out, card{StatCard: ui.StatCard{Key: "load", Title: "Load",
		Hint: "per " + strconv.Itoa(cpus) + " cores",
		Value: ui.StatValue{Val: fmtLoad(l.Load1), Pct: round1(100 * l.Load1 / float64(cpus)),
			Sub: "5m " + fmtLoad(l.Load5) + " · 15m " + fmtLoad(l.Load15),
			Lvl: level(l.Load1/float64(cpus), 1, 2)}}, metric: l.Load1, lo: 0, hi: float64(cpus)})

	// Network (all kept interfaces)
	var rx, tx float64
	var names []string
	haveNet := false
	for _, n := range s.Interfaces {
		names = append(names, n.Name)
		if n.Rate != nil {
			rx += n.Rate.RxBytesPerSec
			tx += n.Rate.TxBytesPerSec
			haveNet = true
		}
	}
	nc := card{StatCard: ui.StatCard{Key: "net", Title: "Network", Hint: strings.Join(names, ", ")}, metric: math.NaN()}
	if haveNet {
		nc.Value = ui.StatValue{Val: ui.FormatRate(rx + tx), Sub: "in " + ui.FormatRate(rx) + " · out " + ui.FormatRate(tx)}
		nc.metric = rx + tx
	} else {
		nc.Value = ui.StatValue{Val: "–", Sub: "measuring"}
	}
	out = append(out, nc)

	// Disk I/O (all kept devices)
	var rd, wr float64
	names = names[:0]
	haveDisk := false
	for _, d := range s.Disks {
		names = append(names, d.Device)
		if d.Rate != nil {
			rd += d.Rate.ReadBytesPerSec
			wr += d.Rate.WriteBytesPerSec
			haveDisk = true
		}
	}
	dc := card{StatCard: ui.StatCard{Key: "disk", Title: "Disk I/O", Hint: strings.Join(names, ", ")}, metric: math.NaN()}
	if haveDisk {
		dc.Value = ui.StatValue{Val: ui.FormatRate(rd + wr), Sub: "read " + ui.FormatRate(rd) + " · write " + ui.FormatRate(wr)}
		dc.metric = rd + wr
	} else {
		dc.Value = ui.StatValue{Val: "–", Sub: "measuring"}
	}
	out = append(out, dc)

	// Processes
	p := s.Processes
	out = append(out, card{StatCard: ui.StatCard{Key: "procs", Title: "Processes",
		Value: ui.StatValue{Val: strconv.Itoa(p.Total),
			Sub: strconv.Itoa(p.Running) + " running · " + strconv.Itoa(p.Blocked) + " blocked"}},
		metric: float64(p.Total)})

	// Filesystems
	for _, fs := range s.Filesystems {
		out = append(out, card{StatCard: ui.StatCard{Key: ui.SignalKey("fs", fs.Mount), Title: "Disk " + fs.Mount, Meter: true,
			Hint: ui.FormatBytes(float64(fs.Total)) + " · " + fs.FSType,
			Value: ui.StatValue{Val: ui.FormatPct(fs.UsedPercent), Pct: round1(fs.UsedPercent),
				Sub: ui.FormatBytes(float64(fs.Avail)) + " free",
				Lvl: level(fs.UsedPercent, 85, 95)}}, metric: fs.UsedPercent, lo: 0, hi: 100})
	}
	if self != nil {
		out = append(out, selfCard(*self))
	}
	return out
}

// selfCard shows dashd's own footprint: the figures we publish must be
// visible where people look, not only in /metrics.
func selfCard(f selfstat.Footprint) card {
	clients := "clients"
	if f.SSEClients == 1 {
		clients = "client"
	}
	return card{StatCard: ui.StatCard{Key: "dashd", Title: "dashd",
		Hint: ui.FormatBytes(float64(f.DBBytes)) + " history",
		Value: ui.StatValue{Val: ui.FormatPct(f.CPUPercent) + " CPU", Pct: round1(f.CPUPercent),
			Sub: ui.FormatBytes(float64(f.RSSBytes)) + " RSS · " + strconv.Itoa(f.Goroutines) + " goroutines · " +
				strconv.Itoa(f.SSEClients) + " " + clients + " · " + strconv.FormatFloat(f.EventsPerSec, 'f', 1, 64) + " ev/s",
			Lvl: level(f.CPUPercent, 5, 20)}},
		metric: f.CPUPercent, lo: 0}
}

func cpuSub(c *system.CPUPercent) string {
	s := "user " + ui.FormatPct(c.User) + " · sys " + ui.FormatPct(c.System)
	if c.IOWait >= 1 {
		s += " · wait " + ui.FormatPct(c.IOWait)
	}
	if c.Steal >= 1 {
		s += " · steal " + ui.FormatPct(c.Steal)
	}
	return s
}

func fmtLoad(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// Overall counts check states for the status badge.
func Overall(sts []collectors.Status) ui.OverallStatus {
	var o ui.OverallStatus
	for _, s := range sts {
		o.Add(s.State)
	}
	return o
}

// CheckGroups groups checks, worst first inside a group and worst group
// first; ties keep configuration order.
func CheckGroups(sts []collectors.Status, now time.Time) []ui.CheckGroup {
	return GroupRows(sts, func(s collectors.Status) ui.CheckRow { return CheckRow(s, now) })
}

// GroupRows groups the rows of sts, worst group first and worst check first
// within a group (stable otherwise: configuration order).
func GroupRows(sts []collectors.Status, row func(collectors.Status) ui.CheckRow) []ui.CheckGroup {
	idx := map[string]int{}
	var groups []ui.CheckGroup
	var sizes []int
	for _, s := range sts {
		i, ok := idx[s.Group]
		if !ok {
			i = len(groups)
			idx[s.Group] = i
			groups = append(groups, ui.CheckGroup{Name: s.Group})
			sizes = append(sizes, 0)
		}
		sizes[i]++
	}
	// Rows are large (each carries its heartbeat strip): every group's
	// slice is allocated once at its final size, not grown by doubling.
	for i := range groups {
		groups[i].Checks = make([]ui.CheckRow, 0, sizes[i])
	}
	for _, s := range sts {
		i := idx[s.Group]
		groups[i].Checks = append(groups[i].Checks, row(s))
		groups[i].Worst = max(groups[i].Worst, s.State)
	}
	for i := range groups {
		slices.SortStableFunc(groups[i].Checks, func(a, b ui.CheckRow) int { return cmp.Compare(b.State, a.State) })
	}
	slices.SortStableFunc(groups, func(a, b ui.CheckGroup) int { return cmp.Compare(b.Worst, a.Worst) })
	return groups
}

// CheckRow converts one check status.
func CheckRow(s collectors.Status, now time.Time) ui.CheckRow {
	r := ui.CheckRow{Name: s.Name, Group: s.Group, State: s.State, Reason: s.Reason,
		Latency: ui.TileLatency(s.Latency), SinceAt: s.LastChange, Flapping: s.Flapping}
	if s.State == model.StateUnknown && s.Reason == "" {
		r.Reason = "waiting for the first run"
	}
	if !s.LastChange.IsZero() {
		r.Since = ui.FormatAge(now.Sub(s.LastChange))
	}
	return r
}

// Top converts the top-process rankings.
func Top(t *system.TopProcesses) ui.TopView {
	var v ui.TopView
	if t == nil {
		return v
	}
	conv := func(ps []system.Process) []ui.ProcRow {
		rows := make([]ui.ProcRow, 0, len(ps))
		for _, p := range ps {
			rows = append(rows, ui.ProcRow{PID: p.PID, Name: p.Name, User: p.User,
				CPU: ui.FormatPct(p.CPUPercent), Mem: ui.FormatPct(p.MemPercent), RSS: ui.FormatBytes(float64(p.RSS))})
		}
		return rows
	}
	v.ByCPU, v.ByMemory = conv(t.ByCPU), conv(t.ByMemory)
	return v
}

// EventRow converts a stored event.
func EventRow(e model.Event, now time.Time) ui.EventRow {
	r := ui.EventRow{ID: e.ID, At: e.Time, When: ui.FormatWhen(e.Time, now), Kind: string(e.Kind), State: e.To}
	switch e.Kind {
	case model.EventCheck:
		r.Check = e.Check
		r.Text = e.From.String() + " → " + e.To.String()
		if e.Reason != "" {
			r.Text += ": " + e.Reason
		}
	case model.EventStart:
		r.Text, r.State = "dashd started", model.StateUp
	case model.EventStop:
		r.Text, r.State = "dashd stopped", model.StateUnknown
	case model.EventReload:
		r.Text, r.State = "configuration reloaded", model.StateUp
	case model.EventConfig:
		r.Text, r.State = "configuration rejected", model.StateDegraded
	case model.EventFlapping:
		r.Check = e.Check
		r.Text = "flapping"
		if e.To == model.StateUp {
			r.Text = "no longer flapping"
		}
	case model.EventAlert:
		r.Text = "alert"
	case model.EventSilence:
		r.Text, r.State = "silence", model.StateUnknown
	case model.EventAudit, model.EventAck:
		// "alice signed in", "bob acknowledged incident #3: web is down"
		who := e.User
		if who == "" {
			who = "someone"
		}
		r.Text, r.State = who+" "+e.Reason, model.StateUnknown
		return r
	case model.EventIncident:
		r.Text = e.Reason // "opened incident #1: web is down"
		if r.Text == "" {
			r.Text = "incident"
		}
		return r
	default:
		r.Text = string(e.Kind)
	}
	if e.Kind != model.EventCheck && e.Reason != "" {
		r.Text += ": " + e.Reason
	}
	return r
}

// NotificationRow converts a stored notification.
func NotificationRow(n storage.SessionNotification, now time.Time) ui.NotificationRow {
	return ui.NotificationRow{ID: n.ID, At: n.Time, When: ui.FormatWhen(n.Time, now), Title: n.Title,
		Body: n.Body, Level: n.Level, Check: n.Check, Unread: !n.Read}
}
