package system

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/grid"
	"github.com/dashd/dashd/internal/procfile"
)

// openFDs counts this process's open descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// TestSampler_RunClosesFiles: the /proc files kept open between ticks are
// closed when Run returns, on the real host and on a fixture tree.
func TestSampler_RunClosesFiles(t *testing.T) {
	tests := []struct {
		name    string
		sampler func(t *testing.T) *Sampler
	}{
		{"real host", func(*testing.T) *Sampler {
			return New(Options{Interval: 10 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
		}},
		{"fixture", func(t *testing.T) *Sampler {
			return newFixtureSampler(newFixtureHost(t, "tick1"), Options{Interval: 10 * time.Millisecond, Now: time.Now})
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := tt.sampler(t)
			before := openFDs(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			during := 0
			n := 0
			if err := s.Run(ctx, func(Snapshot) {
				n++
				if n == 2 {
					during = openFDs(t)
				}
				if n == 3 {
					cancel()
				}
			}); err != nil {
				t.Fatal(err)
			}
			if after := openFDs(t); after != before {
				t.Errorf("%d descriptors open before Run, %d after", before, after)
			}
			if during < before+7 {
				t.Errorf("%d descriptors open during Run, %d before: per-tick files not kept open", during, before)
			}
		})
	}
}

// TestSampler_RunAligned: after the first tick (at once), ticks land on
// wall-clock multiples of the interval. Run starts half an interval after a
// multiple, where an unaligned ticker would stay. Tolerances are generous:
// the machine is shared and noisy.
func TestSampler_RunAligned(t *testing.T) {
	const interval = 300 * time.Millisecond
	s := newFixtureSampler(newFixtureHost(t, "tick1"), Options{Interval: interval, TopN: -1, Now: time.Now})
	time.Sleep(time.Until(grid.Next(time.Now(), interval).Add(interval / 2)))
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var ticks []time.Time
	if err := s.Run(ctx, func(Snapshot) {
		ticks = append(ticks, time.Now())
		if len(ticks) == 5 {
			cancel()
		}
	}); err != nil {
		t.Fatal(err)
	}
	if d := ticks[0].Sub(start); d > interval/2 {
		t.Errorf("first tick %v after Run started, want at once", d)
	}
	late := 0
	for i, tk := range ticks[1:] {
		phase := time.Duration(tk.UnixNano() % int64(interval))
		if phase > interval/3 {
			late++
			t.Logf("tick %d at %v after a multiple", i+1, phase)
		}
		if i > 0 && tk.Sub(ticks[i]) < interval/2 { // i == 0: from the immediate first tick
			t.Errorf("tick %d only %v after the previous one", i+1, tk.Sub(ticks[i]))
		}
	}
	if late > 1 {
		t.Errorf("%d of %d ticks more than %v after a multiple of %v", late, len(ticks)-1, interval/3, interval)
	}
}

// TestSampler_RunClockSteps: wall-clock steps back and forward by an hour
// neither stall Run nor make it spin.
func TestSampler_RunClockSteps(t *testing.T) {
	const interval = 20 * time.Millisecond
	var mu sync.Mutex
	var offset time.Duration
	now := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return time.Now().Add(offset)
	}
	s := newFixtureSampler(newFixtureHost(t, "tick1"), Options{Interval: interval, TopN: -1, Now: now})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	n := 0
	if err := s.Run(ctx, func(Snapshot) {
		n++
		mu.Lock()
		switch n {
		case 3:
			offset = -time.Hour
		case 6:
			offset = time.Hour + 7*time.Millisecond
		case 9:
			offset = 0
		case 12:
			cancel()
		}
		mu.Unlock()
	}); err != nil {
		t.Fatal(err)
	}
	el := time.Since(start)
	if el > 20*time.Second {
		t.Errorf("12 ticks took %v at %v: stalled", el, interval)
	}
	// At most one tick per interval, plus the first and some slack.
	if max := int(el/interval) + 3; n > max {
		t.Errorf("%d ticks in %v: spinning", n, el)
	}
}

// startSleeps starts n child processes that sleep; the test's cleanup kills
// and reaps those still running.
func startSleeps(t *testing.T, n int) []*exec.Cmd {
	t.Helper()
	var cmds []*exec.Cmd
	t.Cleanup(func() {
		for _, c := range cmds {
			stopChild(c)
		}
	})
	for range n {
		c := exec.Command("sleep", "30")
		if err := c.Start(); err != nil {
			t.Skipf("cannot start a child process: %v", err)
		}
		cmds = append(cmds, c)
	}
	return cmds
}

// stopChild kills c and reaps it, so its PID leaves /proc; a child already
// reaped is left alone.
func stopChild(c *exec.Cmd) {
	if c.ProcessState != nil {
		return
	}
	_ = c.Process.Kill()
	_ = c.Wait() // "signal: killed"
}

// procStatFDs maps this process's descriptors open on /proc/PID/stat to
// that PID.
func procStatFDs(t *testing.T) map[int]int32 {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]int32{}
	for _, e := range es {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // the directory's own descriptor, already closed
		}
		rest, ok := strings.CutPrefix(target, "/proc/")
		if !ok {
			continue
		}
		pid, ok := strings.CutSuffix(rest, "/stat")
		if !ok {
			continue
		}
		p, err1 := strconv.Atoi(pid)
		fd, err2 := strconv.Atoi(e.Name())
		if err1 == nil && err2 == nil {
			out[fd] = int32(p)
		}
	}
	return out
}

