package system

import "time"

// Snapshot is everything one tick measured about the host.
//
// A Snapshot handed to Run's callback belongs to the receiver: the Sampler never
// touches it again. Host and Top are shared between snapshots (Host for the whole
// run, Top until the next process refresh) and must be treated as read-only.
//
// Rates (percentages, per-second figures) need two ticks: on the first tick, and
// on a tick where a counter went backwards (reset or wrap), the rate fields of the
// affected item are nil while the raw counters are still filled in.
type Snapshot struct {
	Time time.Time `json:"time"`
	// Duration is how long the tick took to collect; Errors lists the parts that
	// failed ("disk: open /proc/diskstats: ..."); the other parts are still valid.
	Duration time.Duration `json:"duration_ns"`
	Errors   []string      `json:"errors,omitempty"`

	Host          *Host   `json:"host"`
	UptimeSeconds float64 `json:"uptime_s"`

	// CPU is the whole machine; Cores holds one entry per logical CPU.
	// Both are nil on the first tick.
	CPU   *CPUPercent  `json:"cpu,omitempty"`
	Cores []CPUPercent `json:"cores,omitempty"`
	// CPUSeconds holds the cumulative time per mode for each logical CPU since
	// boot (node_cpu_seconds_total).
	CPUSeconds []CPUTimes `json:"cpu_seconds,omitempty"`

	Load            Load            `json:"load"`
	Memory          Memory          `json:"memory"`
	Swap            Swap            `json:"swap"`
	Filesystems     []Filesystem    `json:"filesystems"`
	Disks           []Disk          `json:"disks"`
	Interfaces      []NetInterface  `json:"interfaces"`
	Processes       ProcessCounts   `json:"processes"`
	FileDescriptors FileDescriptors `json:"fds"`
	// Top is the latest top-process ranking (refreshed every ProcessInterval);
	// nil until the first refresh.
	Top *TopProcesses `json:"top,omitempty"`
	// FilesystemErrors are the selected mounts whose statfs failed on this
	// tick (identity and ReadOnly only): node_filesystem_device_error 1.
	FilesystemErrors []Filesystem `json:"-"`
	// Node is what only the Prometheus exporter uses (node_exporter's
	// families beyond the dashboard's figures); not part of the JSON API.
	Node NodeStats `json:"-"`

	failed uint32       // bit per part that failed on this tick, for Points
	names  *seriesNames // series names for Points; read-only, shared between ticks
}

// part names one reader of a tick; its bit in Snapshot.failed is 1<<part.
type part uint8

const (
	partCPU part = iota
	partMemory
	partLoad
	partUptime
	partProcesses
	partFDs
	partFilesystems
	partDisks
	partNetwork
	partVMStat
	partPressure
	partSockstat
	partNetstat
	partConntrack
	partNetClass
	partTimex
)

var partNames = [...]string{"cpu", "memory", "load", "uptime", "processes", "fds", "filesystems", "disks", "network",
	"vmstat", "pressure", "sockstat", "netstat", "conntrack", "netclass", "timex"}

func (p part) String() string { return partNames[p] }

// Host is the machine's identity, read once when the Sampler starts.
type Host struct {
	Hostname        string `json:"hostname"`
	OS              string `json:"os"`               // "linux"
	Platform        string `json:"platform"`         // "debian"
	PlatformFamily  string `json:"platform_family"`  // "debian"
	PlatformVersion string `json:"platform_version"` // "12.5"
	Kernel          string `json:"kernel"`           // "6.1.0-18-amd64"
	Arch            string `json:"arch"`             // "x86_64"
	CPUs            int    `json:"cpus"`             // logical CPUs
	CPUModel        string `json:"cpu_model"`
	// Virtualization is the hypervisor or container runtime ("kvm", "docker"),
	// VirtualizationRole "guest" or "host"; both empty on bare metal.
	Virtualization     string    `json:"virtualization,omitempty"`
	VirtualizationRole string    `json:"virtualization_role,omitempty"`
	BootTime           time.Time `json:"boot_time"`
}

