package server

import (
	"time"

	"github.com/dashd/dashd/collectors/system"
)

// systemJSON is /api/v1/system: the latest host sample in the API's
// vocabulary (see api_json.go). The sampler's own types keep the units
// they measure in (milliseconds, nanoseconds); this is where they become
// seconds, and where a new sampler field becomes part of the API only
// once it is named here and in openapi.json.
type systemJSON struct {
	Time            time.Time              `json:"time"`
	DurationSeconds float64                `json:"duration_seconds"`
	Errors          []string               `json:"errors,omitempty"`
	Host            *hostJSON              `json:"host"`
	UptimeSeconds   float64                `json:"uptime_seconds"`
	CPU             *cpuPctJSON            `json:"cpu,omitempty"`
	Cores           []cpuPctJSON           `json:"cores,omitempty"`
	CPUSeconds      []system.CPUTimes      `json:"cpu_seconds,omitempty"`
	Load            system.Load            `json:"load"`
	Memory          system.Memory          `json:"memory"`
	Swap            system.Swap            `json:"swap"`
	Filesystems     []system.Filesystem    `json:"filesystems"`
	Disks           []diskJSON             `json:"disks"`
	Interfaces      []netJSON              `json:"interfaces"`
	Processes       system.ProcessCounts   `json:"processes"`
	FileDescriptors system.FileDescriptors `json:"fds"`
	Top             *topJSON               `json:"top,omitempty"`
}

// hostJSON is the machine's identity.
type hostJSON struct {
	Hostname           string    `json:"hostname"`
	OS                 string    `json:"os"`
	Platform           string    `json:"platform"`
	PlatformFamily     string    `json:"platform_family"`
	PlatformVersion    string    `json:"platform_version"`
	Kernel             string    `json:"kernel"`
	Arch               string    `json:"arch"`
	CPUs               int       `json:"cpus"`
	CPUModel           string    `json:"cpu_model"`
	Virtualization     string    `json:"virtualization,omitempty"`
	VirtualizationRole string    `json:"virtualization_role,omitempty"`
	BootAt             time.Time `json:"boot_at"`
}

// cpuPctJSON is the share of time in each mode over the last interval.
type cpuPctJSON struct {
	Core       int     `json:"core"`
	BusyPct    float64 `json:"busy_pct"`
	UserPct    float64 `json:"user_pct"`
	NicePct    float64 `json:"nice_pct"`
	SystemPct  float64 `json:"system_pct"`
	IOWaitPct  float64 `json:"iowait_pct"`
	IRQPct     float64 `json:"irq_pct"`
	SoftIRQPct float64 `json:"softirq_pct"`
	StealPct   float64 `json:"steal_pct"`
	IdlePct    float64 `json:"idle_pct"`
}

func newCPUPct(c system.CPUPercent) cpuPctJSON {
	return cpuPctJSON{Core: c.Core, BusyPct: c.Busy, UserPct: c.User, NicePct: c.Nice, SystemPct: c.System,
		IOWaitPct: c.IOWait, IRQPct: c.IRQ, SoftIRQPct: c.SoftIRQ, StealPct: c.Steal, IdlePct: c.Idle}
}

// diskJSON is one block device: counters since boot, rates over the last
// interval.
type diskJSON struct {
	Device                string        `json:"device"`
	ReadBytes             uint64        `json:"read_bytes"`
	WrittenBytes          uint64        `json:"written_bytes"`
	Reads                 uint64        `json:"reads"`
	Writes                uint64        `json:"writes"`
	IOTimeSeconds         float64       `json:"io_time_seconds"`
	ReadTimeSeconds       float64       `json:"read_time_seconds"`
	WriteTimeSeconds      float64       `json:"write_time_seconds"`
	WeightedIOTimeSeconds float64       `json:"weighted_io_time_seconds"`
	IOsInProgress         uint64        `json:"ios_in_progress"`
	Rate                  *diskRateJSON `json:"rate,omitempty"`
}

type diskRateJSON struct {
	ReadBytesPerSecond    float64 `json:"read_bytes_per_second"`
	WrittenBytesPerSecond float64 `json:"written_bytes_per_second"`
	ReadsPerSecond        float64 `json:"reads_per_second"`
	WritesPerSecond       float64 `json:"writes_per_second"`
	UtilPct               float64 `json:"util_pct"`
}

func msSeconds(ms uint64) float64 { return float64(ms) / 1000 }

func newDiskJSON(d system.Disk) diskJSON {
	v := diskJSON{Device: d.Device, ReadBytes: d.ReadBytes, WrittenBytes: d.WrittenBytes, Reads: d.Reads, Writes: d.Writes,
		IOTimeSeconds: msSeconds(d.IOTimeMs), ReadTimeSeconds: msSeconds(d.ReadTimeMs), WriteTimeSeconds: msSeconds(d.WriteTimeMs),
		WeightedIOTimeSeconds: msSeconds(d.WeightedIOTimeMs), IOsInProgress: d.IOsInProgress}
	if r := d.Rate; r != nil {
		v.Rate = &diskRateJSON{ReadBytesPerSecond: r.ReadBytesPerSec, WrittenBytesPerSecond: r.WriteBytesPerSec,
			ReadsPerSecond: r.ReadsPerSec, WritesPerSecond: r.WritesPerSec, UtilPct: r.UtilPercent}
	}
	return v
}