// checkProcFDs checks the Sampler's count of kept /proc/PID/stat descriptors
// against its entries and against /proc/self/fd, where descriptors in
// others (open before the Sampler started) are not its own.
func checkProcFDs(t *testing.T, s *Sampler, others map[int]int32, when string) {
	t.Helper()
	open := procStatFDs(t)
	for fd := range others {
		delete(open, fd)
	}
	kept := 0
	for pid, e := range s.procs {
		if e.fd < 0 {
			continue
		}
		kept++
		if open[e.fd] != pid {
			t.Errorf("%s: PID %d keeps fd %d, which is open on /proc/%d/stat", when, pid, e.fd, open[e.fd])
		}
	}
	if kept != s.procFDs || len(open) != kept || kept > s.procFDMax {
		t.Errorf("%s: %d entries keep a descriptor, count says %d, %d open on /proc/PID/stat, budget %d",
			when, kept, s.procFDs, len(open), s.procFDMax)
	}
}

// TestSampler_RunKeepsProcFDs: process refreshes keep /proc/PID/stat open
// within the budget, drop processes that exited along with their
// descriptors, re-read survivors through the same descriptor, and leak
// nothing once Run returns.
func TestSampler_RunKeepsProcFDs(t *testing.T) {
	// Warm up exec (it opens /dev/null and holds a pidfd per child until
	// Wait) so that the baseline below is stable.
	if err := exec.Command("true").Run(); err != nil {
		t.Skipf("cannot run a child process: %v", err)
	}
	tests := []struct {
		name   string
		budget int // -1: the one New computes
	}{
		{"default budget", -1},
		{"budget of 3", 3},
		{"no budget", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, others := openFDs(t), procStatFDs(t)
			kids := startSleeps(t, 4)
			// Interval 10 ms; a fake clock two seconds further at every
			// reading, so every tick runs a process refresh.
			s := New(Options{Interval: 10 * time.Millisecond, ProcessInterval: time.Second,
				Now: fakeClock(time.Now(), time.Second), Logger: slog.New(slog.DiscardHandler)})
			if tt.budget >= 0 {
				s.procFDMax = tt.budget
			}
			if s.procFDMax <= 0 && tt.budget != 0 {
				t.Fatalf("budget %d: no descriptors would be kept", s.procFDMax)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			kept := map[int32]int{} // surviving child PID -> its kept fd
			n := 0
			if err := s.Run(ctx, func(Snapshot) {
				n++
				checkProcFDs(t, s, others, fmt.Sprintf("tick %d", n))
				switch n {
				case 2:
					for _, c := range kids {
						e := s.procs[int32(c.Process.Pid)]
						if e == nil {
							t.Errorf("child %d not listed", c.Process.Pid)
							continue
						}
						if tt.budget < 0 && len(s.procs) < s.procFDMax && e.fd < 0 {
							t.Errorf("child %d: no descriptor kept with %d processes, budget %d", c.Process.Pid, len(s.procs), s.procFDMax)
						}
						kept[int32(c.Process.Pid)] = e.fd
					}
					stopChild(kids[0])
					stopChild(kids[1])
				case 3:
					for i, c := range kids {
						pid := int32(c.Process.Pid)
						e := s.procs[pid]
						switch {
						case i < 2 && e != nil:
							t.Errorf("killed child %d still listed", pid)
						case i >= 2 && e == nil:
							t.Errorf("running child %d dropped", pid)
						case i >= 2 && kept[pid] >= 0 && e.fd != kept[pid]:
							t.Errorf("running child %d: fd %d, was %d: not re-read in place", pid, e.fd, kept[pid])
						}
					}
					cancel()
				}
			}); err != nil {
				t.Fatal(err)
			}
			if n < 3 {
				t.Fatalf("only %d ticks", n)
			}
			if open := procStatFDs(t); len(open) != len(others) || s.procFDs != 0 {
				t.Errorf("after Run: %d descriptors on /proc/PID/stat open (count %d): %v", len(open), s.procFDs, open)
			}
			for _, c := range kids {
				stopChild(c)
			}
			if after := openFDs(t); after != base {
				t.Errorf("%d descriptors open before, %d after", base, after)
			}
		})
	}
}

