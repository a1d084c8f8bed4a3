// Package system samples the host dashd runs on: CPU, load, memory, swap,
// filesystems, disks, network, process counts, file handles and the busiest
// processes, through gopsutil v3.
//
// # Lifecycle
//
// New fills defaults; Run samples at once and then every Options.Interval from
// the calling goroutine until its context ends, handing each Snapshot to a
// callback. The host identity is read once (host.Info costs milliseconds).
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
// gopsutil v3 reads the host identity, memory (/proc/meminfo, swap included),
// load, the mount table, filesystem usage and network counters. Three hot
// files are parsed here instead, because the gopsutil calls cost several times
// more per tick (see procfs.go): /proc/stat, /proc/diskstats and
// /proc/PID/stat. Uptime comes from /proc/uptime and file handles from
// /proc/sys/fs/file-nr. A statfs on a network filesystem that does not answer
// within a second is abandoned and the mount skipped until it returns.
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
//	disk.read_bps{device=D}         bytes/s  per whole disk (no partitions)
//	disk.write_bps{device=D}        bytes/s
//	disk.read_iops{device=D}        1/s      completed reads
//	disk.write_iops{device=D}       1/s      completed writes
//	disk.util_pct{device=D}         %        time with I/O in flight
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
// package's own reads at another /proc, /sys and /etc; the tests use fixture
// trees in testdata/ swapped between two ticks to check exact values.
package system
