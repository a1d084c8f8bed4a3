// Package series owns the names of every metric series dashd stores: the
// host's (written by collectors/system), the checks' latency and dashd's own
// footprint. A name is spelled here once; the sampler, the recorder, the
// API docs and the charts refer to these constants, so a rename cannot
// leave a reader looking for a series nobody writes.
//
// A series name is a metric and optional labels, "fs.used_pct{mount=/}",
// built with model.SeriesKey.
package series

import "github.com/dashd/dashd/model"

// Host-wide series, one value per sample.
const (
	CPUTotal   = "cpu.total" // busy %, all cores
	CPUUser    = "cpu.user"
	CPUNice    = "cpu.nice"
	CPUSystem  = "cpu.system"
	CPUIOWait  = "cpu.iowait"
	CPUIRQ     = "cpu.irq"
	CPUSoftIRQ = "cpu.softirq"
	CPUSteal   = "cpu.steal"
	CPUIdle    = "cpu.idle"

	Load1  = "load.1"
	Load5  = "load.5"
	Load15 = "load.15"

	MemTotal     = "mem.total"
	MemUsed      = "mem.used"
	MemAvailable = "mem.available"
	MemCached    = "mem.cached"
	MemUsedPct   = "mem.used_pct"
	SwapTotal    = "swap.total"
	SwapUsed     = "swap.used"
	SwapUsedPct  = "swap.used_pct"

	ProcCount   = "proc.count"
	ProcRunning = "proc.running"
	ProcBlocked = "proc.blocked"
	FDOpen      = "fd.open"
	FDMax       = "fd.max"
	HostUptime  = "host.uptime"

	SamplerDurationMs = "sampler.duration_ms"
	SamplerErrors     = "sampler.errors"
)

// Per-item metrics: labelled with the core, mount point, device or
// interface. The arrays are in the order collectors/system writes them.
const (
	CPUCore = "cpu.core" // label core
)

// FSMetrics are the per-filesystem metrics (label mount).
func FSMetrics() [5]string {
	return [...]string{"fs.total", "fs.used", "fs.avail", "fs.used_pct", "fs.inodes_used_pct"}
}

// DiskMetrics are the per-disk metrics (label device).
func DiskMetrics() [7]string {
	return [...]string{"disk.read_bps", "disk.write_bps", "disk.read_iops", "disk.write_iops", "disk.util_pct",
		"disk.read_await_ms", "disk.write_await_ms"}
}

// NetMetrics are the per-interface metrics (label iface).
func NetMetrics() [8]string {
	return [...]string{"net.rx_bps", "net.tx_bps", "net.rx_pps", "net.tx_pps",
		"net.rx_errors_ps", "net.tx_errors_ps", "net.rx_dropped_ps", "net.tx_dropped_ps"}
}

// Labels of the per-item series.
const (
	LabelCore   = "core"
	LabelMount  = "mount"
	LabelDevice = "device"
	LabelIface  = "iface"
	LabelCheck  = "check"
)

// dashd's own footprint, one value per host sample.
const (
	SelfCPUPct     = "dashd.cpu_pct"
	SelfRSS        = "dashd.rss"
	SelfGoroutines = "dashd.goroutines"
)

// CheckLatencyMetric is the metric of a check's latency in milliseconds, one
// value per result; CheckLatency names one check's series.
const CheckLatencyMetric = "check.latency_ms"

// CheckLatency is the series of one check's latency in milliseconds.
func CheckLatency(check string) string { return model.SeriesKey(CheckLatencyMetric, LabelCheck, check) }
