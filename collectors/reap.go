package collectors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Reaper timings.
const (
	// sweepEvery is the backstop sweep while no command run ends: it reaps
	// orphans that died on their own and retries ones that would not die.
	sweepEvery = time.Minute
	// reapWait bounds how long one sweep waits for killed orphans to exit
	// (a process blocked in the kernel, on a dead NFS mount say, may take
	// longer: it stays dashd's child and later sweeps try again).
	reapWait = time.Second
	// maxSweepRounds bounds one sweep: killing an orphan hands its own
	// children to dashd, which the next round finds.
	maxSweepRounds = 16
)

// reaper makes dashd a child subreaper while it runs and kills and reaps
// what command checks leave behind (see the package documentation,
// "Command checks and their processes").
//
// With PR_SET_CHILD_SUBREAPER set, a process whose parent exits is handed to
// dashd instead of init, so a command's double-forked daemon becomes
// dashd's child and can be found. A child of dashd is an orphan of a command
// check when all of these hold:
//
//   - dashd did not start it through reaper.start (those are command roots,
//     reaped by os/exec; see own);
//   - it is not in dashd's own process group: every command root gets a
//     process group of its own, so its descendants are never in dashd's,
//     while children that other dashd code starts with os/exec defaults
//     (systemctl for systemd checks) are, and must be left to their Wait.
//
// An orphan is killed, with its descendants, once no running command may
// own it: when it started before every command root that is still running
// (an orphan cannot be older than the run that made it). Start times come
// from /proc, in clock ticks, so a tie spares the orphan until later.
//
// Orphans are reaped with wait4 on their exact pid, never on "any child",
// which would steal exit statuses from os/exec.
//
// The process has one subreaper flag, and a reaper treats every such child
// it did not start as an orphan: at most one reaper may run in a process,
// and while it runs every child in a process group of its own must be
// started through it. dashd has one Runner.
type reaper struct {
	log  *slog.Logger
	proc string // procfs mount
	self int    // os.Getpid()
	pgrp int    // dashd's process group

	// mu is held across cmd.Start and the registration of the new pid, and
	// by sweep while it tells orphans from command roots, so a root is never
	// seen unregistered. Lock order: sweepMu, then mu.
	mu  sync.Mutex
	own map[int]*ownChild

	// sweepMu serializes sweeps (two would only race to kill the same
	// orphans) and guards stuck.
	sweepMu sync.Mutex
	// stuck holds orphans (pid to start time) that did not exit within
	// reapWait of a SIGKILL, so that later sweeps do not wait for them again.
	stuck map[int]uint64
}

// ownChild is a command root dashd started and os/exec will reap.
type ownChild struct {
	// start is the root's start time (clock ticks since boot); 0 when it
	// could not be read.
	start uint64
	// running is true until the run ends. While it runs, orphans that may
	// be its own (started at or after start) are spared: a check script may
	// start a daemon, use it and stop it within its run.
	running bool
}

// newReaper returns a reaper for this process; nothing happens until Run.
func newReaper(log *slog.Logger) *reaper {
	return &reaper{
		log:   log,
		proc:  procRoot,
		self:  os.Getpid(),
		pgrp:  unix.Getpgrp(),
		own:   map[int]*ownChild{},
		stuck: map[int]uint64{},
	}
}

// reaperKey carries the running Runner's reaper to command checks.
type reaperKey struct{}

// withReaper returns ctx carrying p for the command checks run under it.
func withReaper(ctx context.Context, p *reaper) context.Context {
	return context.WithValue(ctx, reaperKey{}, p)
}

// reaperFrom returns the reaper of the Runner running the check, or nil.
func reaperFrom(ctx context.Context) *reaper {
	p, _ := ctx.Value(reaperKey{}).(*reaper)
	return p
}

// Run makes the process a child subreaper and sends the outcome on ready
// (nil, or why it could not; then orphans still go to init, but command
// checks kill their own trees), then sweeps every sweepEvery until ctx
// ends. Before it returns it sweeps a last time and restores the previous
// subreaper setting.
func (p *reaper) Run(ctx context.Context, ready chan<- error) {
	prev, err := subreaper()
	if err == nil {
		err = setSubreaper(true)
	}
	if err != nil {
		ready <- fmt.Errorf("collectors: become a child subreaper: %w", err)
		return
	}
	ready <- nil
	defer func() {
		p.sweep()
		if err := setSubreaper(prev); err != nil {
			p.log.Warn("cannot restore the child subreaper setting", "err", err)
		}
	}()
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.sweep()
		}
	}
}

// subreaper reports whether the process is a child subreaper now.
func subreaper() (bool, error) {
	var v int32
	// Called through Syscall so the pointer stays valid for the call.
	if _, _, errno := unix.Syscall(unix.SYS_PRCTL, unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&v)), 0); errno != 0 {
		return false, fmt.Errorf("prctl PR_GET_CHILD_SUBREAPER: %w", errno)
	}
	return v != 0, nil
}

// setSubreaper turns the process's child subreaper flag on or off.
func setSubreaper(on bool) error {
	var v uintptr
	if on {
		v = 1
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, v, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl PR_SET_CHILD_SUBREAPER %d: %w", v, err)
	}
	return nil
}

