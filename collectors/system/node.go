package system

// NodeStats are the host figures that only the Prometheus exporter uses:
// what node_exporter's meminfo, stat, vmstat, pressure, sockstat, netstat,
// conntrack, netclass, timex, uname and os collectors export beyond the
// dashboard's own figures. They are read where the sampler already reads,
// on the same tick (see the package documentation, "Node figures"), so one
// daemon answers the dashboards and alert rules written for node_exporter.
//
// Slices and pointers shared between snapshots (NetClass, Uname, OSRelease)
// are read-only; the others belong to the Snapshot.
type NodeStats struct {
	// Meminfo is every /proc/meminfo field under node_exporter's name, in
	// file order: "(anon)" and "(file)" become "_anon" and "_file", fields
	// counted in kB get "_bytes" and are in bytes ("Active_anon_bytes"),
	// the others are counts ("HugePages_Total"). Empty when memory failed.
	Meminfo []NamedValue
	// Stat is /proc/stat's kernel counters (same read as CPU times);
	// HasStat is false when the file failed.
	Stat    KernelCounters
	HasStat bool
	// VMStat holds the /proc/vmstat fields node_exporter exports by default
	// (oom_kill, pgpg*, pswp*, pg*fault*), in file order.
	VMStat []NamedValue
	// Pressure is the kernel's pressure stall information; nil on kernels
	// without PSI (before 4.20, or psi=0).
	Pressure *Pressure
	// Sockstat is /proc/net/sockstat and sockstat6 under node_exporter's
	// names ("sockets_used", "TCP_inuse", "TCP_mem_bytes", "TCP6_inuse").
	Sockstat []NamedValue
	// Netstat is /proc/net/snmp, netstat and snmp6 under node_exporter's
	// names ("Tcp_CurrEstab", "TcpExt_ListenDrops", "Ip6_InOctets"),
	// limited to node_exporter's default field list (NetstatField).
	Netstat []NamedValue
	// Conntrack is the connection tracking table; nil without nf_conntrack.
	Conntrack *Conntrack
	// NetClass is every interface in /sys/class/net (node_exporter's
	// netclass collector: lo included, the interface filter does not
	// apply), re-read on the slow cadence.
	NetClass []NetClass
	// Timex is the kernel clock discipline (adjtimex(2)); nil if it failed.
	Timex *Timex
	// Uname is uname(2), re-read on the slow cadence (hostnames change).
	Uname *Uname
	// OSRelease is /etc/os-release (or /usr/lib/os-release), read once at
	// start; nil when neither could be read.
	OSRelease map[string]string
}

// NamedValue is one field of a /proc file under its exported name.
type NamedValue struct {
	Name  string
	Value float64
}

// KernelCounters are /proc/stat's counters since boot.
type KernelCounters struct {
	ContextSwitches uint64 // ctxt
	Interrupts      uint64 // intr, the total (first number)
	Forks           uint64 // processes: forks since boot
}

// Pressure is the total stall time since boot, in seconds, from
// /proc/pressure/{cpu,io,memory}: "waiting" is the "some" line (at least
// one task stalled), "stalled" the "full" line (all non-idle tasks
// stalled). CPU has no "full" line before Linux 5.13 and node_exporter 1.5
// does not export it.
type Pressure struct {
	CPUWaiting    float64
	IOWaiting     float64
	IOStalled     float64
	MemoryWaiting float64
	MemoryStalled float64
	// HasCPU, HasIO and HasMemory say which files were read.
	HasCPU, HasIO, HasMemory bool
}

// Conntrack is the netfilter connection table's fill.
type Conntrack struct {
	Entries uint64 // nf_conntrack_count
	Limit   uint64 // nf_conntrack_max
}

// NetClass is one interface's /sys/class/net attributes. Attributes the
// kernel refuses to give (speed or carrier of an interface that is down,
// duplex of lo) are left unset: Has* false, strings empty, as
// node_exporter leaves their series out.
type NetClass struct {
	Name      string
	OperState string // "up", "down", "unknown", ...
	Address   string
	Broadcast string
	Duplex    string
	IfAlias   string

	Carrier    uint64
	HasCarrier bool
	MTU        int64
	HasMTU     bool
	// SpeedMbps is /sys/class/net/IF/speed as the kernel prints it (Mbit/s;
	// -1 for "unknown" on virtual links, exported as node_exporter 1.5 does).
	SpeedMbps int64
	HasSpeed  bool
}

// Timex is adjtimex(2) in node_exporter's units: seconds, hertz, ratio.
type Timex struct {
	OffsetSeconds         float64
	FrequencyRatio        float64 // 1 + freq / 65536 ppm
	MaxErrorSeconds       float64
	EstimatedErrorSeconds float64
	Status                float64
	LoopTimeConstant      float64
	TickSeconds           float64
	PPSFrequencyHertz     float64
	PPSJitterSeconds      float64
	PPSShiftSeconds       float64
	PPSStabilityHertz     float64
	PPSJitterTotal        float64
	PPSCalibrationTotal   float64
	PPSErrorTotal         float64
	PPSStabilityExceeded  float64
	TAIOffsetSeconds      float64
	SyncStatus            float64 // 1 when the clock is synchronised (not TIME_ERROR)
}

// Uname is uname(2), with node_exporter's label values.
type Uname struct {
	Sysname, Release, Version, Machine, Nodename, Domainname string
}
