package system

import (
	"context"
	"os"
	"strconv"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/process"
)

// maxCmdline caps the command line kept per top process: enough to tell two
// java processes apart, not enough to bloat every Snapshot.
const maxCmdline = 256

// procEntry is a process kept between refreshes so its CPU rate is measured
// over the refresh interval, not since it started.
type procEntry struct {
	start   uint64    // start time in ticks after boot: PID + start is one process
	ticks   uint64    // utime+stime at the last refresh
	seen    time.Time // time of that refresh
	gen     uint64    // refresh that last saw the process
	comm    string    // name from /proc/PID/stat, read once
	details bool      // name, user and cmdline looked up (top entries only, once)
	name    string
	user    string
	cmdline string
}

// refreshProcs runs on the slow cadence: it counts processes and, unless TopN
// is off, reads each one's /proc/PID/stat (one small read: CPU ticks, RSS,
// start time, with a raw open, read and close) and ranks them. Name, user and command line are looked up only
// for processes that make a top list, once per process, through gopsutil.
func (s *Sampler) refreshProcs(ctx context.Context, now time.Time) error {
	var interval time.Duration
	if !s.lastTop.IsZero() {
		interval = now.Sub(s.lastTop)
	}
	s.lastTop = now
	root := s.hostPath("HOST_PROC", "/proc")
	pids, err := listPIDs(root, &s.dirBuf, s.pids[:0])
	s.pids = pids
	if err != nil {
		return err
	}
	s.procTotal = len(pids)
	if s.opts.TopN <= 0 {
		return nil
	}
	s.topGen++
	gen := s.topGen
	page := uint64(os.Getpagesize())
	path := s.pathBuf
	samples := make([]procSample, 0, len(pids))
	for _, pid := range pids {
		path = strconv.AppendInt(append(append(path[:0], root...), '/'), int64(pid), 10)
		path = append(path, "/stat"...)
		b, err := readOnce(path, &s.buf)
		if err != nil {
			continue // exited between listing and reading
		}
		st, fs, err := parsePidStat(b, s.fs)
		s.fs = fs
		if err != nil {
			continue
		}
		e := s.procs[pid]
		if e == nil || e.start != st.StartTime {
			e = &procEntry{start: st.StartTime, comm: string(st.Comm)}
			s.procs[pid] = e
		}
		rss := st.RSSPages * page
		ps := procSample{Process: Process{PID: pid, RSS: rss, MemPercent: pct(rss, s.memTotal)}}
		if !e.seen.IsZero() {
			if v, ok := processCPUPercent(float64(e.ticks)/cpu.ClocksPerSec, float64(st.CPUTicks)/cpu.ClocksPerSec, now.Sub(e.seen)); ok {
				ps.CPUPercent, ps.cpuOK = v, true
			}
		}
		e.ticks, e.seen, e.gen = st.CPUTicks, now, gen
		samples = append(samples, ps)
	}
	s.pathBuf = path
	for pid, e := range s.procs {
		if e.gen != gen {
			delete(s.procs, pid)
		}
	}
	top := &TopProcesses{
		Time:     now,
		Interval: interval,
		ByCPU:    rankTop(samples, s.opts.TopN, byCPU),
		ByMemory: rankTop(samples, s.opts.TopN, byMemory),
	}
	s.fillDetails(ctx, top.ByCPU)
	s.fillDetails(ctx, top.ByMemory)
	s.top = top
	return nil
}

// fillDetails adds name, user and command line to top entries, looking each
// process up once. gopsutil's Name turns the 15-character comm into the full
// name where the command line allows.
func (s *Sampler) fillDetails(ctx context.Context, list []Process) {
	for i := range list {
		e := s.procs[list[i].PID]
		if e == nil {
			continue
		}
		if !e.details {
			e.details = true
			p := &process.Process{Pid: list[i].PID}
			if n, err := p.NameWithContext(ctx); err == nil && n != "" {
				e.name = n
			} else {
				e.name = e.comm
			}
			e.user, _ = p.UsernameWithContext(ctx)
			cl, _ := p.CmdlineWithContext(ctx)
			if len(cl) > maxCmdline {
				cl = cl[:maxCmdline]
			}
			e.cmdline = cl
		}
		list[i].Name, list[i].User, list[i].Cmdline = e.name, e.user, e.cmdline
	}
}
