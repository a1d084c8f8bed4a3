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

	"github.com/dashd/dashd/internal/grid"
	"github.com/dashd/dashd/internal/procfile"
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
	wholeDisks map[string]string // name -> the same name, so reads reuse the string
	listedAt   time.Time

	procs     map[int32]*procEntry // kept between process refreshes
	procFDs   int                  // procs entries holding a /proc/PID/stat descriptor
	procFDMax int                  // budget for procFDs (see procFDBudget)
	procTotal int                  // processes counted by the latest refresh
	topGen    uint64               // number of process refreshes so far
	lastTop   time.Time
	top       *TopProcesses
	memTotal  uint64 // from the latest tick, for process memory percentages

	files   tickFiles // per-tick /proc files, kept open (see internal/procfile)
	buf     []byte    // read buffer for /proc/PID/stat
	dirBuf  []byte    // getdents64 buffer for listing /proc
	pathBuf []byte    // /proc/PID/stat path being built
	pids    []int32   // PID list reused between refreshes
	fs      [][]byte  // field buffer reused by the procfs parsers
	ifNames map[string]ifName
	names   *seriesNames // series names of the items seen so far (see points.go)

	// Node figures (see node_read.go): kept-open files, name interners,
	// and what is read on the slow cadence or once.
	nfiles      nodeFiles
	nnames      nodeNames
	pageSize    float64
	slowNode    NodeStats // slow-cadence figures, shared until the next refresh
	netClass    []NetClass
	netClassGen int          // slow-cadence refreshes of netClass (see netClassFullEvery)
	vmstat      []NamedValue // slow cadence, shared between snapshots
	uname       *Uname
	osRelease   map[string]string

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
		procFDMax:     procFDBudget(),
		lastErr:       map[part]string{},
	}
	if len(o.Env) > 0 {
		s.env = common.EnvMap{}
		for k, v := range o.Env {
			s.env[common.EnvKeyType(k)] = v
		}
	}
	proc := func(whole bool, elem ...string) *procfile.File {
		return procfile.New(s.hostPath("HOST_PROC", "/proc", elem...), whole)
	}
	s.files = tickFiles{
		stat:      proc(true, "stat"),
		meminfo:   proc(true, "meminfo"),
		loadavg:   proc(true, "loadavg"),
		uptime:    proc(true, "uptime"),
		fileNr:    proc(true, "sys", "fs", "file-nr"),
		diskstats: proc(false, "diskstats"),
		netDev:    proc(false, "net", "dev"),
	}
	s.nfiles = nodeFiles{
		vmstat:         proc(false, "vmstat"),
		psiCPU:         proc(true, "pressure", "cpu"),
		psiIO:          proc(true, "pressure", "io"),
		psiMemory:      proc(true, "pressure", "memory"),
		sockstat:       proc(true, "net", "sockstat"),
		sockstat6:      proc(true, "net", "sockstat6"),
		snmp:           proc(true, "net", "snmp"),
		netstat:        proc(true, "net", "netstat"),
		snmp6:          proc(true, "net", "snmp6"),
		conntrackCount: proc(true, "sys", "net", "netfilter", "nf_conntrack_count"),
		conntrackMax:   proc(true, "sys", "net", "netfilter", "nf_conntrack_max"),
	}
	s.nnames.netstat.keep = newNetstatKeep()
	s.nnames.vmstat.keep = vmstatKeep
	s.pageSize = float64(os.Getpagesize())
	return s
}

// tickFiles are the /proc files read on every tick. Their paths are resolved
// once, in New; they are opened on first use and closed when Run returns.
type tickFiles struct {
	stat, meminfo, loadavg, uptime, fileNr, diskstats, netDev *procfile.File
}

// close closes every file that is open.
func (t *tickFiles) close() error {
	var errs []error
	for _, f := range [...]*procfile.File{t.stat, t.meminfo, t.loadavg, t.uptime, t.fileNr, t.diskstats, t.netDev} {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// close closes the /proc files kept open between ticks and between process
// refreshes; the next tick opens them again.
func (s *Sampler) close() error {
	errs := []error{s.files.close(), s.closeProcs()}
	for _, f := range s.nfiles.all() {
		errs = append(errs, f.Close())
	}
	return errors.Join(errs...)
}

// Run samples at once, then on every wall-clock multiple of Interval counted
// from the Unix epoch (with the 1 s default: on every whole second), calling
// out with each Snapshot from Run's own goroutine. It returns nil when ctx is
// cancelled, after closing the /proc files it keeps open between ticks and
// process refreshes.
//
// Aligning ticks to the clock lets other components aligned the same way
// (the check runner) wake at the same moments, so the process has one busy
// period per interval instead of several. The timer is re-armed after each
// tick for the next multiple after the time then, so a slow out delays the
// next tick and ticks are dropped, not queued; each multiple is served at
// most once. A clock step neither makes it spin nor stall: the wait is never
// longer than two intervals and never zero. Options.Now is the clock used.
//
// A part that fails (say /proc/diskstats is unreadable) is logged once and
// listed in Snapshot.Errors; the tick goes on with the other parts.
func (s *Sampler) Run(ctx context.Context, out func(Snapshot)) error {
	if out == nil {
		return errors.New("system: Run: nil callback")
	}
	if !s.running.CompareAndSwap(false, true) {
		return errors.New("system: Run: already running")
	}
	defer s.running.Store(false)
	defer func() {
		if err := s.close(); err != nil {
			s.log.Warn("system close /proc files", "err", err)
		}
	}()
	var t *time.Timer
	defer func() {
		if t != nil {
			t.Stop()
		}
	}()
	var served time.Time // the multiple the current tick was scheduled for
	for {
		snap := s.sample(ctx)
		if ctx.Err() != nil {
			return nil
		}
		out(snap)
		now := s.opts.Now()
		next := grid.Next(now, s.opts.Interval)
		if next.Equal(served) {
			// Woken a hair before the multiple it was armed for (the wall
			// clock moved against the monotonic timer): do not serve it twice.
			next = next.Add(s.opts.Interval)
		}
		served = next
		if t == nil {
			t = time.NewTimer(next.Sub(now))
		} else {
			t.Reset(next.Sub(now))
		}
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
		s.osRelease = s.readOSRelease()
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
		{partVMStat, s.readVMStat},
		{partPressure, s.readPressure},
		{partSockstat, s.readSockstat},
		{partNetstat, s.readNetstat},
		{partConntrack, s.readConntrack},
		{partNetClass, s.readNetClass},
		{partTimex, s.readTimex},
	}
	for _, p := range parts {
		s.report(p.part, safely(func() error { return p.read(gctx, &snap, tk) }), &snap)
	}
	// The second process refresh comes one tick after the first, not one
	// ProcessInterval later, so the CPU ranking shows up within a second.
	if tk.slow || (s.opts.TopN > 0 && s.topGen == 1) {
		s.report(partProcesses, safely(func() error { return s.refreshProcs(gctx, now) }), &snap)
	}
	if tk.slow || s.uname == nil {
		u, err := readUname()
		if err != nil {
			s.log.Warn("system uname", "err", err)
		} else {
			s.uname = u
		}
	}
	snap.Node.Uname, snap.Node.OSRelease = s.uname, s.osRelease
	snap.Processes.Total = s.procTotal
	snap.Top = s.top
	s.names = s.names.with(&snap)
	snap.names = s.names
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
