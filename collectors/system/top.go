package system

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/process"

	"github.com/dashd/dashd/internal/procfile"
)

// maxCmdline caps the command line kept per top process: enough to tell two
// java processes apart, not enough to bloat every Snapshot.
const maxCmdline = 256

// maxProcFDs caps the /proc/PID/stat descriptors kept open between process
// refreshes (see procFDBudget).
const maxProcFDs = 256

// procEntry is a process kept between refreshes so its CPU rate is measured
// over the refresh interval, not since it started.
type procEntry struct {
	start   uint64    // start time in ticks after boot: PID + start is one process
	ticks   uint64    // utime+stime at the last refresh
	seen    time.Time // time of that refresh
	gen     uint64    // refresh that last saw the process
	fd      int       // /proc/PID/stat kept open for the next refresh; -1 if not kept
	comm    string    // name from /proc/PID/stat, read once
	details bool      // name, user and cmdline looked up (top entries only, once)
	name    string
	user    string
	cmdline string
}

// procFDBudget is how many /proc/PID/stat descriptors a Sampler keeps open:
// maxProcFDs, or a quarter of the soft RLIMIT_NOFILE if that is smaller, so
// that a host with thousands of processes cannot use up dashd's descriptors
// (its sockets and the history file need them more).
func procFDBudget() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0 // unknown limit: better slower refreshes than starving the daemon
	}
	return int(min(rl.Cur/4, maxProcFDs))
}

// refreshProcs runs on the slow cadence: it counts processes and, unless TopN
// is off, reads each one's /proc/PID/stat (one small read: CPU ticks, RSS and
// start time) and ranks them. Name, user and command line are looked up only
// for processes that make a top list, once per process, through gopsutil.
//
// Opening /proc/PID/stat is a path walk in the kernel that costs several
// times the read, so up to procFDMax descriptors are kept in their procEntry
// and re-read with pread at offset 0 on the next refresh; processes beyond
// the budget are opened, read and closed each time. A kept descriptor refers to
// the task it was opened on, not to the PID: once that task has exited, a
// read fails (ESRCH) and the descriptor is closed; the PID, if still listed,
// belongs to another process, which is opened afresh and gets a new entry.
// Processes read without a kept descriptor are told apart by start time.
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
	samples := make([]procSample, 0, len(pids))
	for _, pid := range pids {
		e := s.procs[pid]
		b, fd, gone, err := s.readPidStat(root, pid, e)
		if err != nil {
			continue // exited between listing and reading
		}
		st, fs, err := parsePidStat(b, s.fs)
		s.fs = fs
		if err != nil {
			if e == nil || e.fd != fd {
				syscall.Close(fd)
			} // else fd is e's: e is not seen this refresh, so it is dropped and closed below
			continue
		}
		if e == nil || gone || e.start != st.StartTime {
			// A new process, or a reused PID. The start time alone misses a
			// PID reused within one clock tick; a failed kept descriptor
			// does not. readPidStat left e.fd either closed or equal to fd,
			// which then still refers to this very task: it moves over.
			kept := -1
			if e != nil {
				kept = e.fd
			}
			e = &procEntry{start: st.StartTime, comm: string(st.Comm), fd: kept}
			s.procs[pid] = e
		}
		if e.fd != fd {
			if s.procFDs < s.procFDMax {
				e.fd = fd
				s.procFDs++
			} else {
				syscall.Close(fd)
			}
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
	for pid, e := range s.procs {
		if e.gen != gen {
			s.closeProcFD(e)
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

// readPidStat returns the content of root/PID/stat, which aliases s.buf, and
// a descriptor open on it: e's kept descriptor while it still reads, else a
// fresh one that the caller keeps or closes. A kept descriptor that fails is
// closed (e.fd becomes -1) before the PID is opened again, and gone reports
// it: e's task has exited, so what the PID now shows is another process. (A
// read that failed for another reason costs that process one CPU rate.)
func (s *Sampler) readPidStat(root string, pid int32, e *procEntry) (b []byte, fd int, gone bool, err error) {
	if e != nil && e.fd >= 0 {
		b, err := procfile.PreadWhole(e.fd, &s.buf)
		if err == nil {
			return b, e.fd, false, nil
		}
		s.closeProcFD(e)
		gone = true
	}
	path := strconv.AppendInt(append(append(s.pathBuf[:0], root...), '/'), int64(pid), 10)
	path = append(path, "/stat"...)
	s.pathBuf = path
	b, fd, err = procfile.OpenAndRead(path, &s.buf)
	return b, fd, gone, err
}

// closeProcFD closes e's kept descriptor, if any.
func (s *Sampler) closeProcFD(e *procEntry) error {
	if e.fd < 0 {
		return nil
	}
	err := syscall.Close(e.fd)
	e.fd = -1
	s.procFDs--
	if err != nil {
		return fmt.Errorf("close /proc/PID/stat: %w", err)
	}
	return nil
}

// closeProcs closes every kept /proc/PID/stat descriptor. The entries stay,
// so a later refresh still has their CPU baselines; it reopens the files.
func (s *Sampler) closeProcs() error {
	var errs []error
	for _, e := range s.procs {
		errs = append(errs, s.closeProcFD(e))
	}
	return errors.Join(errs...)
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
