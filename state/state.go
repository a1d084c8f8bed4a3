// Package state is dashd's latest-state view: the newest host sample, the
// configuration in force and the problems of a rejected reload. Collectors and
// the reload path write it; the scheduler, the API and the health endpoints read
// it. Check states live in the collectors' Runner, which owns them.
package state

import (
	"sync"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/selfstat"
)

// Latest is safe for concurrent use. Values returned are copies or immutable:
// callers must not modify a returned Snapshot's slices.
type Latest struct {
	mu        sync.RWMutex
	sys       system.Snapshot
	haveSys   bool
	samples   uint64
	sysNext   chan struct{} // closed by the next SetSystem
	self      selfstat.Footprint
	haveSelf  bool
	cfg       *config.Config
	rejected  []config.Problem
	rejectAt  time.Time
	startedAt time.Time
}

// New returns a Latest that holds cfg as the configuration in force.
func New(cfg *config.Config, now time.Time) *Latest {
	return &Latest{cfg: cfg, startedAt: now, sysNext: make(chan struct{})}
}

// SetSystem records the newest host sample.
func (l *Latest) SetSystem(s system.Snapshot) {
	l.mu.Lock()
	l.sys, l.haveSys = s, true
	l.samples++
	close(l.sysNext)
	l.sysNext = make(chan struct{})
	l.mu.Unlock()
}

// NextSystem returns a channel that is closed when the next host sample is
// recorded. The scheduler waits on it so it broadcasts a sample the moment it
// exists, in the same wake-up as the sampler, rather than on a timer of its
// own that would wake the process at another moment every second.
func (l *Latest) NextSystem() <-chan struct{} {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.sysNext
}

// System returns the newest host sample and whether there is one yet.
func (l *Latest) System() (system.Snapshot, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.sys, l.haveSys
}

// SetSelf records dashd's own newest footprint.
func (l *Latest) SetSelf(f selfstat.Footprint) {
	l.mu.Lock()
	l.self, l.haveSelf = f, true
	l.mu.Unlock()
}

// Self returns dashd's own newest footprint and whether there is one yet.
func (l *Latest) Self() (selfstat.Footprint, bool) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.self, l.haveSelf
}

// Samples counts host samples taken since start; the watchdog and readiness
// use it to tell that collection is progressing.
func (l *Latest) Samples() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.samples
}

// StartedAt is when the daemon started.
func (l *Latest) StartedAt() time.Time { return l.startedAt }

// Config returns the configuration in force.
func (l *Latest) Config() *config.Config {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.cfg
}

// SetConfig installs a newly accepted configuration and clears any rejection.
func (l *Latest) SetConfig(c *config.Config) {
	l.mu.Lock()
	l.cfg, l.rejected, l.rejectAt = c, nil, time.Time{}
	l.mu.Unlock()
}

// Reject records the problems of a configuration that was not applied; the
// last good one stays in force.
func (l *Latest) Reject(problems []config.Problem, at time.Time) {
	l.mu.Lock()
	l.rejected, l.rejectAt = append([]config.Problem(nil), problems...), at
	l.mu.Unlock()
}

// Rejected returns the problems of the last rejected reload (nil when the
// configuration in force is the newest one) and when it happened.
func (l *Latest) Rejected() ([]config.Problem, time.Time) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.rejected, l.rejectAt
}