// netJSON is one network interface.
type netJSON struct {
	Name      string       `json:"name"`
	RxBytes   uint64       `json:"rx_bytes"`
	TxBytes   uint64       `json:"tx_bytes"`
	RxPackets uint64       `json:"rx_packets"`
	TxPackets uint64       `json:"tx_packets"`
	RxErrors  uint64       `json:"rx_errors"`
	TxErrors  uint64       `json:"tx_errors"`
	RxDropped uint64       `json:"rx_dropped"`
	TxDropped uint64       `json:"tx_dropped"`
	Rate      *netRateJSON `json:"rate,omitempty"`
}

type netRateJSON struct {
	RxBytesPerSecond   float64 `json:"rx_bytes_per_second"`
	TxBytesPerSecond   float64 `json:"tx_bytes_per_second"`
	RxPacketsPerSecond float64 `json:"rx_packets_per_second"`
	TxPacketsPerSecond float64 `json:"tx_packets_per_second"`
	RxErrorsPerSecond  float64 `json:"rx_errors_per_second"`
	TxErrorsPerSecond  float64 `json:"tx_errors_per_second"`
	RxDroppedPerSecond float64 `json:"rx_dropped_per_second"`
	TxDroppedPerSecond float64 `json:"tx_dropped_per_second"`
}

func newNetJSON(n system.NetInterface) netJSON {
	v := netJSON{Name: n.Name, RxBytes: n.RxBytes, TxBytes: n.TxBytes, RxPackets: n.RxPackets, TxPackets: n.TxPackets,
		RxErrors: n.RxErrors, TxErrors: n.TxErrors, RxDropped: n.RxDropped, TxDropped: n.TxDropped}
	if r := n.Rate; r != nil {
		v.Rate = &netRateJSON{RxBytesPerSecond: r.RxBytesPerSec, TxBytesPerSecond: r.TxBytesPerSec,
			RxPacketsPerSecond: r.RxPacketsPerSec, TxPacketsPerSecond: r.TxPacketsPerSec,
			RxErrorsPerSecond: r.RxErrorsPerSec, TxErrorsPerSecond: r.TxErrorsPerSec,
			RxDroppedPerSecond: r.RxDroppedPerSec, TxDroppedPerSecond: r.TxDroppedPerSec}
	}
	return v
}

// topJSON is the busiest processes over the last process interval.
type topJSON struct {
	Time            time.Time        `json:"time"`
	IntervalSeconds float64          `json:"interval_seconds"`
	ByCPU           []system.Process `json:"by_cpu"`
	ByMemory        []system.Process `json:"by_memory"`
}

func newSystemJSON(s system.Snapshot) systemJSON {
	v := systemJSON{Time: s.Time, DurationSeconds: seconds(s.Duration), Errors: s.Errors, UptimeSeconds: s.UptimeSeconds,
		CPUSeconds: s.CPUSeconds, Load: s.Load, Memory: s.Memory, Swap: s.Swap, Processes: s.Processes,
		FileDescriptors: s.FileDescriptors, Filesystems: s.Filesystems,
		Disks: mapSlice(s.Disks, newDiskJSON), Interfaces: mapSlice(s.Interfaces, newNetJSON)}
	if v.Filesystems == nil {
		v.Filesystems = []system.Filesystem{}
	}
	if h := s.Host; h != nil {
		v.Host = &hostJSON{Hostname: h.Hostname, OS: h.OS, Platform: h.Platform, PlatformFamily: h.PlatformFamily,
			PlatformVersion: h.PlatformVersion, Kernel: h.Kernel, Arch: h.Arch, CPUs: h.CPUs, CPUModel: h.CPUModel,
			Virtualization: h.Virtualization, VirtualizationRole: h.VirtualizationRole, BootAt: h.BootTime}
	}
	if s.CPU != nil {
		c := newCPUPct(*s.CPU)
		v.CPU = &c
	}
	if len(s.Cores) > 0 {
		v.Cores = mapSlice(s.Cores, newCPUPct)
	}
	if t := s.Top; t != nil {
		v.Top = &topJSON{Time: t.Time, IntervalSeconds: seconds(t.Interval), ByCPU: t.ByCPU, ByMemory: t.ByMemory}
		if v.Top.ByCPU == nil {
			v.Top.ByCPU = []system.Process{}
		}
		if v.Top.ByMemory == nil {
			v.Top.ByMemory = []system.Process{}
		}
	}
	return v
}
