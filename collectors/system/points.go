package system

import (
	"slices"
	"strconv"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
)

// Points flattens the Snapshot into the series listed in the package doc.
// A scalar part that failed on this tick (see Errors) contributes no points,
// and series whose rate is not known on this tick (first tick, counter reset) are
// left out rather than written as zero, so charts show a gap, not a dip.
// Raw counters, CPU seconds and top processes are not flattened: they are for
// the Prometheus exporter and the UI, not for history.
func (s Snapshot) Points() []model.Point {
	n := 30 + len(s.Cores) + 5*len(s.Filesystems) + 7*len(s.Disks) + 8*len(s.Interfaces)
	ps := make([]model.Point, 0, n)
	add := func(series string, v float64) { ps = append(ps, model.Point{Series: series, Value: v}) }
	names := s.names
	if names == nil {
		names = &seriesNames{} // a Snapshot built by hand: names built here
	}

	if c := s.CPU; c != nil {
		add(series.CPUTotal, c.Busy)
		add(series.CPUUser, c.User)
		add(series.CPUNice, c.Nice)
		add(series.CPUSystem, c.System)
		add(series.CPUIOWait, c.IOWait)
		add(series.CPUIRQ, c.IRQ)
		add(series.CPUSoftIRQ, c.SoftIRQ)
		add(series.CPUSteal, c.Steal)
		add(series.CPUIdle, c.Idle)
	}
	for _, c := range s.Cores {
		add(names.core(c.Core), c.Busy)
	}
	if s.ok(partLoad) {
		add(series.Load1, s.Load.Load1)
		add(series.Load5, s.Load.Load5)
		add(series.Load15, s.Load.Load15)
	}
	if m := s.Memory; s.ok(partMemory) {
		add(series.MemTotal, float64(m.Total))
		add(series.MemUsed, float64(m.Used))
		add(series.MemAvailable, float64(m.Available))
		add(series.MemCached, float64(m.Cached))
		add(series.MemUsedPct, m.UsedPercent)
		add(series.SwapTotal, float64(s.Swap.Total))
		add(series.SwapUsed, float64(s.Swap.Used))
		add(series.SwapUsedPct, s.Swap.UsedPercent)
	}
	for _, f := range s.Filesystems {
		k := names.fs(f.Mount)
		add(k[0], float64(f.Total))
		add(k[1], float64(f.Used))
		add(k[2], float64(f.Avail))
		add(k[3], f.UsedPercent)
		// Some filesystems (btrfs, vfat) report no inodes: no series.
		if f.InodesTotal > 0 && f.InodesFree <= f.InodesTotal {
			add(k[4], float64(f.InodesTotal-f.InodesFree)/float64(f.InodesTotal)*100)
		}
	}
	for _, d := range s.Disks {
		if r := d.Rate; r != nil {
			k := names.disk(d.Device)
			add(k[0], r.ReadBytesPerSec)
			add(k[1], r.WriteBytesPerSec)
			add(k[2], r.ReadsPerSec)
			add(k[3], r.WritesPerSec)
			add(k[4], r.UtilPercent)
			add(k[5], r.ReadAwaitMs)
			add(k[6], r.WriteAwaitMs)
		}
	}
	for _, n := range s.Interfaces {
		if r := n.Rate; r != nil {
			k := names.net(n.Name)
			add(k[0], r.RxBytesPerSec)
			add(k[1], r.TxBytesPerSec)
			add(k[2], r.RxPacketsPerSec)
			add(k[3], r.TxPacketsPerSec)
			add(k[4], r.RxErrorsPerSec)
			add(k[5], r.TxErrorsPerSec)
			add(k[6], r.RxDroppedPerSec)
			add(k[7], r.TxDroppedPerSec)
		}
	}
	if p := s.Processes; p.Total > 0 && s.ok(partProcesses) {
		add(series.ProcCount, float64(p.Total))
	}
	if p := s.Processes; s.ok(partCPU) {
		add(series.ProcRunning, float64(p.Running))
		add(series.ProcBlocked, float64(p.Blocked))
	}
	if f := s.FileDescriptors; s.ok(partFDs) {
		add(series.FDOpen, float64(f.Open))
		add(series.FDMax, float64(f.Max))
	}
	if s.ok(partUptime) {
		add(series.HostUptime, s.UptimeSeconds)
	}
	add(series.SamplerDurationMs, float64(s.Duration)/float64(1e6))
	add(series.SamplerErrors, float64(len(s.Errors)))
	return ps
}

