package rules

import (
	"math"
	"strings"

	"github.com/dashd/dashd/collectors/system"
)

// Instance kinds: what a metric has one value per (config.RuleMetric.Per).
const (
	perHost       = ""
	perFilesystem = "filesystem"
	perInterface  = "interface"
)

// metric is how the engine reads one of config.RuleMetrics from a
// Snapshot and talks about it. Exactly one of host, fs and iface is set,
// except for fs_full_in (predicted), whose value comes from a fit.
type metric struct {
	name string
	per  string
	// part is the Snapshot part whose failure leaves the value unknown
	// (see partFailed).
	part string
	// label is the alert label naming the instance.
	label string
	host  func(s system.Snapshot) (float64, bool)
	fs    func(f *system.Filesystem) (float64, bool)
	iface func(n *system.NetInterface) (float64, bool)
	// predicted marks fs_full_in: the value is the fit's time until full.
	predicted bool
	// firing and resolved are the Summary formats: %[1]s is the instance,
	// %[2]s the formatted value.
	firing, resolved string
	// showFor appends " for 5m" to a firing summary.
	showFor bool
	// format writes a value with its unit.
	format func(v float64) string
}

// metrics is the one table of watchable metrics; it names every entry of
// config.RuleMetrics (TestMetricsMatchConfig keeps the two in step).
func metrics() []metric {
	return []metric{
		{name: "cpu", part: "cpu", host: cpuBusy, format: percent,
			firing: "CPU at %[2]s", resolved: "CPU back to %[2]s", showFor: true},
		{name: "memory_available", part: "memory", host: memAvailable, format: percent,
			firing: "memory available at %[2]s", resolved: "memory available back to %[2]s", showFor: true},
		{name: "swap_used", part: "memory", host: swapUsed, format: percent,
			firing: "swap at %[2]s used", resolved: "swap back to %[2]s used", showFor: true},
		{name: "load_per_core", part: "load", host: loadPerCore, format: number,
			firing: "load at %[2]s per core", resolved: "load back to %[2]s per core", showFor: true},
		{name: "fs_used", per: perFilesystem, part: "filesystems", label: LabelMountpoint, fs: fsUsed, format: percent,
			firing: "%[1]s is %[2]s full", resolved: "%[1]s back to %[2]s full"},
		{name: "fs_inodes_used", per: perFilesystem, part: "filesystems", label: LabelMountpoint, fs: fsInodesUsed, format: percent,
			firing: "%[1]s inodes %[2]s used", resolved: "%[1]s inodes back to %[2]s used"},
		{name: "fs_full_in", per: perFilesystem, part: "filesystems", label: LabelMountpoint, predicted: true, format: duration,
			firing: "%[1]s fills in %[2]s", resolved: "%[1]s no longer filling up soon"},
		{name: "net_errors", per: perInterface, part: "network", label: LabelInterface, iface: netErrors, format: perSecond,
			firing: "%[1]s at %[2]s", resolved: "%[1]s back to %[2]s", showFor: true},
	}
}

// lookupMetric finds a metric by name.
func lookupMetric(name string) (metric, bool) {
	for _, m := range metrics() {
		if m.name == name {
			return m, true
		}
	}
	return metric{}, false
}

// finite filters values no comparison makes sense of.
func finite(v float64) (float64, bool) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

func cpuBusy(s system.Snapshot) (float64, bool) {
	if s.CPU == nil {
		return 0, false
	}
	return finite(s.CPU.Busy)
}

func memAvailable(s system.Snapshot) (float64, bool) {
	m := s.Memory
	if m.Total == 0 {
		return 0, false
	}
	return finite(float64(m.Available) / float64(m.Total) * 100)
}

// swapUsed has no value on a host without swap: 0 % of nothing is not
// "swap is fine", and an alert fired before swapoff then resolves as gone.
func swapUsed(s system.Snapshot) (float64, bool) {
	if s.Swap.Total == 0 {
		return 0, false
	}
	return finite(s.Swap.UsedPercent)
}

func loadPerCore(s system.Snapshot) (float64, bool) {
	if s.Host == nil || s.Host.CPUs <= 0 {
		return 0, false
	}
	return finite(s.Load.Load1 / float64(s.Host.CPUs))
}

func fsUsed(f *system.Filesystem) (float64, bool) {
	if f.Used+f.Avail == 0 {
		return 0, false
	}
	return finite(f.UsedPercent)
}

func fsInodesUsed(f *system.Filesystem) (float64, bool) {
	if f.InodesTotal == 0 {
		return 0, false // filesystems without inode counts (btrfs, vfat)
	}
	free := min(f.InodesFree, f.InodesTotal)
	return finite((1 - float64(free)/float64(f.InodesTotal)) * 100)
}

func netErrors(n *system.NetInterface) (float64, bool) {
	if n.Rate == nil {
		return 0, false // first sample of the interface, or a counter reset
	}
	return finite(n.Rate.RxErrorsPerSec + n.Rate.TxErrorsPerSec)
}

// partFailed reports whether the part of the sample named part failed:
// Snapshot.Errors entries start with the part's name and ": " (the
// Sampler's report writes "%s: %v").
func partFailed(s *system.Snapshot, part string) bool {
	for _, e := range s.Errors {
		if len(e) > len(part)+1 && strings.HasPrefix(e, part) && e[len(part)] == ':' {
			return true
		}
	}
	return false
}
