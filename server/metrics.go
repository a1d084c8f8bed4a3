package server

import (
	"fmt"
	"log/slog"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// newMetricsHandler builds the /metrics handler over a registry of its own
// (never the package-global default one, so two Servers in one test binary
// do not collide): the Go runtime, the process, and dashdCollector, which
// reads the latest state at scrape time rather than keeping counters of its
// own that could drift from what the dashboard shows.
func (s *Server) newMetricsHandler() fiber.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		promcollectors.NewGoCollector(),
		promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}),
		newDashdCollector(s),
	)
	// adaptor buffers the whole response, which is what we want here: a
	// scrape is small and must not stream.
	// ContinueOnError, as node_exporter does: one bad metric must not blank
	// the whole scrape; the error is logged.
	return adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		ErrorLog:      promLogger{s.log},
	}))
}

// promLogger adapts slog to promhttp's Println logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("metrics: gather failed", "err", fmt.Sprint(v...))
}

// desc is shorthand for prometheus.NewDesc without const labels.
func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(name, help, labels, nil)
}

// dashdCollector exports the latest host snapshot under node_exporter's
// names, the checks, the SSE hub and storage. All descriptors are fixed,
// so the registry can check them at registration.
//
// # Check state encoding
//
// dashd_check_up is 1 when the check's state is up and 0 otherwise.
// dashd_check_state is the state as a number ordered by severity, the same
// order dashd sorts by: 0 up, 1 unknown, 2 degraded, 3 down. Alert on
// dashd_check_state >= 2 for "degraded or worse", == 3 for "down".
type dashdCollector struct {
	s *Server

	cpuSeconds, cpuGuestSeconds      *prometheus.Desc
	load1, load5, load15             *prometheus.Desc
	memTotal, memAvail, memFree      *prometheus.Desc
	memBuffers, memCached            *prometheus.Desc
	swapTotal, swapFree              *prometheus.Desc
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

	hostUptime, hostProcesses                  *prometheus.Desc
	sampleTime, sampleDuration, sampleErrors   *prometheus.Desc
	samplesTotal, buildInfo                    *prometheus.Desc
	checkUp, checkState, checkLatency          *prometheus.Desc
	checkCertExpiry, checkFlapping             *prometheus.Desc
	sseClients, sseStreams, sseEvents          *prometheus.Desc
	sseEvictions, sseConnects, sseBytesWritten *prometheus.Desc
	storageBytes                               *prometheus.Desc
	storageWriteOK, storageWriteFailures       *prometheus.Desc
	storageDropped, storageLastCommit          *prometheus.Desc
	storageHeld                                *prometheus.Desc
	httpConnections, httpRefused               *prometheus.Desc
	httpAcceptErrors, sseQueuedBytes           *prometheus.Desc
}