// TestSampler_ProcFDPIDReuse: a kept descriptor belongs to the task it was
// opened on. Once that task has exited and its PID belongs to another
// process, the read fails, and the PID is read afresh as a new process (no
// CPU rate from the old one's ticks), even with the same start time.
// Simulated by handing the entry of one child the descriptor and start time
// of another that has exited.
func TestSampler_ProcFDPIDReuse(t *testing.T) {
	others := procStatFDs(t)
	kids := startSleeps(t, 2)
	a, b := int32(kids[0].Process.Pid), int32(kids[1].Process.Pid)
	ctx := context.Background()
	s := New(Options{Logger: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() {
		if err := s.close(); err != nil {
			t.Error(err)
		}
	})
	t0 := time.Now()
	if err := s.refreshProcs(ctx, t0); err != nil {
		t.Fatal(err)
	}
	old := s.procs[a]
	if old == nil || s.procs[b] == nil {
		t.Fatalf("children %d, %d not listed", a, b)
	}
	if old.fd < 0 {
		t.Skipf("%d processes, budget %d: child not kept", len(s.procs), s.procFDMax)
	}
	var buf []byte
	_, dead, err := procfile.OpenAndRead([]byte(fmt.Sprintf("/proc/%d/stat", b)), &buf)
	if err != nil {
		t.Fatal(err)
	}
	bStart := s.procs[b].start
	stopChild(kids[1])
	if _, err := procfile.PreadWhole(dead, &buf); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("read after the task exited: %v, want ESRCH", err)
	}
	// a's entry now looks like one kept for an older process that had PID a.
	if err := syscall.Close(old.fd); err != nil {
		t.Fatal(err)
	}
	old.fd, old.start = dead, bStart
	if err := s.refreshProcs(ctx, t0.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	e := s.procs[a]
	// Not e.start != bStart: children started together often share a start
	// tick, the case only the failed descriptor catches.
	if e == nil || e == old || e.fd < 0 {
		t.Fatalf("PID %d after reuse: entry %+v (old %p, new %p)", a, e, old, e)
	}
	if old.fd != -1 {
		t.Errorf("old entry still holds fd %d", old.fd)
	}
	if s.procs[b] != nil {
		t.Errorf("exited child %d still listed", b)
	}
	for _, p := range append(s.top.ByCPU, s.top.ByMemory...) {
		if p.PID == a && p.CPUPercent != 0 {
			t.Errorf("reused PID %d has a CPU rate from the old process: %+v", a, p)
		}
	}
	checkProcFDs(t, s, others, "after reuse")
}
