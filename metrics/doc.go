// Package metrics is dashd's Prometheus endpoint (/metrics): one collector
// per subsystem, each reading its source at scrape time, over a registry of
// its own.
//
// Nothing here keeps counters of its own that could drift from what the
// dashboard shows: every value is read from the part that owns it when a
// scrape asks. New takes those parts (Sources) and refuses a missing one;
// Handler serves the registry.
//
// # Layout
//
// One file per subsystem, each a part with the families it exports:
//
//   - host.go, host_node.go: the latest host sample under node_exporter's
//     names (node_*), plus dashd_host_* and dashd_sample* (from
//     state.Latest).
//   - node.go: the node_* families whose names come from the kernel
//     (node_memory_*, node_vmstat_*, node_sockstat_*, node_netstat_*), an
//     unchecked collector.
//   - parity.go: the families shared with node_exporter and the
//     tolerances of the side-by-side test.
//   - textfile.go: node_exporter's textfile collector (Sources.TextfileDirectory).
//   - checks.go: dashd_check_* and blackbox_exporter's probe_* (from the
//     check Runner).
//   - hub.go: dashd_sse_* and the hub's stream refusals in
//     dashd_http_refused_total{reason="streams"|"streams_per_address"}.
//   - http.go: dashd_http_connections, dashd_http_accept_errors_total and the
//     listener's refusals in dashd_http_refused_total{reason="connections"|
//     "connections_per_address"}. The family is defined once, in http.go;
//     each part owns the series of its own reasons.
//   - storage.go: dashd_storage_bytes and the write-health families.
//   - self.go: dashd_build_info, and client_golang's Go runtime (go_*) and
//     process (process_*) collectors.
//
// scrape.go wraps each part except self in the scrape series, and
// sources.go lists the inputs.
//
// # Check state encoding
//
// dashd_check_up is 1 when the check's state is up and 0 otherwise.
// dashd_check_state is the state as a number ordered by severity, the same
// order dashd sorts by: 0 up, 1 unknown, 2 degraded, 3 down. Alert on
// dashd_check_state >= 2 for "degraded or worse", == 3 for "down".
//
// # Scrape series
//
// As node_exporter does, every part reports how its own collection went:
//
//	dashd_scrape_collector_duration_seconds{collector="host"|"node"|"checks"|"hub"|"http"|"storage"|"flow"|"alerts"}
//	dashd_scrape_collector_success{collector=...}   1 or 0
//
// success is 0 when the part's source could not answer: its error, a
// panic (recovered and logged with its stack), or no answer within the
// part's time limit (5 s). A failing part leaves out what it could not read
// and never blanks the rest of the scrape: the other parts, and whatever the
// failing part did read, are still served with status 200. A part whose
// earlier collection is still stuck fails at once instead of starting
// another, so a hung source (a stalled disk under os.Stat) holds one
// goroutine, not one per scrape.
//
// success says whether dashd could read its own state, not whether that
// state is healthy: a down check, a stale host sample or a full disk are
// values of their own families (dashd_check_state,
// dashd_sample_timestamp_seconds, dashd_storage_write_ok), so an alert on
// success == 0 means one thing only: part of /metrics is missing. Each
// part's file says what counts as its failure.
package metrics
