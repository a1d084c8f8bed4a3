package collectors

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dashd/dashd/internal/procfile"
	"golang.org/x/sys/unix"
)

// procInfo is what process cleanup needs from /proc/PID/stat.
//
// A pid alone does not name a process for long: once a process is reaped its
// pid can be given to another one. pid and start together do (start is in
// clock ticks since boot), so every signal sent on the strength of an earlier
// /proc read first checks that start still matches.
type procInfo struct {
	pid, ppid, pgid, sid int
	// state is the state letter: 'Z' (zombie) and 'X' (dead) have exited
	// and only wait to be reaped.
	state byte
	start uint64
}

func (p procInfo) exited() bool { return p.state == 'Z' || p.state == 'X' }

// parseStat reads the fields of a /proc/PID/stat line that procInfo keeps.
// The command name, in parentheses, may itself contain spaces and ')': the
// fields are counted from the last ')'.
func parseStat(b []byte) (procInfo, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return procInfo{}, fmt.Errorf("stat %q: no (comm)", shortBytes(b))
	}
	var p procInfo
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return procInfo{}, fmt.Errorf("stat %q: pid: %w", shortBytes(b), err)
	}
	p.pid = pid
	// After ')': state ppid pgrp session tty_nr tpgid flags minflt cminflt
	// majflt cmajflt utime stime cutime cstime priority nice num_threads
	// itrealvalue starttime ... (proc(5), fields 3 to 22).
	f := bytes.Fields(b[end+1:])
	if len(f) < 20 || len(f[0]) != 1 {
		return procInfo{}, fmt.Errorf("stat %q: too few fields", shortBytes(b))
	}
	p.state = f[0][0]
	ints := []*int{&p.ppid, &p.pgid, &p.sid}
	for i, dst := range ints {
		if *dst, err = strconv.Atoi(string(f[1+i])); err != nil {
			return procInfo{}, fmt.Errorf("stat %q: field %d: %w", shortBytes(b), 4+i, err)
		}
	}
	if p.start, err = strconv.ParseUint(string(f[19]), 10, 64); err != nil {
		return procInfo{}, fmt.Errorf("stat %q: starttime: %w", shortBytes(b), err)
	}
	return p, nil
}

func shortBytes(b []byte) string { return shorten(string(b), 80) }

// procReader reads process tables from a procfs mount (/proc outside tests
// of parsing). Its buffer makes it unsafe for concurrent use: each
// cleanup makes its own.
type procReader struct {
	proc string
	buf  []byte
}

func newProcReader(proc string) *procReader {
	return &procReader{proc: proc, buf: make([]byte, 0, 1024)}
}

// errGone is returned by procReader.one when the process does not exist (any more).
var errGone = errors.New("no such process")

// one reads a single process; errGone when it has gone.
func (r *procReader) one(pid int) (procInfo, error) {
	b, err := procfile.ReadOnce(filepath.Join(r.proc, strconv.Itoa(pid), "stat"), &r.buf)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
			return procInfo{}, errGone
		}
		return procInfo{}, err
	}
	return parseStat(b)
}

// all reads every process. Processes that vanish while the table is read
// are skipped; only a failure to list the directory is an error.
func (r *procReader) all() (map[int]procInfo, error) {
	entries, err := os.ReadDir(r.proc)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	procs := make(map[int]procInfo, len(entries))
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if p, err := r.one(pid); err == nil {
			procs[pid] = p
		}
	}
	return procs, nil
}

// descendants returns every process of procs below one of roots, following
// ppid links. A root is only followed while procs shows the same process
// (same start time): once a root has been reaped its pid may belong to a
// stranger, whose children are none of our business. Roots are not in the
// result unless they descend from another root.
func descendants(procs map[int]procInfo, roots map[int]procInfo) []procInfo {
	children := make(map[int][]int, len(procs))
	for pid, p := range procs {
		if p.ppid > 0 && p.ppid != pid {
			children[p.ppid] = append(children[p.ppid], pid)
		}
	}
	seen := make(map[int]bool, len(roots))
	var queue []int
	for pid, want := range roots {
		if p, ok := procs[pid]; ok && p.start == want.start {
			queue = append(queue, pid)
		}
	}
	var out []procInfo
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if seen[c] {
				continue
			}
			seen[c] = true
			if _, isRoot := roots[c]; !isRoot {
				out = append(out, procs[c])
			}
			queue = append(queue, c)
		}
	}
	return out
}

