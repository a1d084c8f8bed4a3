package system

import (
	"strconv"

	"github.com/dashd/dashd/model"
)

// Points flattens the Snapshot into the series listed in the package doc.
// A scalar part that failed on this tick (see Errors) contributes no points,
// and series whose rate is not known on this tick (first tick, counter reset) are
// left out rather than written as zero, so charts show a gap, not a dip.
// Raw counters, CPU seconds and top processes are not flattened: they are for
// the Prometheus exporter and the UI, not for history.
func (s Snapshot) Points() []model.Point {
	n := 20 + len(s.Cores) + 4*len(s.Filesystems) + 5*len(s.Disks) + 8*len(s.Interfaces)
	ps := make([]model.Point, 0, n)
	add := func(series string, v float64) { ps = append(ps, model.Point{Series: series, Value: v}) }

	if c := s.CPU; c != nil {
		add("cpu.total", c.Busy)
		add("cpu.user", c.User)
		add("cpu.nice", c.Nice)
		add("cpu.system", c.System)
		add("cpu.iowait", c.IOWait)
		add("cpu.irq", c.IRQ)
		add("cpu.softirq", c.SoftIRQ)
		add("cpu.steal", c.Steal)
		add("cpu.idle", c.Idle)
	}
	for _, c := range s.Cores {
		add(model.SeriesKey("cpu.core", "core", strconv.Itoa(c.Core)), c.Busy)
	}
	if s.ok(partLoad) {
		add("load.1", s.Load.Load1)
		add("load.5", s.Load.Load5)
		add("load.15", s.Load.Load15)
	}
	if m := s.Memory; s.ok(partMemory) {
		add("mem.total", float64(m.Total))
		add("mem.used", float64(m.Used))
		add("mem.available", float64(m.Available))
		add("mem.cached", float64(m.Cached))
		add("mem.used_pct", m.UsedPercent)
		add("swap.total", float64(s.Swap.Total))
		add("swap.used", float64(s.Swap.Used))
		add("swap.used_pct", s.Swap.UsedPercent)
	}
	for _, f := range s.Filesystems {
		add(model.SeriesKey("fs.total", "mount", f.Mount), float64(f.Total))
		add(model.SeriesKey("fs.used", "mount", f.Mount), float64(f.Used))
		add(model.SeriesKey("fs.avail", "mount", f.Mount), float64(f.Avail))
		add(model.SeriesKey("fs.used_pct", "mount", f.Mount), f.UsedPercent)
	}
	for _, d := range s.Disks {
		if r := d.Rate; r != nil {
			add(model.SeriesKey("disk.read_bps", "device", d.Device), r.ReadBytesPerSec)
			add(model.SeriesKey("disk.write_bps", "device", d.Device), r.WriteBytesPerSec)
			add(model.SeriesKey("disk.read_iops", "device", d.Device), r.ReadsPerSec)
			add(model.SeriesKey("disk.write_iops", "device", d.Device), r.WritesPerSec)
			add(model.SeriesKey("disk.util_pct", "device", d.Device), r.UtilPercent)
		}
	}
	for _, n := range s.Interfaces {
		if r := n.Rate; r != nil {
			add(model.SeriesKey("net.rx_bps", "iface", n.Name), r.RxBytesPerSec)
			add(model.SeriesKey("net.tx_bps", "iface", n.Name), r.TxBytesPerSec)
			add(model.SeriesKey("net.rx_pps", "iface", n.Name), r.RxPacketsPerSec)
			add(model.SeriesKey("net.tx_pps", "iface", n.Name), r.TxPacketsPerSec)
			add(model.SeriesKey("net.rx_errors_ps", "iface", n.Name), r.RxErrorsPerSec)
			add(model.SeriesKey("net.tx_errors_ps", "iface", n.Name), r.TxErrorsPerSec)
			add(model.SeriesKey("net.rx_dropped_ps", "iface", n.Name), r.RxDroppedPerSec)
			add(model.SeriesKey("net.tx_dropped_ps", "iface", n.Name), r.TxDroppedPerSec)
		}
	}
	if p := s.Processes; p.Total > 0 && s.ok(partProcesses) {
		add("proc.count", float64(p.Total))
	}
	if p := s.Processes; s.ok(partCPU) {
		add("proc.running", float64(p.Running))
		add("proc.blocked", float64(p.Blocked))
	}
	if f := s.FileDescriptors; s.ok(partFDs) {
		add("fd.open", float64(f.Open))
		add("fd.max", float64(f.Max))
	}
	if s.ok(partUptime) {
		add("host.uptime", s.UptimeSeconds)
	}
	add("sampler.duration_ms", float64(s.Duration)/float64(1e6))
	add("sampler.errors", float64(len(s.Errors)))
	return ps
}

// ok reports whether a part was read on this tick. Snapshots built by hand
// (or decoded from JSON) have no failures recorded and count as complete.
func (s Snapshot) ok(p part) bool { return s.failed&(1<<p) == 0 }