// CPUPercent is the share of time spent in each mode over the last interval,
// in percent (0-100). Busy is 100 minus Idle and IOWait.
type CPUPercent struct {
	// Core is the logical CPU number, or -1 for the whole machine.
	Core    int     `json:"core"`
	Busy    float64 `json:"busy"`
	User    float64 `json:"user"`
	Nice    float64 `json:"nice"`
	System  float64 `json:"system"`
	IOWait  float64 `json:"iowait"`
	IRQ     float64 `json:"irq"`
	SoftIRQ float64 `json:"softirq"`
	Steal   float64 `json:"steal"`
	Idle    float64 `json:"idle"`
}

// CPUTimes is the cumulative time in seconds one logical CPU spent in each mode
// since boot, as /proc/stat reports it (User and Nice include guest time).
type CPUTimes struct {
	Core      int     `json:"core"`
	User      float64 `json:"user"`
	Nice      float64 `json:"nice"`
	System    float64 `json:"system"`
	Idle      float64 `json:"idle"`
	IOWait    float64 `json:"iowait"`
	IRQ       float64 `json:"irq"`
	SoftIRQ   float64 `json:"softirq"`
	Steal     float64 `json:"steal"`
	Guest     float64 `json:"guest"`
	GuestNice float64 `json:"guest_nice"`
}

// Load is the run-queue load average.
type Load struct {
	Load1  float64 `json:"load1"`
	Load5  float64 `json:"load5"`
	Load15 float64 `json:"load15"`
}

// Memory is physical memory in bytes. Used is Total minus Available (what
// procps free(1) 4.x prints), so UsedPercent tracks memory pressure rather than
// cache growth; Cached includes reclaimable slab (the dashboard's "cached",
// series mem.cached). node_memory_Cached_bytes is /proc/meminfo's Cached
// alone, from NodeStats.Meminfo: same name, same meaning as node_exporter.
type Memory struct {
	Total       uint64  `json:"total"`
	Used        uint64  `json:"used"`
	Available   uint64  `json:"available"`
	Free        uint64  `json:"free"`
	Buffers     uint64  `json:"buffers"`
	Cached      uint64  `json:"cached"`
	UsedPercent float64 `json:"used_pct"`
}

// Swap is swap space in bytes.
type Swap struct {
	Total       uint64  `json:"total"`
	Used        uint64  `json:"used"`
	Free        uint64  `json:"free"`
	UsedPercent float64 `json:"used_pct"`
}

// Filesystem is the usage of one mounted filesystem. UsedPercent is computed
// like df: Used / (Used + Avail), so blocks reserved for root do not count.
type Filesystem struct {
	Mount       string  `json:"mount"`
	Device      string  `json:"device"`
	FSType      string  `json:"fstype"`
	Total       uint64  `json:"total"`
	Used        uint64  `json:"used"`
	Avail       uint64  `json:"avail"`
	UsedPercent float64 `json:"used_pct"`
	InodesTotal uint64  `json:"inodes_total"`
	InodesFree  uint64  `json:"inodes_free"`
	// ReadOnly is true when the mount options include "ro" (read on the
	// slow cadence, with the mount table).
	ReadOnly bool `json:"readonly"`
}

// Disk is one whole block device (no partitions): cumulative counters since boot
// plus rates over the last interval.
type Disk struct {
	Device       string `json:"device"`
	ReadBytes    uint64 `json:"read_bytes"`
	WrittenBytes uint64 `json:"written_bytes"`
	Reads        uint64 `json:"reads"`  // completed read requests
	Writes       uint64 `json:"writes"` // completed write requests
	// IOTimeMs is the time the device had I/O in flight, in milliseconds.
	IOTimeMs uint64 `json:"io_time_ms"`
	// ReadTimeMs and WriteTimeMs are the milliseconds all reads and writes
	// took; WeightedIOTimeMs is io time weighted by the requests in flight;
	// IOsInProgress is the requests in flight now (/proc/diskstats).
	ReadTimeMs       uint64    `json:"read_time_ms"`
	WriteTimeMs      uint64    `json:"write_time_ms"`
	WeightedIOTimeMs uint64    `json:"weighted_io_time_ms"`
	IOsInProgress    uint64    `json:"ios_in_progress"`
	Rate             *DiskRate `json:"rate,omitempty"`
}