func newDashdCollector(s *Server) *dashdCollector {
	fsLabels := []string{"device", "fstype", "mountpoint"}
	return &dashdCollector{
		s:                s,
		cpuSeconds:       desc("node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", "cpu", "mode"),
		cpuGuestSeconds:  desc("node_cpu_guest_seconds_total", "Seconds the CPUs spent in guests (VMs) for each mode.", "cpu", "mode"),
		load1:            desc("node_load1", "1m load average."),
		load5:            desc("node_load5", "5m load average."),
		load15:           desc("node_load15", "15m load average."),
		memTotal:         desc("node_memory_MemTotal_bytes", "Memory information field MemTotal_bytes."),
		memAvail:         desc("node_memory_MemAvailable_bytes", "Memory information field MemAvailable_bytes."),
		memFree:          desc("node_memory_MemFree_bytes", "Memory information field MemFree_bytes."),
		memBuffers:       desc("node_memory_Buffers_bytes", "Memory information field Buffers_bytes."),
		memCached:        desc("node_memory_Cached_bytes", "Memory information field Cached_bytes (dashd includes reclaimable slab)."),
		swapTotal:        desc("node_memory_SwapTotal_bytes", "Memory information field SwapTotal_bytes."),
		swapFree:         desc("node_memory_SwapFree_bytes", "Memory information field SwapFree_bytes."),
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
		uname:            desc("node_uname_info", "Labeled system information as provided by the uname system call.", "machine", "nodename", "release", "sysname"),

		hostUptime:     desc("dashd_host_uptime_seconds", "Seconds since the host booted, at the latest sample."),
		hostProcesses:  desc("dashd_host_processes", "Number of processes on the host, at the latest sample."),
		sampleTime:     desc("dashd_sample_timestamp_seconds", "Unix time of the latest host sample."),
		sampleDuration: desc("dashd_sample_duration_seconds", "How long the latest host sample took to collect."),
		sampleErrors:   desc("dashd_sample_errors", "Parts of the latest host sample that failed."),
		samplesTotal:   desc("dashd_samples_total", "Host samples taken since dashd started."),
		buildInfo:      desc("dashd_build_info", "A metric with a constant '1' value labeled by the dashd version.", "version"),

		checkUp:         desc("dashd_check_up", "1 when the check's state is up, 0 otherwise (degraded, down or unknown).", "check", "type"),
		checkState:      desc("dashd_check_state", "The check's state by severity: 0 up, 1 unknown, 2 degraded, 3 down.", "check", "type"),
		checkLatency:    desc("dashd_check_latency_seconds", "Latency the check's last run measured.", "check", "type"),
		checkCertExpiry: desc("dashd_check_certificate_expiry_seconds", "Seconds until the certificate the check saw expires (negative: expired).", "check", "type"),
		checkFlapping:   desc("dashd_check_flapping", "1 when the check changed state often recently.", "check", "type"),

		sseClients:      desc("dashd_sse_clients", "Connected SSE streams per room.", "room"),
		sseStreams:      desc("dashd_sse_streams", "Connected SSE streams in all."),
		sseEvents:       desc("dashd_sse_events_total", "Events written to SSE clients, counted once per client."),
		sseEvictions:    desc("dashd_sse_evictions_total", "SSE clients dropped for being too slow."),
		sseConnects:     desc("dashd_sse_connects_total", "SSE streams accepted."),
		sseBytesWritten: desc("dashd_sse_bytes_written_total", "Bytes written to SSE clients."),
		storageBytes:    desc("dashd_storage_bytes", "Size of the history database file in bytes."),

		storageWriteOK:       desc("dashd_storage_write_ok", "1 while history commits succeed, 0 while they fail (a full disk, say)."),
		storageWriteFailures: desc("dashd_storage_write_failures_total", "History transactions that failed to commit."),
		storageDropped:       desc("dashd_storage_records_dropped_total", "Records that could not be stored, by kind.", "kind"),
		storageLastCommit:    desc("dashd_storage_last_commit_timestamp_seconds", "Unix time of the last successful history commit."),
		storageHeld:          desc("dashd_storage_held_records", "Events and notifications held in memory until the disk accepts writes."),
		httpConnections:      desc("dashd_http_connections", "Open HTTP connections (streams included)."),
		httpRefused:          desc("dashd_http_refused_total", "Connections and streams refused at a limit, by limit.", "reason"),
		httpAcceptErrors:     desc("dashd_http_accept_errors_total", "Temporary accept errors (out of file descriptors...) that were waited out."),
		sseQueuedBytes:       desc("dashd_sse_queued_bytes", "Bytes queued for SSE clients and not yet written."),
	}
}

// Describe sends every descriptor: the set is fixed.
func (m *dashdCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		m.cpuSeconds, m.cpuGuestSeconds, m.load1, m.load5, m.load15,
		m.memTotal, m.memAvail, m.memFree, m.memBuffers, m.memCached, m.swapTotal, m.swapFree,
		m.fsSize, m.fsAvail, m.fsFree, m.fsFiles, m.fsFilesFree,
		m.netRxBytes, m.netTxBytes, m.netRxPackets, m.netTxPackets, m.netRxErrs, m.netTxErrs, m.netRxDrop, m.netTxDrop,
		m.diskReadBytes, m.diskWrittenBytes, m.diskReads, m.diskWrites, m.diskIO,
		m.bootTime, m.procsRunning, m.procsBlk, m.fdAllocated, m.fdMax, m.uname,
		m.hostUptime, m.hostProcesses, m.sampleTime, m.sampleDuration, m.sampleErrors, m.samplesTotal, m.buildInfo,
		m.checkUp, m.checkState, m.checkLatency, m.checkCertExpiry, m.checkFlapping,
		m.sseClients, m.sseStreams, m.sseEvents, m.sseEvictions, m.sseConnects, m.sseBytesWritten,
		m.storageBytes, m.storageWriteOK, m.storageWriteFailures, m.storageDropped, m.storageLastCommit, m.storageHeld,
		m.httpConnections, m.httpRefused, m.httpAcceptErrors, m.sseQueuedBytes,
	} {
		ch <- d
	}
}

