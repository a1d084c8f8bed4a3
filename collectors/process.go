package collectors

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/dashd/dashd/config"
	"github.com/shirou/gopsutil/v3/process"
)

// ProcessSpec configures a process check: count the processes that match and
// report their CPU and memory.
//
// The key is `process_name`, not `name`: `name` is the check's own name.
type ProcessSpec struct {
	// ProcessName matches the executable name exactly (as ps -e shows it).
	ProcessName string `yaml:"process_name"`
	// Cmdline is a regular expression over the full command line
	// (arguments joined by spaces). With ProcessName both must match.
	Cmdline string `yaml:"cmdline"`
	// Pidfile holds the PID of the one process to watch.
	Pidfile string `yaml:"pidfile"`
	// MinCount matching processes are needed to be up (default 1).
	MinCount int `yaml:"min_count"`
	// MaxCount is the most matching processes allowed; absent means no limit.
	MaxCount int `yaml:"max_count"`
}

func newProcessSpec() *ProcessSpec { return &ProcessSpec{MinCount: 1, MaxCount: -1} }

// Validate reports problems with positions.
func (p *ProcessSpec) Validate(s config.Scope) {
	switch {
	case p.Pidfile != "" && (p.ProcessName != "" || p.Cmdline != ""):
		s.Errorf("pidfile", "cannot be combined with process_name or cmdline")
	case p.Pidfile == "" && p.ProcessName == "" && p.Cmdline == "":
		s.Errorf("process_name", "missing required key (one of process_name, cmdline, pidfile)")
	}
	if p.Cmdline != "" {
		if _, err := regexp.Compile(p.Cmdline); err != nil {
			s.Errorf("cmdline", "invalid regular expression: %v", err)
		}
	}
	if p.MinCount < 0 {
		s.Errorf("min_count", "must not be negative, got %d", p.MinCount)
	}
	if s.Has("max_count") {
		switch {
		case p.MaxCount < 0:
			s.Errorf("max_count", "must not be negative, got %d", p.MaxCount)
		case p.MaxCount < p.MinCount:
			s.Errorf("max_count", "must not be less than min_count (%d), got %d", p.MinCount, p.MaxCount)
		}
	}
}

type processCheck struct {
	name    string
	re      *regexp.Regexp
	pidfile string
	min     int
	max     int // -1: no limit
	proc    string

	// mu guards seen: runs do not overlap, but Run must stay safe if a
	// caller other than the Runner ever overlaps them.
	mu sync.Mutex
	// seen keeps the gopsutil handle of every matched PID so Percent(0)
	// measures CPU since the previous run, not since the process started.
	seen map[int32]*process.Process
}

var _ Check = (*processCheck)(nil)

func (p *ProcessSpec) build(config.Check) (Check, error) {
	pc := &processCheck{name: p.ProcessName, pidfile: p.Pidfile, min: p.MinCount, max: p.MaxCount,
		proc: hostProc(), seen: map[int32]*process.Process{}}
	if p.Cmdline != "" {
		re, err := regexp.Compile(p.Cmdline)
		if err != nil {
			return nil, fmt.Errorf("cmdline: %w", err)
		}
		pc.re = re
	}
	return pc, nil
}

// hostProc honours HOST_PROC the way gopsutil does (containers mount the
// host's /proc elsewhere).
func hostProc() string {
	if v := os.Getenv("HOST_PROC"); v != "" {
		return v
	}
	return "/proc"
}

