package metrics

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/collectors/system"
)

// desc is shorthand for prometheus.NewDesc without constant labels.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// hostPart exports the latest host sample under node_exporter's names
// (node_*, with node_exporter's names, types and labels, so its
// dashboards work unchanged), plus dashd's own dashd_host_* and
// dashd_sample* series.
//
// # When it fails
//
// Practically never: the source is memory and always answers. In
// particular these are not failures of the scrape (success stays 1):
//
//   - No sample yet (the first tick after start): the node_* families are
//     absent and dashd_samples_total says 0. The source answered "nothing
//     yet"; that is the truth, not a broken scrape.
//   - A stale sample (the sampler stuck for more than 5 collect intervals):
//     the latest sample is still exported, and
//     time() - dashd_sample_timestamp_seconds shows its age (/readyz
//     reports it too). A stuck sampler is the sampler's failure; marking
//     the scrape failed would make success == 0 mean two things.
//   - Parts of the sample that failed (Snapshot.Errors, say /proc/meminfo
//     hidden by ProcSubset=pid): dashd_sample_errors counts them, and the
//     failed scalar families are left out rather than exported as zeros.
//
// It fails (success 0) only on a panic or a source that does not answer
// in time, which scrape.go handles for every part.
type hostPart struct {
	src HostSource
	now func() time.Time // node_time_seconds is the scrape's time, as node_exporter's

	cpuSeconds, cpuGuestSeconds      *prometheus.Desc
	load1, load5, load15             *prometheus.Desc
	fsSize, fsAvail, fsFree          *prometheus.Desc
	fsFiles, fsFilesFree             *prometheus.Desc
	netRxBytes, netTxBytes           *prometheus.Desc
	netRxPackets, netTxPackets       *prometheus.Desc
	netRxErrs, netTxErrs             *prometheus.Desc
	netRxDrop, netTxDrop             *prometheus.Desc
	diskReadBytes, diskWrittenBytes  *prometheus.Desc
	diskReads, diskWrites, diskIO    *prometheus.Desc
	bootTime, procsRunning, procsBlk *prometheus.Desc
	fdAllocated, fdMax               *prometheus.Desc
	uname                            *prometheus.Desc
	node                             nodeDescs // host_node.go

	hostUptime, hostProcesses                *prometheus.Desc
	sampleTime, sampleDuration, sampleErrors *prometheus.Desc
	samplesTotal                             *prometheus.Desc
}

func newHostPart(src HostSource) *hostPart {
	fsLabels := []string{"device", "fstype", "mountpoint"}
	return &hostPart{
		src:              src,
		now:              time.Now,
		cpuSeconds:       desc("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", "cpu", "mode"),
		cpuGuestSeconds:  desc("node_cpu_guest_seconds_total", "Seconds the CPUs spent in guests (VMs) for each mode.", "cpu", "mode"),
		load1:            desc("node_load1", "1m load average."),
		load5:            desc("node_load5", "5m load average."),
		load15:           desc("node_load15", "15m load average."),
		fsSize:           desc("node_filesystem_size_bytes", "Filesystem size in bytes.", fsLabels...),
		fsAvail:          desc("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.", fsLabels...),
		fsFree:           desc("node_filesystem_free_bytes", "Filesystem free space in bytes.", fsLabels...),
		fsFiles:          desc("node_filesystem_files", "Filesystem total file nodes.", fsLabels...),
		fsFilesFree:      desc("node_filesystem_files_free", "Filesystem total free file nodes.", fsLabels...),
		netRxBytes:       desc("node_network_receive_bytes_total", "Network device statistic receive_bytes.", "device"),
		netTxBytes:       desc("node_network_transmit_bytes_total", "Network device statistic transmit_bytes.", "device"),
		netRxPackets:     desc("node_network_receive_packets_total", "Network device statistic receive_packets.", "device"),
		netTxPackets:     desc("node_network_transmit_packets_total", "Network device statistic transmit_packets.", "device"),
		netRxErrs:        desc("node_network_receive_errs_total", "Network device statistic receive_errs.", "device"),
		netTxErrs:        desc("node_network_transmit_errs_total", "Network device statistic transmit_errs.", "device"),
		netRxDrop:        desc("node_network_receive_drop_total", "Network device statistic receive_drop.", "device"),
		netTxDrop:        desc("node_network_transmit_drop_total", "Network device statistic transmit_drop.", "device"),
		diskReadBytes:    desc("node_disk_read_bytes_total", "The total number of bytes read successfully.", "device"),
		diskWrittenBytes: desc("node_disk_written_bytes_total", "The total number of bytes written successfully.", "device"),
		diskReads:        desc("node_disk_reads_completed_total", "The total number of reads completed successfully.", "device"),
		diskWrites:       desc("node_disk_writes_completed_total", "The total number of writes completed successfully.", "device"),
		diskIO:           desc("node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", "device"),
		bootTime:         desc("node_boot_time_seconds", "Node boot time, in unixtime."),
		procsRunning:     desc("node_procs_running", "Number of processes in runnable state."),
		procsBlk:         desc("node_procs_blocked", "Number of processes blocked waiting for I/O to complete."),
		fdAllocated:      desc("node_filefd_allocated", "File descriptor statistics: allocated."),
		fdMax:            desc("node_filefd_maximum", "File descriptor statistics: maximum."),
		uname:            desc("node_uname_info", "Labeled system information as provided by the uname system call.", "domainname", "machine", "nodename", "release", "sysname", "version"),
		node:             newNodeDescs(),

		hostUptime:     desc("dashd_host_uptime_seconds", "Seconds since the host booted, at the latest sample."),
		hostProcesses:  desc("dashd_host_processes", "Number of processes on the host, at the latest sample."),
		sampleTime:     desc("dashd_sample_timestamp_seconds", "Unix time of the latest host sample."),
		sampleDuration: desc("dashd_sample_duration_seconds", "How long the latest host sample took to collect."),
		sampleErrors:   desc("dashd_sample_errors", "Parts of the latest host sample that failed."),
		samplesTotal:   desc("dashd_samples_total", "Host samples taken since dashd started."),
	}
}