// DiskRate is a disk's activity over the last interval.
type DiskRate struct {
	ReadBytesPerSec  float64 `json:"read_bps"`
	WriteBytesPerSec float64 `json:"write_bps"`
	ReadsPerSec      float64 `json:"read_iops"`
	WritesPerSec     float64 `json:"write_iops"`
	// UtilPercent is the share of the interval with I/O in flight (0-100).
	UtilPercent float64 `json:"util_pct"`
	// ReadAwaitMs and WriteAwaitMs are the mean time a read or a write
	// completed in the interval took, queueing included (iostat's
	// r_await and w_await); 0 when none completed.
	ReadAwaitMs  float64 `json:"read_await_ms"`
	WriteAwaitMs float64 `json:"write_await_ms"`
}

// NetInterface is one network interface: cumulative counters since the interface
// appeared (node_network_*_total) plus rates over the last interval.
type NetInterface struct {
	Name      string   `json:"name"`
	RxBytes   uint64   `json:"rx_bytes"`
	TxBytes   uint64   `json:"tx_bytes"`
	RxPackets uint64   `json:"rx_packets"`
	TxPackets uint64   `json:"tx_packets"`
	RxErrors  uint64   `json:"rx_errors"`
	TxErrors  uint64   `json:"tx_errors"`
	RxDropped uint64   `json:"rx_dropped"`
	TxDropped uint64   `json:"tx_dropped"`
	Rate      *NetRate `json:"rate,omitempty"`
}

// NetRate is an interface's traffic over the last interval, per second.
type NetRate struct {
	RxBytesPerSec   float64 `json:"rx_bps"`
	TxBytesPerSec   float64 `json:"tx_bps"`
	RxPacketsPerSec float64 `json:"rx_pps"`
	TxPacketsPerSec float64 `json:"tx_pps"`
	RxErrorsPerSec  float64 `json:"rx_errors_ps"`
	TxErrorsPerSec  float64 `json:"tx_errors_ps"`
	RxDroppedPerSec float64 `json:"rx_dropped_ps"`
	TxDroppedPerSec float64 `json:"tx_dropped_ps"`
}

// ProcessCounts counts processes. Total is the number of processes at the
// latest process refresh (listing /proc is left to the slow cadence); Running
// and Blocked come from /proc/stat's procs_running and procs_blocked on every
// tick and count threads (tasks), as top does.
type ProcessCounts struct {
	Total   int `json:"total"`
	Running int `json:"running"`
	Blocked int `json:"blocked"`
}

// FileDescriptors is the system-wide file handle table (/proc/sys/fs/file-nr).
type FileDescriptors struct {
	Open uint64 `json:"open"` // allocated minus unused
	Max  uint64 `json:"max"`
}

// TopProcesses is a ranking of the busiest processes, measured over the last
// process interval.
type TopProcesses struct {
	Time time.Time `json:"time"`
	// Interval is the window CPU percentages were measured over; zero until two
	// refreshes have happened (ByCPU is empty until then).
	Interval time.Duration `json:"interval_ns"`
	ByCPU    []Process     `json:"by_cpu"`
	ByMemory []Process     `json:"by_memory"`
}

// Process is one entry of a top list.
type Process struct {
	PID  int32  `json:"pid"`
	Name string `json:"name"`
	User string `json:"user,omitempty"`
	// Cmdline is never serialised: command lines carry passwords and
	// tokens, and the JSON API is unauthenticated.
	Cmdline string `json:"-"`
	// CPUPercent is the CPU used over the process interval in percent of one
	// core (as top shows it: 200 means two cores busy).
	CPUPercent float64 `json:"cpu_pct"`
	RSS        uint64  `json:"rss"`
	// MemPercent is RSS as a percentage of physical memory.
	MemPercent float64 `json:"mem_pct"`
}