// Collect reads the latest state. Each part the Server was not given is
// simply absent from the scrape.
func (m *dashdCollector) Collect(ch chan<- prometheus.Metric) {
	d := m.s.deps
	ch <- prometheus.MustNewConstMetric(m.buildInfo, prometheus.GaugeValue, 1, d.Version)
	if d.Latest != nil {
		ch <- prometheus.MustNewConstMetric(m.samplesTotal, prometheus.CounterValue, float64(d.Latest.Samples()))
		if snap, ok := d.Latest.System(); ok {
			m.collectSystem(ch, snap)
		}
	}
	if d.Checks != nil {
		m.collectChecks(ch)
	}
	if d.Hub != nil {
		m.collectHub(ch)
	}
	if d.Store != nil {
		if n, err := d.Store.Size(); err == nil {
			ch <- prometheus.MustNewConstMetric(m.storageBytes, prometheus.GaugeValue, float64(n))
		} else {
			ch <- prometheus.NewInvalidMetric(m.storageBytes, err)
		}
		m.collectStorageHealth(ch, d.Store.WriteHealth())
	}
	ls := m.s.listenerStats()
	ch <- prometheus.MustNewConstMetric(m.httpConnections, prometheus.GaugeValue, float64(ls.Open))
	ch <- prometheus.MustNewConstMetric(m.httpRefused, prometheus.CounterValue, float64(ls.RefusedTotal), connlimit.ReasonTotal)
	ch <- prometheus.MustNewConstMetric(m.httpRefused, prometheus.CounterValue, float64(ls.RefusedPerAddress), connlimit.ReasonPerAddress)
	ch <- prometheus.MustNewConstMetric(m.httpAcceptErrors, prometheus.CounterValue, float64(ls.AcceptErrors))
}

func (m *dashdCollector) collectStorageHealth(ch chan<- prometheus.Metric, h storage.WriteHealth) {
	ok := 0.0
	if h.OK {
		ok = 1
	}
	ch <- prometheus.MustNewConstMetric(m.storageWriteOK, prometheus.GaugeValue, ok)
	ch <- prometheus.MustNewConstMetric(m.storageWriteFailures, prometheus.CounterValue, float64(h.FailedCommits))
	for kind, n := range h.Dropped.All() {
		ch <- prometheus.MustNewConstMetric(m.storageDropped, prometheus.CounterValue, float64(n), kind)
	}
	if !h.LastCommit.IsZero() {
		ch <- prometheus.MustNewConstMetric(m.storageLastCommit, prometheus.GaugeValue, float64(h.LastCommit.UnixNano())/1e9)
	}
	ch <- prometheus.MustNewConstMetric(m.storageHeld, prometheus.GaugeValue, float64(h.Held))
}

func (m *dashdCollector) collectSystem(ch chan<- prometheus.Metric, s system.Snapshot) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	failed := snapshotFailures(s.Errors)

	seenCPU := map[int]bool{}
	for _, c := range s.CPUSeconds {
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
			counter(m.cpuSeconds, mv.v, cpu, mv.mode)
		}
		counter(m.cpuGuestSeconds, c.Guest, cpu, "user")
		counter(m.cpuGuestSeconds, c.GuestNice, cpu, "nice")
	}

	if !failed["load"] {
		gauge(m.load1, s.Load.Load1)
		gauge(m.load5, s.Load.Load5)
		gauge(m.load15, s.Load.Load15)
	}
	if !failed["memory"] && s.Memory.Total > 0 {
		gauge(m.memTotal, float64(s.Memory.Total))
		gauge(m.memAvail, float64(s.Memory.Available))
		gauge(m.memFree, float64(s.Memory.Free))
		gauge(m.memBuffers, float64(s.Memory.Buffers))
		gauge(m.memCached, float64(s.Memory.Cached))
	}
	if !failed["memory"] {
		gauge(m.swapTotal, float64(s.Swap.Total))
		gauge(m.swapFree, float64(s.Swap.Free))
	}

	// Selection already drops bind mounts of one device; guard anyway, a
	// duplicate series makes the whole scrape fail.
	seen := map[string]bool{}
	for _, f := range s.Filesystems {
		key := f.Device + "\x00" + f.FSType + "\x00" + f.Mount
		if seen[key] {
			continue
		}
		seen[key] = true
		l := []string{f.Device, f.FSType, f.Mount}
		gauge(m.fsSize, float64(f.Total), l...)
		gauge(m.fsAvail, float64(f.Avail), l...)
		free := float64(f.Total) - float64(f.Used) // includes root's reserved blocks, like statfs f_bfree
		if free < 0 {
			free = 0
		}
		gauge(m.fsFree, free, l...)
		gauge(m.fsFiles, float64(f.InodesTotal), l...)
		gauge(m.fsFilesFree, float64(f.InodesFree), l...)
	}

	clear(seen)
	for _, n := range s.Interfaces {
		if seen[n.Name] {
			continue
		}
		seen[n.Name] = true
		counter(m.netRxBytes, float64(n.RxBytes), n.Name)
		counter(m.netTxBytes, float64(n.TxBytes), n.Name)
		counter(m.netRxPackets, float64(n.RxPackets), n.Name)
		counter(m.netTxPackets, float64(n.TxPackets), n.Name)
		counter(m.netRxErrs, float64(n.RxErrors), n.Name)
		counter(m.netTxErrs, float64(n.TxErrors), n.Name)
		counter(m.netRxDrop, float64(n.RxDropped), n.Name)
		counter(m.netTxDrop, float64(n.TxDropped), n.Name)
	}

	clear(seen)
	for _, dk := range s.Disks {
		if seen[dk.Device] {
			continue
		}
		seen[dk.Device] = true
		counter(m.diskReadBytes, float64(dk.ReadBytes), dk.Device)
		counter(m.diskWrittenBytes, float64(dk.WrittenBytes), dk.Device)
		counter(m.diskReads, float64(dk.Reads), dk.Device)
		counter(m.diskWrites, float64(dk.Writes), dk.Device)
		counter(m.diskIO, float64(dk.IOTimeMs)/1000, dk.Device)
	}

	if h := s.Host; h != nil {
		if !h.BootTime.IsZero() {
			gauge(m.bootTime, float64(h.BootTime.Unix()))
		}
		gauge(m.uname, 1, h.Arch, h.Hostname, h.Kernel, h.OS)
	}
	if s.UptimeSeconds > 0 {
		gauge(m.hostUptime, s.UptimeSeconds)
	}
	if !failed["processes"] {
		gauge(m.procsRunning, float64(s.Processes.Running))
		gauge(m.procsBlk, float64(s.Processes.Blocked))
		gauge(m.hostProcesses, float64(s.Processes.Total))
	}
	if s.FileDescriptors.Max > 0 {
		gauge(m.fdAllocated, float64(s.FileDescriptors.Open))
		gauge(m.fdMax, float64(s.FileDescriptors.Max))
	}
	if !s.Time.IsZero() {
		gauge(m.sampleTime, float64(s.Time.UnixNano())/1e9)
	}
	gauge(m.sampleDuration, s.Duration.Seconds())
	gauge(m.sampleErrors, float64(len(s.Errors)))
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
		for i := 0; i < len(e); i++ {
			if e[i] == ':' {
				m[e[:i]] = true
				break
			}
		}
	}
	return m
}

