//go:build !race

package fleet

import (
	// For go:linkname.
	_ "unsafe"
)

// natsProcStatFile is the embedded NATS server's process statistics file,
// "/proc/<pid>/stat", which its pse package re-reads every second from a
// timer it starts when the program starts (its package init), to keep a
// CPU percentage for its monitoring endpoints (varz, statsz). dashd
// serves neither. The link fails to build should nats-server rename it.
//
//go:linkname natsProcStatFile github.com/nats-io/nats-server/v2/server/pse.procStatFile
var natsProcStatFile string

// QuietProcessSampler stops the embedded NATS server's once-a-second read
// of /proc/self/stat: the read that follows fails and the timer is not
// set again. Every dashd links the NATS server, fleet or not, and that
// timer, at a moment of its own, was a sixth of an idle dashd's CPU (each
// wake-up costs more than the read). Monitoring figures the NATS server
// would report (CPU, memory in varz and statsz) stay zero.
//
// Call it first thing in main, once: the timer first fires a second after
// the program starts, so nothing reads the file while it changes. The
// replacement is a path that cannot exist, not "", so even an interleaved
// read gets a harmless path. The race detector cannot see what orders the
// write before that read (a second, and the runtime's lock on the timer
// heap), so builds with -race (the daemon tests' binaries) keep the
// timer: see quiet_race.go.
func QuietProcessSampler() { natsProcStatFile = "/nonexistent/dashd-quiet" }