// signalProc sends sig to p if p is still the process that was read (same
// pid and start time). It opens a pidfd first and checks the start time
// after: from then on the pidfd names that one process, so the signal cannot
// reach a stranger that was handed the pid meanwhile. It reports whether
// the signal was sent.
func (r *procReader) signalProc(p procInfo, sig unix.Signal) (bool, error) {
	fd, err := unix.PidfdOpen(p.pid, 0)
	switch {
	case errors.Is(err, unix.ESRCH):
		return false, nil
	case errors.Is(err, unix.ENOSYS):
		fd = -1 // kernel before 5.3: check then kill, with the small race that implies
	case err != nil:
		return false, fmt.Errorf("pidfd_open %d: %w", p.pid, err)
	}
	if fd >= 0 {
		defer unix.Close(fd)
	}
	now, err := r.one(p.pid)
	if errors.Is(err, errGone) || (err == nil && now.start != p.start) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if now.exited() {
		return false, nil // signals do nothing to a zombie
	}
	if fd >= 0 {
		err = unix.PidfdSendSignal(fd, sig, nil, 0)
	} else {
		err = unix.Kill(p.pid, sig)
	}
	if errors.Is(err, unix.ESRCH) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("signal %d %s: %w", p.pid, unix.SignalName(sig), err)
	}
	return true, nil
}

// Bounds of one tree kill. A tree that keeps producing new processes past
// them (a fork bomb) is killed as far as it was seen; with the subreaper on,
// the rest reparent to dashd and the next sweep finds them.
const (
	maxFreezeRounds = 32
	maxKillRounds   = 32
)

// killTree kills root's process group and every descendant of root,
// including those that left the group or the session (setsid).
//
// It first stops the tree with SIGSTOP, walking /proc again until a walk
// finds no process it has not stopped yet: a stopped process can neither
// fork nor exit, so the ppid links it is found by stay in place, and a fork
// racing with the signal fails. Then everything found gets SIGKILL, and the
// tree is walked again from every killed process (whose children may have
// been created just before it stopped) until nothing alive is left below
// them. It returns how many processes it signalled to die, root and group
// not counted, and every error met on the way (cleanup goes on past them).
//
// root must be a child of dashd that nobody reaps meanwhile (alive or a
// zombie): then its pid, and the process group named after it, cannot be
// reused while killTree runs.
func killTree(proc string, root int) (int, error) {
	r := newProcReader(proc)
	var errs []error
	// The process group first: one atomic system call for everything that
	// stayed in it. ESRCH only means the group is empty.
	if err := unix.Kill(-root, unix.SIGSTOP); err != nil && !errors.Is(err, unix.ESRCH) {
		errs = append(errs, fmt.Errorf("stop group %d: %w", root, err))
	}
	self, err := r.one(root)
	if err != nil {
		if !errors.Is(err, errGone) {
			errs = append(errs, err)
		}
		self = procInfo{pid: root}
	}
	known := map[int]procInfo{root: self}
	for range maxFreezeRounds {
		procs, err := r.all()
		if err != nil {
			errs = append(errs, err)
			break
		}
		fresh := 0
		for _, p := range descendants(procs, known) {
			if _, ok := known[p.pid]; ok || p.exited() {
				continue
			}
			known[p.pid] = p
			fresh++
			if _, err := r.signalProc(p, unix.SIGSTOP); err != nil {
				errs = append(errs, err)
			}
		}
		if fresh == 0 {
			break
		}
	}

	if err := unix.Kill(-root, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
		errs = append(errs, fmt.Errorf("kill group %d: %w", root, err))
	}
	killed := 0
	kill := func(p procInfo) {
		if p.pid == root {
			if err := unix.Kill(root, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				errs = append(errs, fmt.Errorf("kill %d: %w", root, err))
			}
			return
		}
		ok, err := r.signalProc(p, unix.SIGKILL)
		if err != nil {
			errs = append(errs, err)
		}
		if ok {
			killed++
		}
	}
	for _, p := range known {
		kill(p)
	}
	// Repeat until none is left: children forked just before their parent
	// stopped are found below the (dying) parent.
	for range maxKillRounds {
		procs, err := r.all()
		if err != nil {
			errs = append(errs, err)
			break
		}
		left := 0
		for _, p := range descendants(procs, known) {
			if p.exited() {
				continue
			}
			left++
			if _, ok := known[p.pid]; !ok {
				known[p.pid] = p
				kill(p)
			}
		}
		if left == 0 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	return killed, errors.Join(errs...)
}