func (m *dashdCollector) collectHub(ch chan<- prometheus.Metric) {
	st := m.s.deps.Hub.Stats()
	for room, n := range st.Rooms {
		ch <- prometheus.MustNewConstMetric(m.sseClients, prometheus.GaugeValue, float64(n), room)
	}
	ch <- prometheus.MustNewConstMetric(m.sseStreams, prometheus.GaugeValue, float64(st.Clients))
	ch <- prometheus.MustNewConstMetric(m.sseEvents, prometheus.CounterValue, float64(st.EventsSent))
	ch <- prometheus.MustNewConstMetric(m.sseEvictions, prometheus.CounterValue, float64(st.Evictions))
	ch <- prometheus.MustNewConstMetric(m.sseConnects, prometheus.CounterValue, float64(st.Connects))
	ch <- prometheus.MustNewConstMetric(m.sseBytesWritten, prometheus.CounterValue, float64(st.BytesWritten))
	ch <- prometheus.MustNewConstMetric(m.sseQueuedBytes, prometheus.GaugeValue, float64(st.QueuedBytes))
	ch <- prometheus.MustNewConstMetric(m.httpRefused, prometheus.CounterValue, float64(st.RefusedTotal), "streams")
	ch <- prometheus.MustNewConstMetric(m.httpRefused, prometheus.CounterValue, float64(st.RefusedPerAddress), "streams_per_address")
}

// certDaysKey is the Values key under which checks report the days left on
// the certificate they saw.
const certDaysKey = "cert_days_left"

func (m *dashdCollector) collectChecks(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	for _, st := range m.s.deps.Checks.Statuses() {
		if seen[st.Name] {
			continue
		}
		seen[st.Name] = true
		l := []string{st.Name, st.Type}
		up := 0.0
		if st.State == model.StateUp {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(m.checkUp, prometheus.GaugeValue, up, l...)
		ch <- prometheus.MustNewConstMetric(m.checkState, prometheus.GaugeValue, float64(st.State), l...)
		flapping := 0.0
		if st.Flapping {
			flapping = 1
		}
		ch <- prometheus.MustNewConstMetric(m.checkFlapping, prometheus.GaugeValue, flapping, l...)
		if !st.LastCheck.IsZero() {
			ch <- prometheus.MustNewConstMetric(m.checkLatency, prometheus.GaugeValue, st.Latency.Seconds(), l...)
		}
		if days, ok := st.Values[certDaysKey]; ok {
			ch <- prometheus.MustNewConstMetric(m.checkCertExpiry, prometheus.GaugeValue, days*86400, l...)
		}
	}
}
