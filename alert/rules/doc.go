// Package rules evaluates dashd's host metric alert rules (config
// alerts.rules) against host samples and reports alert transitions: a rule
// instance starting to fire, or resolving. It is pure and deterministic: the
// only clock is the time of the samples it is fed, the only I/O the History
// it is handed for disk-full predictions. The alert core turns its
// Transitions into alerts, routes and messages.
//
// # Instances and keys
//
// A host-wide metric (cpu, memory_available, swap_used, load_per_core) has
// one instance per rule, keyed "rule:<name>". A per-filesystem metric
// (fs_used, fs_inodes_used, fs_full_in) has one instance per mount point and
// a per-interface metric (net_errors) one per interface, keyed
// "rule:<name>:<mount point or interface>". Rule names cannot contain ':', so
// everything after the second ':' is the instance.
//
// # Firing and resolving
//
// "above: X" holds while the value is greater than X, "below: X" while it is
// less than X. The condition must hold on every sample for the rule's For
// (measured between sample times) before the alert fires: until then the
// instance is pending, and one sample where it does not hold ends the
// pending state. A firing alert resolves at the first sample whose value is
// back past Clear (at or below Clear for above:, at or above it for below:;
// Clear defaults to the threshold). There is no second "stay clear for a
// while" wait: the band between threshold and Clear already keeps a value
// hovering at the threshold from flapping, and waiting would only delay
// good news. An override that sets a threshold but no Clear keeps the rule's
// band (rule above 90, clear 85, override above 95: clear 90); a Clear past
// the threshold is taken as the threshold.
//
// A Transition's Since is the time of the sample that made it (the alert
// fired or resolved); Started is when the condition started to hold, the
// start of the pending state (Prometheus' activeAt).
//
// # Missing values and gaps
//
// A missing value (no CPU figure on the first tick, a part of the sample
// that failed, a host without swap, an interface without a rate yet) neither
// fires nor resolves. A mount point or interface missing from the sample, or
// a host-wide value missing while its part was read, is absent; an instance
// absent for GoneAfter resolves with the reason "no longer present" and is
// forgotten. While the part that lists it failed (a Snapshot error starting
// "filesystems: ", "network: ", ...) absence is not counted: a failing
// reader does not resolve what it cannot see, and absence counts from the
// last sample it failed on.
//
// The condition must hold continuously: when more than For passed since the
// instance's previous value (dashd was down, the value was missing) or
// sample time went backwards, a pending instance starts its wait again from
// the current sample. Firing alerts are not affected by gaps.
//
// # Disk-full prediction
//
// fs_full_in fits a least-squares line to a filesystem's available bytes
// (series fs.avail{mount=...}) over the last Window of history (the minute
// tier of storage), as Prometheus' predict_linear does, and predicts when
// the line reaches zero. The prediction fires (after For, default 0) when
// the filesystem is predicted full within Within, the trend is falling and
// the fit has enough data (at least MinFitPoints points covering at least
// half of the Window); it resolves when the prediction moves beyond
// Within*1.25 or the trend stops falling. A fit without enough data, a
// History error or a nil History is a missing value. Reading history is
// too costly for every 1 s sample: each filesystem is re-fitted at most once
// per RefitEvery, and the samples in between reuse the last fit. Clear and
// an override's above/below/clear do not apply to fs_full_in (overrides may
// change For or disable it).
//
// For fs_full_in a Transition's Value is the predicted time until full in
// seconds (-1 when the trend is flat or rising) and Threshold is Within (or
// Within*1.25 on resolve) in seconds.
//
// # Reload and restart
//
// Apply replaces the rules on a reload and keeps the state of every instance
// whose rule (by name) kept its metric and its effective settings. When a
// rule's threshold, Clear, For, Within or Window changed for an instance, a
// pending instance restarts its wait with the next sample; a firing one
// stays firing (no second firing transition) and resolves at the next
// sample past the new Clear. A firing alert keeps the severity it fired
// with until it resolves, so its labels (and Alertmanager fingerprint) stay
// the same. Apply returns the resolutions of firing alerts whose rule was
// removed, disabled, disabled for their instance by an override, or now
// watches another metric.
//
// The engine keeps its state in memory. After a restart, Restore hands it
// the rule alerts the core still has firing, so they resolve when their
// value comes back (or their rule is gone) instead of firing forever.
//
// # Concurrency
//
// An Engine is not safe for concurrent use: one goroutine owns it and calls
// Apply, Restore and Observe.
package rules
