package metrics

// Parity with node_exporter, in one place: the families dashd exports
// under node_exporter's names, with what a side-by-side comparison on the
// same host may tolerate. TestParity_NodeExporter runs the real
// prometheus-node-exporter (Debian's, 1.5) next to a real sampler and
// checks every entry: name, type, label names, label sets, and values.
//
// Tolerances: the two programs read the kernel a fraction of a second
// apart (dashd's sample first, then node_exporter's scrape), so
//   - constants (sizes, limits, identities) must be equal;
//   - gauges that move get an absolute allowance sized to what can
//     change in a second or two on a busy 2-core VM (memory: 32 MiB and
//     3 %, below the SReclaimable a Cached that wrongly included it would
//     add; load: 0.5; runnable tasks: 8; sockets: 64);
//   - counters may only have grown by what a second or two allows
//     (CPU seconds: 3 s per CPU; interrupts, context switches, faults,
//     packets and bytes: 5 % and an absolute floor).
// A family whose label sets are "subset" is one where dashd selects
// fewer items on purpose (filesystems: one mount per device, no pseudo
// filesystems); every series dashd has must exist in node_exporter's.

// parityFamily is one family shared with node_exporter.
type parityFamily struct {
	name string
	// subset: dashd's series are a subset of node_exporter's (else equal).
	subset bool
	// abs and rel bound |dashd - node_exporter| <= abs + rel*max(|a|,|b|).
	abs, rel float64
}

// Tolerance presets.
const (
	mib = 1 << 20
)

// parityFamilies lists every family shared with node_exporter 1.5.
func parityFamilies() []parityFamily {
	exact := func(n string) parityFamily { return parityFamily{name: n, abs: 0.5} }
	mem := func(n string) parityFamily { return parityFamily{name: n, abs: 32 * mib, rel: 0.03} }
	counter := func(n string, abs float64) parityFamily { return parityFamily{name: n, abs: abs, rel: 0.05} }
	fs := func(n string, abs float64) parityFamily {
		return parityFamily{name: n, subset: true, abs: abs, rel: 0.01}
	}
	return []parityFamily{
		counter("node_cpu_seconds_total", 6),
		counter("node_cpu_guest_seconds_total", 6),
		{name: "node_load1", abs: 0.5}, {name: "node_load5", abs: 0.5}, {name: "node_load15", abs: 0.5},
		exact("node_memory_MemTotal_bytes"), mem("node_memory_MemFree_bytes"), mem("node_memory_MemAvailable_bytes"),
		mem("node_memory_Buffers_bytes"), mem("node_memory_Cached_bytes"), mem("node_memory_SReclaimable_bytes"),
		mem("node_memory_Slab_bytes"), mem("node_memory_Shmem_bytes"), mem("node_memory_Dirty_bytes"),
		mem("node_memory_Active_bytes"), mem("node_memory_Inactive_bytes"), mem("node_memory_Committed_AS_bytes"),
		exact("node_memory_SwapTotal_bytes"), mem("node_memory_SwapFree_bytes"),
		fs("node_filesystem_size_bytes", 0.5), fs("node_filesystem_avail_bytes", 256*mib), fs("node_filesystem_free_bytes", 256*mib),
		fs("node_filesystem_files", 0.5), fs("node_filesystem_files_free", 10000),
		fs("node_filesystem_readonly", 0), fs("node_filesystem_device_error", 0),
		counter("node_network_receive_bytes_total", 1*mib), counter("node_network_transmit_bytes_total", 1*mib),
		counter("node_network_receive_packets_total", 2000), counter("node_network_transmit_packets_total", 2000),
		counter("node_network_receive_errs_total", 10), counter("node_network_transmit_errs_total", 10),
		counter("node_network_receive_drop_total", 100), counter("node_network_transmit_drop_total", 100),
		exact("node_network_up"), exact("node_network_info"), exact("node_network_mtu_bytes"),
		exact("node_network_speed_bytes"), exact("node_network_carrier"),
		counter("node_disk_read_bytes_total", 64*mib), counter("node_disk_written_bytes_total", 64*mib),
		counter("node_disk_reads_completed_total", 2000), counter("node_disk_writes_completed_total", 2000),
		counter("node_disk_io_time_seconds_total", 3), counter("node_disk_read_time_seconds_total", 10),
		counter("node_disk_write_time_seconds_total", 10), counter("node_disk_io_time_weighted_seconds_total", 20),
		{name: "node_disk_io_now", abs: 64},
		{name: "node_boot_time_seconds", abs: 1},
		{name: "node_procs_running", abs: 8}, {name: "node_procs_blocked", abs: 8},
		{name: "node_filefd_allocated", abs: 512}, exact("node_filefd_maximum"),
		exact("node_uname_info"),
		counter("node_context_switches_total", 100000), counter("node_intr_total", 100000), counter("node_forks_total", 500),
		counter("node_vmstat_pgfault", 1e6), counter("node_vmstat_pgmajfault", 1000),
		counter("node_vmstat_pgpgin", 1e6), counter("node_vmstat_pgpgout", 1e6), exact("node_vmstat_oom_kill"),
		counter("node_pressure_cpu_waiting_seconds_total", 5), counter("node_pressure_io_waiting_seconds_total", 5),
		counter("node_pressure_io_stalled_seconds_total", 5), counter("node_pressure_memory_waiting_seconds_total", 5),
		counter("node_pressure_memory_stalled_seconds_total", 5),
		{name: "node_sockstat_sockets_used", abs: 64}, {name: "node_sockstat_TCP_inuse", abs: 64},
		{name: "node_sockstat_TCP_tw", abs: 2000}, {name: "node_sockstat_TCP_alloc", abs: 64},
		{name: "node_netstat_Tcp_CurrEstab", abs: 64}, counter("node_netstat_Tcp_ActiveOpens", 5000),
		counter("node_netstat_Tcp_PassiveOpens", 5000), counter("node_netstat_TcpExt_ListenDrops", 100),
		{name: "node_nf_conntrack_entries", abs: 500}, exact("node_nf_conntrack_entries_limit"),
		{name: "node_time_seconds", abs: 5},
		{name: "node_timex_maxerror_seconds", abs: 2}, exact("node_timex_sync_status"), exact("node_timex_tick_seconds"),
		{name: "node_timex_offset_seconds", abs: 0.1}, {name: "node_timex_frequency_adjustment_ratio", abs: 0.001},
		exact("node_os_info"), exact("node_os_version"),
	}
}