// ok reports whether a part was read on this tick. Snapshots built by hand
// (or decoded from JSON) have no failures recorded and count as complete.
func (s Snapshot) ok(p part) bool { return s.failed&(1<<p) == 0 }

// seriesNames holds the series names of per-item series ("disk.read_bps
// {device=sda}"), built once per item instead of on every tick.
//
// A seriesNames reachable from a Snapshot is never modified: Snapshots are
// read by other goroutines while the Sampler goes on, so the Sampler replaces
// its table with an extended copy (see with) when an item appears, which
// happens rarely. Lookups that miss (Snapshots built by hand) build the name.
type seriesNames struct {
	cores []string // by core number; "" where unknown
	fss   map[string]*[5]string
	disks map[string]*[7]string
	nets  map[string]*[8]string
}

func (n *seriesNames) core(c int) string {
	if c >= 0 && c < len(n.cores) && n.cores[c] != "" {
		return n.cores[c]
	}
	return model.SeriesKey(series.CPUCore, series.LabelCore, strconv.Itoa(c))
}

func (n *seriesNames) fs(mount string) *[5]string {
	if k := n.fss[mount]; k != nil {
		return k
	}
	return itemSeries(series.FSMetrics(), series.LabelMount, mount)
}

func (n *seriesNames) disk(device string) *[7]string {
	if k := n.disks[device]; k != nil {
		return k
	}
	return itemSeries(series.DiskMetrics(), series.LabelDevice, device)
}

func (n *seriesNames) net(iface string) *[8]string {
	if k := n.nets[iface]; k != nil {
		return k
	}
	return itemSeries(series.NetMetrics(), series.LabelIface, iface)
}

// itemSeries turns metric names, in the order Points writes them, into one
// item's series names.
func itemSeries[A interface {
	~[5]string | ~[7]string | ~[8]string
}](metrics A, label, value string) *A {
	for i := range len(metrics) {
		metrics[i] = model.SeriesKey(metrics[i], label, value)
	}
	return &metrics
}

// with returns n if it already names every item of snap, else a new table
// holding the items of snap (so names of items gone for good are dropped at
// the next change). n may be nil.
func (n *seriesNames) with(snap *Snapshot) *seriesNames {
	if n != nil && n.covers(snap) {
		return n
	}
	m := &seriesNames{
		fss:   make(map[string]*[5]string, len(snap.Filesystems)),
		disks: make(map[string]*[7]string, len(snap.Disks)),
		nets:  make(map[string]*[8]string, len(snap.Interfaces)),
	}
	if n == nil {
		n = &seriesNames{}
	}
	for _, c := range snap.CPUSeconds {
		if c.Core < 0 || c.Core > 1<<16 {
			continue
		}
		if c.Core >= len(m.cores) {
			m.cores = slices.Grow(m.cores, c.Core+1-len(m.cores))[:c.Core+1]
		}
		m.cores[c.Core] = n.core(c.Core)
	}
	for _, f := range snap.Filesystems {
		m.fss[f.Mount] = n.fs(f.Mount)
	}
	for _, d := range snap.Disks {
		m.disks[d.Device] = n.disk(d.Device)
	}
	for _, i := range snap.Interfaces {
		m.nets[i.Name] = n.net(i.Name)
	}
	return m
}

// covers reports whether n names every item of snap.
func (n *seriesNames) covers(snap *Snapshot) bool {
	for _, c := range snap.CPUSeconds {
		if c.Core < 0 || c.Core >= len(n.cores) || n.cores[c.Core] == "" {
			return false
		}
	}
	for _, f := range snap.Filesystems {
		if n.fss[f.Mount] == nil {
			return false
		}
	}
	for _, d := range snap.Disks {
		if n.disks[d.Device] == nil {
			return false
		}
	}
	for _, i := range snap.Interfaces {
		if n.nets[i.Name] == nil {
			return false
		}
	}
	return true
}
