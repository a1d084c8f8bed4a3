package metrics

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/collectors/system"
)

// osInfoLabels are node_os_info's labels, the os-release(5) keys
// node_exporter 1.5 exports, lower-cased.
var osInfoLabels = [...]string{"build_id", "id", "id_like", "image_id", "image_version", "name", "pretty_name",
	"variant", "variant_id", "version", "version_codename", "version_id"}

// nodeDescs are the fixed-name node_exporter families added for issue
// #17 beyond the first 34 (names, types, labels and units as
// node_exporter 1.5's stat, diskstats, filesystem, netclass, pressure,
// conntrack, time, timex and os collectors). The families whose names
// come from the kernel (meminfo, vmstat, sockstat, netstat) are the node
// part's (node.go).
type nodeDescs struct {
	ctxt, intr, forks                                    *prometheus.Desc
	diskReadTime, diskWriteTime, diskWeighted, diskIONow *prometheus.Desc
	fsReadonly, fsDeviceError                            *prometheus.Desc
	netUp, netInfo, netSpeed, netMTU, netCarrier         *prometheus.Desc
	psiCPUWaiting, psiIOWaiting, psiIOStalled            *prometheus.Desc
	psiMemWaiting, psiMemStalled                         *prometheus.Desc
	conntrackEntries, conntrackLimit                     *prometheus.Desc
	timeSeconds                                          *prometheus.Desc
	osInfo, osVersion                                    *prometheus.Desc
	timex                                                []timexDesc
}

// timexDesc is one node_timex_* family and how to read it.
type timexDesc struct {
	d       *prometheus.Desc
	counter bool
	value   func(*system.Timex) float64
}

func newNodeDescs() nodeDescs {
	fs := []string{"device", "fstype", "mountpoint"}
	tx := func(name, help string, counter bool, v func(*system.Timex) float64) timexDesc {
		return timexDesc{desc("node_timex_"+name, help), counter, v}
	}
	return nodeDescs{
		ctxt:             desc("node_context_switches_total", "Total number of context switches."),
		intr:             desc("node_intr_total", "Total number of interrupts serviced."),
		forks:            desc("node_forks_total", "Total number of forks."),
		diskReadTime:     desc("node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", "device"),
		diskWriteTime:    desc("node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", "device"),
		diskWeighted:     desc("node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", "device"),
		diskIONow:        desc("node_disk_io_now", "The number of I/Os currently in progress.", "device"),
		fsReadonly:       desc("node_filesystem_readonly", "Filesystem read-only status.", fs...),
		fsDeviceError:    desc("node_filesystem_device_error", "Whether an error occurred while getting statistics for the given device.", fs...),
		netUp:            desc("node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", "device"),
		netInfo:          desc("node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.", "address", "broadcast", "device", "duplex", "ifalias", "operstate"),
		netSpeed:         desc("node_network_speed_bytes", "Network device property: speed_bytes", "device"),
		netMTU:           desc("node_network_mtu_bytes", "Network device property: mtu_bytes", "device"),
		netCarrier:       desc("node_network_carrier", "Network device property: carrier", "device"),
		psiCPUWaiting:    desc("node_pressure_cpu_waiting_seconds_total", "Total time in seconds that processes have waited for CPU time"),
		psiIOWaiting:     desc("node_pressure_io_waiting_seconds_total", "Total time in seconds that processes have waited due to IO congestion"),
		psiIOStalled:     desc("node_pressure_io_stalled_seconds_total", "Total time in seconds no process could make progress due to IO congestion"),
		psiMemWaiting:    desc("node_pressure_memory_waiting_seconds_total", "Total time in seconds that processes have waited for memory"),
		psiMemStalled:    desc("node_pressure_memory_stalled_seconds_total", "Total time in seconds no process could make progress due to memory congestion"),
		conntrackEntries: desc("node_nf_conntrack_entries", "Number of currently allocated flow entries for connection tracking."),
		conntrackLimit:   desc("node_nf_conntrack_entries_limit", "Maximum size of connection tracking table."),
		timeSeconds:      desc("node_time_seconds", "System time in seconds since epoch (1970)."),
		osInfo:           desc("node_os_info", "A metric with a constant '1' value labeled by build_id, id, id_like, image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.", osInfoLabels[:]...),
		osVersion:        desc("node_os_version", "Metric containing the major.minor part of the OS version.", "id", "id_like", "name"),
		timex: []timexDesc{
			tx("offset_seconds", "Time offset in between local system and reference clock.", false, func(t *system.Timex) float64 { return t.OffsetSeconds }),
			tx("frequency_adjustment_ratio", "Local clock frequency adjustment.", false, func(t *system.Timex) float64 { return t.FrequencyRatio }),
			tx("maxerror_seconds", "Maximum error in seconds.", false, func(t *system.Timex) float64 { return t.MaxErrorSeconds }),
			tx("estimated_error_seconds", "Estimated error in seconds.", false, func(t *system.Timex) float64 { return t.EstimatedErrorSeconds }),
			tx("status", "Value of the status array bits.", false, func(t *system.Timex) float64 { return t.Status }),
			tx("loop_time_constant", "Phase-locked loop time constant.", false, func(t *system.Timex) float64 { return t.LoopTimeConstant }),
			tx("tick_seconds", "Seconds between clock ticks.", false, func(t *system.Timex) float64 { return t.TickSeconds }),
			tx("pps_frequency_hertz", "Pulse per second frequency.", false, func(t *system.Timex) float64 { return t.PPSFrequencyHertz }),
			tx("pps_jitter_seconds", "Pulse per second jitter.", false, func(t *system.Timex) float64 { return t.PPSJitterSeconds }),
			tx("pps_shift_seconds", "Pulse per second interval duration.", false, func(t *system.Timex) float64 { return t.PPSShiftSeconds }),
			tx("pps_stability_hertz", "Pulse per second stability, average of recent frequency changes.", false, func(t *system.Timex) float64 { return t.PPSStabilityHertz }),
			tx("pps_jitter_total", "Pulse per second count of jitter limit exceeded events.", true, func(t *system.Timex) float64 { return t.PPSJitterTotal }),
			tx("pps_calibration_total", "Pulse per second count of calibration intervals.", true, func(t *system.Timex) float64 { return t.PPSCalibrationTotal }),
			tx("pps_error_total", "Pulse per second count of calibration errors.", true, func(t *system.Timex) float64 { return t.PPSErrorTotal }),
			tx("pps_stability_exceeded_total", "Pulse per second count of stability limit exceeded events.", true, func(t *system.Timex) float64 { return t.PPSStabilityExceeded }),
			tx("tai_offset_seconds", "International Atomic Time (TAI) offset.", false, func(t *system.Timex) float64 { return t.TAIOffsetSeconds }),
			tx("sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).", false, func(t *system.Timex) float64 { return t.SyncStatus }),
		},
	}
}

