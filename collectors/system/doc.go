// Package system samples the host dashd runs on: CPU, load, memory, swap,
// filesystems, disks, network, process counts, file handles and the busiest
// processes, from /proc and /sys (gopsutil v3 for what is read once or on the
// slow cadence).
//
// # Lifecycle
//
// New fills defaults; Run samples at once and then on every wall-clock
// multiple of Options.Interval (every whole second at the default) from the
// calling goroutine until its context ends, handing each Snapshot to a
// callback. It keeps the per-tick /proc files open between ticks and closes
// them when it returns. The host identity is read once (host.Info costs milliseconds).
// The process list, the mount table and the list of whole disks are re-read
// every Options.ProcessInterval; everything else every tick.
//
// # Derivation
//
// Reading and deriving are split the node_exporter way: the readers hand raw
// counters to pure functions (derive.go, parse.go, procfs.go) that compute
// percentages and per-second rates from the difference between two ticks. The
// first tick has counters but no rates; a counter that goes backwards (reset
// or wrap) voids that item's rates for one tick and becomes the new baseline.
// CPU percentages come from two /proc/stat readings taken here, never from
// cpu.Percent (package state) or Process.CPUPercent (an average since the
// process started): a top process's CPU is measured over the last process
// interval.
//
// # Sources
//
// The files read on every tick (/proc/stat, /proc/meminfo, /proc/loadavg,
// /proc/uptime, /proc/sys/fs/file-nr, /proc/diskstats, /proc/net/dev) are
// opened once and re-read in place with pread at offset 0 (internal/procfile): a
// tick costs about one system call per file, where os.Open plus a read costs
// about seven, and no file is registered with the runtime's poller. They are
// parsed here (procfs.go), to the values gopsutil gives for the same files;
// gopsutil's load.Avg fallback to sysinfo(2) and its MemAvailable estimate
// for kernels before 3.14 are kept. The process refresh keeps each
// process's /proc/PID/stat open between refreshes and re-reads it with
// pread, up to 256 descriptors (fewer under a low RLIMIT_NOFILE; the rest
// are opened, read and closed each time); all are closed when Run returns.
// gopsutil reads the host identity (once), the mount table (slow cadence),
// filesystem usage (one statfs per mount) and the name, user and command
// line of top processes (once per process). A statfs on a network filesystem that does not answer
// within a second is abandoned and the mount skipped until it returns.
//
// # Node figures
//
// Snapshot.Node (NodeStats) holds what only the Prometheus exporter uses,
// node_exporter's families beyond the dashboard's figures, read by the
// same sampler: every /proc/meminfo field (same read as Memory), ctxt,
// intr and processes (same read of /proc/stat), the extra /proc/diskstats
// columns and adjtimex(2) every tick, at no extra read. On the slow
// cadence (ProcessInterval, 5 s), because together they cost about
// 150 us a read (measured: the kernel sums per-CPU counters for vmstat
// and the SNMP tables), which every second would break the daemon's
// footprint budget, while their counters feed rate() over minutes and
// their gauges change slowly: /proc/vmstat, /proc/pressure/*,
// /proc/net/sockstat and sockstat6, /proc/net/snmp, netstat and snmp6,
// nf_conntrack_count and _max, /sys/class/net/*/{operstate,carrier} and
// uname(2); the other /sys/class/net attributes (address, mtu, speed,
// ...) every 12th time (a minute) or when the interface list changes
// (netClassFullEvery). Between
// refreshes every Snapshot shares the latest values (read-only). /etc/os-release is read once. A file the
// kernel does not have (no PSI, no nf_conntrack, no IPv6) leaves its
// figures out without an error, as node_exporter does.
//
// # Series
//
// Snapshot.Points flattens a Snapshot into these series (names built with
// model.SeriesKey). Rates are absent on the first tick and after a reset.
//
//	series                          unit     meaning
//	cpu.total                       %        busy: 100 - idle - iowait, all CPUs
//	cpu.user, cpu.nice, cpu.system  %        time share per mode, all CPUs
//	cpu.iowait, cpu.irq, cpu.softirq %
//	cpu.steal, cpu.idle             %
//	cpu.core{core=N}                %        busy per logical CPU
//	load.1, load.5, load.15                  load average
//	mem.total, mem.used             bytes    used = total - available
//	mem.available, mem.cached       bytes    cached includes reclaimable slab
//	mem.used_pct                    %
//	swap.total, swap.used           bytes
//	swap.used_pct                   %        0 without swap
//	fs.total{mount=M}               bytes    per selected filesystem
//	fs.used{mount=M}, fs.avail{mount=M} bytes avail: free to unprivileged users
//	fs.used_pct{mount=M}            %        used / (used + avail), like df
//	fs.inodes_used_pct{mount=M}     %        inodes in use (none when the fs reports no inodes)
//	disk.read_bps{device=D}         bytes/s  per whole disk (no partitions)
//	disk.write_bps{device=D}        bytes/s
//	disk.read_iops{device=D}        1/s      completed reads
//	disk.write_iops{device=D}       1/s      completed writes
//	disk.util_pct{device=D}         %        time with I/O in flight
//	disk.read_await_ms{device=D}    ms       mean time per completed read (iostat r_await)
//	disk.write_await_ms{device=D}   ms       mean time per completed write (iostat w_await)
//	net.rx_bps{iface=I}, net.tx_bps{iface=I}             bytes/s
//	net.rx_pps{iface=I}, net.tx_pps{iface=I}             packets/s
//	net.rx_errors_ps{iface=I}, net.tx_errors_ps{iface=I} errors/s
//	net.rx_dropped_ps{iface=I}, net.tx_dropped_ps{iface=I} drops/s
//	proc.count                               processes (every ProcessInterval)
//	proc.running, proc.blocked               runnable / in D state (tasks)
//	fd.open, fd.max                          system-wide file handles
//	host.uptime                     s
//	sampler.duration_ms             ms       cost of the tick itself
//	sampler.errors                           parts that failed on the tick
//
// Cumulative counters (CPU seconds per mode and core, disk and network totals)
// and the top process lists stay in the Snapshot for the Prometheus exporter and
// the UI; they are not flattened into history.
//
// # Selection
//
// Filesystems: every mount, minus pseudo and memory-backed types and kernel or
// container-runtime mount points (DefaultFSTypeExclude, DefaultMountExclude),
// and one mount per block device (bind mounts of the same device are dropped;
// the non-bind, shortest mount point stays). Disks: whole devices from
// /sys/block, minus loop, ram and zram. Network: every interface but lo.
// All of it is configurable with glob lists (see Options and MatchGlob).
//
// # Testing against fixtures
//
// Options.Env points gopsutil (through the common.EnvKey context value) and this
// package's own reads at another /proc, /sys and /etc (paths resolved once, in
// New); the tests copy fixture trees from testdata/ and rewrite them in place
// between two ticks (the kept descriptors see the new content, as with /proc)
// to check exact values.
package system