// start starts cmd and registers its pid in one step, under the lock sweep
// takes, so that sweep never mistakes a command root for an orphan. With a
// nil reaper it is cmd.Start.
func (p *reaper) start(cmd *exec.Cmd) error {
	if p == nil {
		return cmd.Start()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return err
	}
	c := &ownChild{running: true}
	if info, err := newProcReader(p.proc).one(cmd.Process.Pid); err == nil {
		c.start = info.start
	}
	p.own[cmd.Process.Pid] = c
	return nil
}

// ended marks the run of root as over (root has exited or been killed but
// is not reaped yet) and sweeps: what the run left behind goes now.
func (p *reaper) ended(root int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	if c := p.own[root]; c != nil {
		c.running = false
	}
	p.mu.Unlock()
	p.sweep()
}

// forget drops root once os/exec has reaped it.
func (p *reaper) forget(root int) {
	if p == nil {
		return
	}
	p.mu.Lock()
	delete(p.own, root)
	p.mu.Unlock()
}

// orphans returns the orphans that may be killed now: dashd's children that
// are neither its own nor in its process group, and that no running command
// can own. An orphan started before every running command root started
// belongs to a run that is over. Dead ones are always returned (reaping them
// harms nobody). The process table is read under mu, so a command root is
// registered before it can appear in it.
func (p *reaper) orphans(r *procReader) ([]procInfo, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	procs, err := r.all()
	if err != nil {
		return nil, err
	}
	limit := ^uint64(0)
	for _, c := range p.own {
		if c.running {
			limit = min(limit, c.start)
		}
	}
	var out []procInfo
	for _, q := range procs {
		if q.ppid != p.self || p.own[q.pid] != nil || q.pgid == p.pgrp {
			continue
		}
		if q.exited() || q.start < limit {
			out = append(out, q)
		}
	}
	return out, nil
}

// sweep kills every orphan that may be killed now, with its descendants,
// and reaps it, round after round (killing an orphan hands its children to
// dashd) until a round finds none. One sweep waits at most reapWait for
// orphans to exit; one that does not is remembered as stuck, and later
// sweeps kill it again and reap it if it has exited, without waiting for it.
func (p *reaper) sweep() {
	p.sweepMu.Lock()
	defer p.sweepMu.Unlock()
	r := newProcReader(p.proc)
	deadline := time.Now().Add(reapWait)
	for range maxSweepRounds {
		orphans, err := p.orphans(r)
		if err != nil {
			p.log.Warn("cannot look for orphans of command checks", "err", err)
			return
		}
		var wait []procInfo
		for _, o := range orphans {
			stuck := p.stuck[o.pid] == o.start && o.start != 0
			if !o.exited() {
				// o is dashd's child and not reaped: its pid cannot change hands.
				n, err := killTree(p.proc, o.pid)
				if !stuck {
					p.log.Info("killed a process a command check left running", "pid", o.pid, "descendants", n)
				}
				if err != nil {
					p.log.Warn("killing a command check's leftover process", "pid", o.pid, "err", err)
				}
			}
			if stuck {
				if reapNow(o.pid) {
					delete(p.stuck, o.pid)
				}
				continue
			}
			wait = append(wait, o)
		}
		if len(wait) == 0 {
			return
		}
		left := reapAll(wait, deadline)
		for _, o := range left {
			p.stuck[o.pid] = o.start
			p.log.Warn("a command check's leftover process does not exit after SIGKILL; will retry", "pid", o.pid)
		}
		if len(left) > 0 {
			return
		}
	}
}

// reapNow collects pid if it has exited: wait4 on that exact pid, never on
// "any child". It reports whether pid is gone (reaped now, or not a child
// any more).
func reapNow(pid int) bool {
	for {
		var ws unix.WaitStatus
		got, err := unix.Wait4(pid, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil: // ECHILD: not ours (any more)
			return true
		default:
			return got == pid
		}
	}
}

// reapAll reaps the given orphans as they exit, polling until deadline; it
// returns those still not reaped then.
func reapAll(orphans []procInfo, deadline time.Time) []procInfo {
	pause := time.Millisecond
	for {
		left := orphans[:0]
		for _, o := range orphans {
			if !reapNow(o.pid) {
				left = append(left, o)
			}
		}
		orphans = left
		if len(orphans) == 0 || time.Now().After(deadline) {
			return orphans
		}
		time.Sleep(pause)
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// startReaper starts r's reaper for one Run; it returns the context that
// hands the reaper to command checks, and a stop function to call once
// every check goroutine has returned.
func (r *Runner) startReaper(ctx context.Context) (context.Context, func()) {
	// The reaper outlives ctx until the checks have stopped, so that its
	// last sweep sees what their final runs left.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	ready := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.reaper.Run(rctx, ready)
	}()
	if err := <-ready; err != nil {
		r.log.Warn("orphans of command checks will reparent to init", "err", err)
	}
	return withReaper(ctx, r.reaper), func() {
		cancel()
		<-done
	}
}