func (d *nodeDescs) describe(ch chan<- *prometheus.Desc) {
	for _, x := range []*prometheus.Desc{
		d.ctxt, d.intr, d.forks, d.diskReadTime, d.diskWriteTime, d.diskWeighted, d.diskIONow,
		d.fsReadonly, d.fsDeviceError, d.netUp, d.netInfo, d.netSpeed, d.netMTU, d.netCarrier,
		d.psiCPUWaiting, d.psiIOWaiting, d.psiIOStalled, d.psiMemWaiting, d.psiMemStalled,
		d.conntrackEntries, d.conntrackLimit, d.timeSeconds, d.osInfo, d.osVersion,
	} {
		ch <- x
	}
	for _, t := range d.timex {
		ch <- t.d
	}
}

// collect exports the sample's node figures (disk and filesystem extras
// are added next to their families in host.go). now is the scrape's time.
func (d *nodeDescs) collect(s *sink, snap system.Snapshot, now time.Time) {
	n := snap.Node
	s.gauge(d.timeSeconds, float64(now.UnixNano())/1e9)
	if n.HasStat {
		s.counter(d.ctxt, float64(n.Stat.ContextSwitches))
		s.counter(d.intr, float64(n.Stat.Interrupts))
		s.counter(d.forks, float64(n.Stat.Forks))
	}
	if p := n.Pressure; p != nil {
		if p.HasCPU {
			s.counter(d.psiCPUWaiting, p.CPUWaiting)
		}
		if p.HasIO {
			s.counter(d.psiIOWaiting, p.IOWaiting)
			s.counter(d.psiIOStalled, p.IOStalled)
		}
		if p.HasMemory {
			s.counter(d.psiMemWaiting, p.MemoryWaiting)
			s.counter(d.psiMemStalled, p.MemoryStalled)
		}
	}
	if c := n.Conntrack; c != nil {
		s.gauge(d.conntrackEntries, float64(c.Entries))
		if c.Limit > 0 {
			s.gauge(d.conntrackLimit, float64(c.Limit))
		}
	}
	seen := map[string]bool{}
	for _, nc := range n.NetClass {
		if seen[nc.Name] {
			continue
		}
		seen[nc.Name] = true
		s.gauge(d.netUp, boolValue(nc.OperState == "up"), nc.Name)
		s.gauge(d.netInfo, 1, nc.Address, nc.Broadcast, nc.Name, nc.Duplex, nc.IfAlias, nc.OperState)
		if nc.HasCarrier {
			s.gauge(d.netCarrier, float64(nc.Carrier), nc.Name)
		}
		if nc.HasMTU {
			s.gauge(d.netMTU, float64(nc.MTU), nc.Name)
		}
		if nc.HasSpeed {
			// Mbit/s to bytes/s, as node_exporter 1.5 computes it (an
			// unknown speed, -1, gives -125000 there too).
			s.gauge(d.netSpeed, float64(nc.SpeedMbps*1000*1000/8), nc.Name)
		}
	}
	if t := n.Timex; t != nil {
		for _, x := range d.timex {
			if x.counter {
				s.counter(x.d, x.value(t))
			} else {
				s.gauge(x.d, x.value(t))
			}
		}
	}
	if os := n.OSRelease; os != nil {
		vals := make([]string, len(osInfoLabels))
		for i, k := range osInfoLabels {
			vals[i] = os[upper(k)]
		}
		s.gauge(d.osInfo, 1, vals...)
		if v, ok := osVersion(os["VERSION_ID"]); ok {
			s.gauge(d.osVersion, v, os["ID"], os["ID_LIKE"], os["NAME"])
		}
	}
}

// upper is strings.ToUpper for the ASCII label names above.
func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// osVersion is node_os_version's value: VERSION_ID's major.minor as a
// number ("12" is 12, "22.04" is 22.04, "9.2.1" is 9.2); false when it is
// not a number.
func osVersion(id string) (float64, bool) {
	if id == "" {
		return 0, false
	}
	parts := 0
	end := len(id)
	for i := 0; i < len(id); i++ {
		if id[i] == '.' {
			parts++
			if parts == 2 {
				end = i
				break
			}
		}
	}
	v, err := strconv.ParseFloat(id[:end], 64)
	return v, err == nil
}
