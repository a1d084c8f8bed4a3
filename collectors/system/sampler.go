package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/shirou/gopsutil/v3/common"
	"github.com/shirou/gopsutil/v3/disk"
)

// Sampler reads the host on a timer and hands out one Snapshot per tick.
//
// All its state (previous counters, kept processes) is owned by the goroutine
// running Run; Run refuses to run twice at once. That is also why CPU
// percentages are computed here from the difference between two /proc/stat
// readings rather than with cpu.Percent, whose previous reading is package
// state shared by every caller in the binary.
type Sampler struct {
	running atomic.Bool

	opts  Options
	log   *slog.Logger
	env   common.EnvMap // nil when Options.Env is empty
	mntF  filter
	typeF filter
	netF  filter
	diskF filter
	// usage reads one filesystem's usage (statfs). A field so fixture tests can
	// answer for mount points that do not exist on the test machine.
	usage         func(ctx context.Context, path string) (*disk.UsageStat, error)
	statfsTimeout time.Duration
	stuck         stuckMounts

	host *Host // read on the first tick, then shared by every Snapshot

	prevTime  time.Time
	prevCores []CPUTimes
	prevTotal CPUTimes
	prevDisks map[string]Disk
	prevNets  map[string]NetInterface

	// Slow cadence (every ProcessInterval): the mount table, the list of
	// whole disks and the process list change rarely and cost more to read.
	mounts     []mount
	wholeDisks map[string]bool
	listedAt   time.Time

	procs     map[int32]*procEntry // kept between process refreshes
	procTotal int                  // processes counted by the latest refresh
	topGen    uint64               // number of process refreshes so far
	lastTop   time.Time
	top       *TopProcesses
	memTotal  uint64 // from the latest tick, for process memory percentages

	buf []byte   // read buffer reused by the procfs readers
	fs  [][]byte // field buffer reused by the procfs parsers

	lastErr map[part]string // last error text per part, so a failure logs once
}

// New returns a Sampler for opts, with defaults filled in (see Options).
func New(opts Options) *Sampler {
	o := opts.withDefaults()
	s := &Sampler{
		opts:          o,
		log:           o.Logger.With("collector", "system"),
		mntF:          filter{o.MountInclude, o.MountExclude},
		typeF:         filter{o.FSTypeInclude, o.FSTypeExclude},
		netF:          filter{o.InterfaceInclude, o.InterfaceExclude},
		diskF:         filter{o.DiskInclude, o.DiskExclude},
		usage:         disk.UsageWithContext,
		statfsTimeout: defaultStatfsTimeout,
		prevDisks:     map[string]Disk{},
		prevNets:      map[string]NetInterface{},
		procs:         map[int32]*procEntry{},
		lastErr:       map[part]string{},
	}
	if len(o.Env) > 0 {
		s.env = common.EnvMap{}
		for k, v := range o.Env {
			s.env[common.EnvKeyType(k)] = v
		}
	}
	return s
}

// Run samples at once, then every Interval, calling out with each Snapshot from
// Run's own goroutine (a slow out delays the next tick; ticks are dropped, not
// queued). It returns nil when ctx is cancelled. A part that fails (say
// /proc/diskstats is unreadable) is logged once and listed in Snapshot.Errors;
// the tick goes on with the other parts.
func (s *Sampler) Run(ctx context.Context, out func(Snapshot)) error {
	if out == nil {
		return errors.New("system: Run: nil callback")
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("system: Run: already running")
	}
	defer s.running.Store(false)
	t := time.NewTicker(s.opts.Interval)
	defer t.Stop()
	for {
		snap := s.sample(ctx)
		if ctx.Err() != nil {
			return nil
		}
		out(snap)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// gctx returns the context passed to gopsutil: ctx carrying the env override.
func (s *Sampler) gctx(ctx context.Context) context.Context {
	if s.env == nil {
		return ctx
	}
	return context.WithValue(ctx, common.EnvKey, s.env)
}

// hostPath resolves a path under one of the host roots the way gopsutil does:
// the Options.Env value, else the environment variable, else the default.
func (s *Sampler) hostPath(key, dfault string, elem ...string) string {
	root := s.env[common.EnvKeyType(key)]
	if root == "" {
		root = os.Getenv(key)
	}
	if root == "" {
		root = dfault
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

// tick is what every reader gets to know about the current tick.
type tick struct {
	now  time.Time
	dt   time.Duration // since the previous tick; 0 on the first
	slow bool          // the slow-cadence lists are due
}

// sample runs one tick.
func (s *Sampler) sample(ctx context.Context) Snapshot {
	start := time.Now()
	now := s.opts.Now()
	gctx := s.gctx(ctx)
	if s.host == nil {
		s.host = s.readHost(gctx)
	}
	tk := tick{now: now}
	if !s.prevTime.IsZero() {
		tk.dt = now.Sub(s.prevTime)
	}
	if s.listedAt.IsZero() || now.Sub(s.listedAt) >= s.opts.ProcessInterval {
		tk.slow = true
		s.listedAt = now
	}
	snap := Snapshot{Time: now, Host: s.host}
	parts := [...]struct {
		part part
		read func(context.Context, *Snapshot, tick) error
	}{
		{partCPU, s.readStat},
		{partMemory, s.readMemory},
		{partLoad, s.readLoad},
		{partUptime, s.readUptime},
		{partFDs, s.readFileNr},
		{partFilesystems, s.readFilesystems},
		{partDisks, s.readDisks},
		{partNetwork, s.readNetwork},
	}
	for _, p := range parts {
		s.report(p.part, safely(func() error { return p.read(gctx, &snap, tk) }), &snap)
	}
	// The second process refresh comes one tick after the first, not one
	// ProcessInterval later, so the CPU ranking shows up within a second.
	if tk.slow || (s.opts.TopN > 0 && s.topGen == 1) {
		s.report(partProcesses, safely(func() error { return s.refreshProcs(gctx, now) }), &snap)
	}
	snap.Processes.Total = s.procTotal
	snap.Top = s.top
	s.prevTime = now
	snap.Duration = time.Since(start)
	return snap
}

// safely runs one part, turning a panic into that part's error: gopsutil
// indexes fields of /proc lines without checking their count, and one odd
// line must not take dashd down.
func safely(read func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return read()
}

// report records a part's outcome: errors go into the Snapshot every tick but
// to the log only when they change, so a missing file does not flood the log.
func (s *Sampler) report(p part, err error, snap *Snapshot) {
	if err == nil {
		if _, failed := s.lastErr[p]; failed {
			delete(s.lastErr, p)
			s.log.Info("system part recovered", "part", p.String())
		}
		return
	}
	snap.failed |= 1 << p
	msg := fmt.Sprintf("%s: %v", p, err)
	snap.Errors = append(snap.Errors, msg)
	if s.lastErr[p] != msg {
		s.lastErr[p] = msg
		s.log.Warn("system part failed", "part", p.String(), "err", err)
	}
}