// Run lists matching processes and sums their CPU and RSS.
func (p *processCheck) Run(ctx context.Context) Outcome {
	pids, fail := p.match(ctx)
	if fail != "" {
		return down(fail)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var cpu, rss float64
	next := make(map[int32]*process.Process, len(pids))
	for _, pid := range pids {
		h := p.seen[pid]
		if h == nil {
			var err error
			if h, err = process.NewProcessWithContext(ctx, pid); err != nil {
				continue // exited meanwhile
			}
		}
		next[pid] = h
		// The first call only primes the CPU counters and returns 0.
		if pct, err := h.PercentWithContext(ctx, 0); err == nil {
			cpu += pct
		}
		if mem, err := h.MemoryInfoWithContext(ctx); err == nil {
			rss += float64(mem.RSS)
		}
	}
	p.seen = next
	out := p.judge(len(pids))
	out.Values = map[string]float64{"count": float64(len(pids)), "cpu_percent": cpu, "rss_bytes": rss}
	return out
}

func (p *processCheck) judge(n int) Outcome {
	what := "process"
	if n != 1 {
		what = "processes"
	}
	switch {
	case n < p.min && n == 0:
		return down(p.noneReason())
	case n < p.min:
		return downf("%d %s, want at least %d", n, what, p.min)
	case p.max >= 0 && n > p.max:
		return downf("%d %s, want at most %d", n, what, p.max)
	}
	return up(fmt.Sprintf("%d %s", n, what))
}

func (p *processCheck) noneReason() string {
	switch {
	case p.pidfile != "":
		return "no process for pidfile " + p.pidfile
	case p.name != "":
		return fmt.Sprintf("no process named %q", p.name)
	default:
		return "no process matches " + shorten(p.re.String(), 60)
	}
}

// match returns the PIDs of running (non-zombie) processes that match, or a
// failure reason.
func (p *processCheck) match(ctx context.Context) ([]int32, string) {
	if p.pidfile != "" {
		data, err := os.ReadFile(p.pidfile)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, ""
			}
			return nil, "pidfile: " + errReason(err)
		}
		pid, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
		if err != nil || pid <= 0 {
			return nil, fmt.Sprintf("pidfile %s: no PID in it", p.pidfile)
		}
		if p.alive(int32(pid)) {
			return []int32{int32(pid)}, ""
		}
		return nil, ""
	}
	entries, err := os.ReadDir(p.proc)
	if err != nil {
		return nil, "list processes: " + errReason(err)
	}
	var pids []int32
	for _, e := range entries {
		if ctx.Err() != nil {
			return nil, errReason(ctx.Err())
		}
		pid, err := strconv.ParseInt(e.Name(), 10, 32)
		if err != nil {
			continue
		}
		if p.matches(int32(pid)) {
			pids = append(pids, int32(pid))
		}
	}
	return pids, ""
}

// matches reads /proc directly: comm and cmdline are small files, while
// gopsutil's Name parses all of /proc/PID/status for every process on the host.
func (p *processCheck) matches(pid int32) bool {
	dir := filepath.Join(p.proc, strconv.Itoa(int(pid)))
	var argv []string
	cmdline := func() []string {
		if argv == nil {
			raw, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
			raw = bytes.TrimRight(raw, "\x00")
			argv = strings.Split(string(raw), "\x00")
		}
		return argv
	}
	if p.name != "" {
		comm, err := os.ReadFile(filepath.Join(dir, "comm"))
		if err != nil {
			return false
		}
		if !nameMatches(p.name, strings.TrimSpace(string(comm)), cmdline) {
			return false
		}
	}
	if p.re != nil {
		a := cmdline()
		if len(a) == 0 || a[0] == "" || !p.re.MatchString(strings.Join(a, " ")) {
			return false // kernel threads have no command line
		}
	}
	return !isZombie(dir)
}

// nameMatches compares a wanted name with comm, which the kernel truncates
// to 15 bytes; longer names are completed from argv[0] as gopsutil does.
func nameMatches(want, comm string, cmdline func() []string) bool {
	if comm == want {
		return true
	}
	if len(comm) < 15 || !strings.HasPrefix(want, comm) {
		return false
	}
	a := cmdline()
	return len(a) > 0 && filepath.Base(a[0]) == want
}

func (p *processCheck) alive(pid int32) bool {
	dir := filepath.Join(p.proc, strconv.Itoa(int(pid)))
	if _, err := os.Stat(dir); err != nil {
		return false
	}
	return !isZombie(dir)
}

// isZombie reads the state letter from /proc/PID/stat: a zombie has exited
// and only waits for its parent, so it is not a running service.
func isZombie(dir string) bool {
	stat, err := os.ReadFile(filepath.Join(dir, "stat"))
	if err != nil {
		return true // gone
	}
	// The state follows the last ')' (the command name may contain ')').
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false
	}
	return stat[i+2] == 'Z' || stat[i+2] == 'X'
}