func (p *hostPart) describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		p.cpuSeconds, p.cpuGuestSeconds, p.load1, p.load5, p.load15,
		p.fsSize, p.fsAvail, p.fsFree, p.fsFiles, p.fsFilesFree,
		p.netRxBytes, p.netTxBytes, p.netRxPackets, p.netTxPackets, p.netRxErrs, p.netTxErrs, p.netRxDrop, p.netTxDrop,
		p.diskReadBytes, p.diskWrittenBytes, p.diskReads, p.diskWrites, p.diskIO,
		p.bootTime, p.procsRunning, p.procsBlk, p.fdAllocated, p.fdMax, p.uname,
		p.hostUptime, p.hostProcesses, p.sampleTime, p.sampleDuration, p.sampleErrors, p.samplesTotal,
	} {
		ch <- d
	}
	p.node.describe(ch)
}

func (p *hostPart) collect(s *sink) error {
	s.counter(p.samplesTotal, float64(p.src.Samples()))
	if snap, ok := p.src.System(); ok {
		p.collectSnapshot(s, snap)
	}
	return nil
}

// collectSnapshot exports one sample. Items repeated in the sample (a
// CPU, mount, interface or disk listed twice) are exported once: a
// duplicate series would fail the whole scrape.
func (p *hostPart) collectSnapshot(s *sink, snap system.Snapshot) {
	failed := snapshotFailures(snap.Errors)

	seenCPU := map[int]bool{}
	for _, c := range snap.CPUSeconds {
		if c.Core < 0 || seenCPU[c.Core] {
			continue
		}
		seenCPU[c.Core] = true
		cpu := strconv.Itoa(c.Core)
		// node_exporter's user and nice include guest time, as /proc/stat does.
		for _, mv := range []struct {
			mode string
			v    float64
		}{
			{"user", c.User}, {"nice", c.Nice}, {"system", c.System}, {"idle", c.Idle},
			{"iowait", c.IOWait}, {"irq", c.IRQ}, {"softirq", c.SoftIRQ}, {"steal", c.Steal},
		} {
			s.counter(p.cpuSeconds, mv.v, cpu, mv.mode)
		}
		s.counter(p.cpuGuestSeconds, c.Guest, cpu, "user")
		s.counter(p.cpuGuestSeconds, c.GuestNice, cpu, "nice")
	}

	if !failed["load"] {
		s.gauge(p.load1, snap.Load.Load1)
		s.gauge(p.load5, snap.Load.Load5)
		s.gauge(p.load15, snap.Load.Load15)
	}
	// node_memory_* come from the node part (node.go): every meminfo field.

	// Selection already drops bind mounts of one device; guard anyway.
	seen := map[string]bool{}
	for _, f := range snap.Filesystems {
		key := f.Device + "\x00" + f.FSType + "\x00" + f.Mount
		if seen[key] {
			continue
		}
		seen[key] = true
		l := []string{f.Device, f.FSType, f.Mount}
		s.gauge(p.fsSize, float64(f.Total), l...)
		s.gauge(p.fsAvail, float64(f.Avail), l...)
		free := float64(f.Total) - float64(f.Used) // includes root's reserved blocks, like statfs f_bfree
		if free < 0 {
			free = 0
		}
		s.gauge(p.fsFree, free, l...)
		s.gauge(p.fsFiles, float64(f.InodesTotal), l...)
		s.gauge(p.fsFilesFree, float64(f.InodesFree), l...)
		s.gauge(p.node.fsReadonly, boolValue(f.ReadOnly), l...)
		s.gauge(p.node.fsDeviceError, 0, l...)
	}
	for _, f := range snap.FilesystemErrors {
		key := f.Device + "\x00" + f.FSType + "\x00" + f.Mount
		if seen[key] {
			continue
		}
		seen[key] = true
		l := []string{f.Device, f.FSType, f.Mount}
		s.gauge(p.node.fsReadonly, boolValue(f.ReadOnly), l...)
		s.gauge(p.node.fsDeviceError, 1, l...)
	}

	clear(seen)
	for _, n := range snap.Interfaces {
		if seen[n.Name] {
			continue
		}
		seen[n.Name] = true
		s.counter(p.netRxBytes, float64(n.RxBytes), n.Name)
		s.counter(p.netTxBytes, float64(n.TxBytes), n.Name)
		s.counter(p.netRxPackets, float64(n.RxPackets), n.Name)
		s.counter(p.netTxPackets, float64(n.TxPackets), n.Name)
		s.counter(p.netRxErrs, float64(n.RxErrors), n.Name)
		s.counter(p.netTxErrs, float64(n.TxErrors), n.Name)
		s.counter(p.netRxDrop, float64(n.RxDropped), n.Name)
		s.counter(p.netTxDrop, float64(n.TxDropped), n.Name)
	}

	clear(seen)
	for _, dk := range snap.Disks {
		if seen[dk.Device] {
			continue
		}
		seen[dk.Device] = true
		s.counter(p.diskReadBytes, float64(dk.ReadBytes), dk.Device)
		s.counter(p.diskWrittenBytes, float64(dk.WrittenBytes), dk.Device)
		s.counter(p.diskReads, float64(dk.Reads), dk.Device)
		s.counter(p.diskWrites, float64(dk.Writes), dk.Device)
		s.counter(p.diskIO, float64(dk.IOTimeMs)/1000, dk.Device)
		s.counter(p.node.diskReadTime, float64(dk.ReadTimeMs)/1000, dk.Device)
		s.counter(p.node.diskWriteTime, float64(dk.WriteTimeMs)/1000, dk.Device)
		s.counter(p.node.diskWeighted, float64(dk.WeightedIOTimeMs)/1000, dk.Device)
		s.gauge(p.node.diskIONow, float64(dk.IOsInProgress), dk.Device)
	}

	if h := snap.Host; h != nil {
		if !h.BootTime.IsZero() {
			s.gauge(p.bootTime, float64(h.BootTime.Unix()))
		}
	}
	if u := snap.Node.Uname; u != nil {
		s.gauge(p.uname, 1, u.Domainname, u.Machine, u.Nodename, u.Release, u.Sysname, u.Version)
	}
	p.node.collect(s, snap, p.now())
	if snap.UptimeSeconds > 0 {
		s.gauge(p.hostUptime, snap.UptimeSeconds)
	}
	if !failed["processes"] {
		s.gauge(p.procsRunning, float64(snap.Processes.Running))
		s.gauge(p.procsBlk, float64(snap.Processes.Blocked))
		s.gauge(p.hostProcesses, float64(snap.Processes.Total))
	}
	if snap.FileDescriptors.Max > 0 {
		s.gauge(p.fdAllocated, float64(snap.FileDescriptors.Open))
		s.gauge(p.fdMax, float64(snap.FileDescriptors.Max))
	}
	if !snap.Time.IsZero() {
		s.gauge(p.sampleTime, float64(snap.Time.UnixNano())/1e9)
	}
	s.gauge(p.sampleDuration, snap.Duration.Seconds())
	s.gauge(p.sampleErrors, float64(len(snap.Errors)))
}

// snapshotFailures maps the part names of Snapshot.Errors ("load: open
// /proc/loadavg: ...") to true, so a failed scalar part is left out of the
// scrape instead of exported as a misleading zero.
func snapshotFailures(errs []string) map[string]bool {
	if len(errs) == 0 {
		return nil
	}
	m := make(map[string]bool, len(errs))
	for _, e := range errs {
		if part, _, ok := strings.Cut(e, ":"); ok {
			m[part] = true
		}
	}
	return m
}
