package connlimit

import (
	"fmt"
	"syscall"
)

// Budget is how many descriptors clients may take: the caps the daemon uses
// where the configuration leaves them at 0.
type Budget struct {
	NoFile             uint64 // RLIMIT_NOFILE (soft) the budget was derived from
	Reserved           int    // descriptors kept for dashd's own work
	Connections        int
	ConnectionsPerAddr int
	Streams            int
	StreamsPerAddr     int
}

// Descriptors dashd needs besides client connections, for the budget:
// a fixed part (listener, epoll, bbolt, inotify, logs, the systemd socket,
// refusals in flight), the sampler's kept-open /proc files (at most 256 or a
// quarter of the limit, see collectors/system), and per concurrent check a
// socket or a child's three pipes plus its /proc reads.
const (
	fixedReserve    = 48 + maxRefusers
	procFileReserve = 256
	perCheckReserve = 6
	minConnections  = 8
)

// NewBudget derives the caps from the descriptor limit and the number of
// checks that may run at once. Streams get three quarters of the
// connections, so pages, polls and health probes always have room; one
// address gets an eighth of each (at least 16 connections and 8 streams:
// a few browsers behind one NAT), and the Listener keeps a reserve for
// light clients on top (see Limits.Reserve), so a few addresses cannot
// lock out everyone else.
func NewBudget(nofile uint64, maxConcurrentChecks int) Budget {
	reserved := fixedReserve + int(min(uint64(procFileReserve), nofile/4)) + perCheckReserve*max(maxConcurrentChecks, 1)
	conns := minConnections
	if nofile > uint64(reserved+minConnections) {
		conns = int(min(nofile-uint64(reserved), 1<<20))
	}
	streams := max(conns*3/4, 1)
	return Budget{
		NoFile:             nofile,
		Reserved:           reserved,
		Connections:        conns,
		ConnectionsPerAddr: min(max(conns/8, 16), conns),
		Streams:            streams,
		StreamsPerAddr:     min(max(streams/8, 8), streams),
	}
}

// FileLimit returns the soft RLIMIT_NOFILE of this process (Go raises the
// soft limit to the hard one at start).
func FileLimit() (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, fmt.Errorf("connlimit: getrlimit: %w", err)
	}
	return rl.Cur, nil
}
