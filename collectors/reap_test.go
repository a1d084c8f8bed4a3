package collectors

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/procrun"
	"github.com/dashd/dashd/model"
)

// startTestReaper runs a reaper, as a Runner with Subreaper does, until the
// test ends.
func startTestReaper(t testing.TB) *reaper {
	t.Helper()
	p := newReaper(quietLogger())
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Run(ctx, ready)
	}()
	if err := <-ready; err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return p
}

// runReaper returns ctx carrying a running reaper, the way the Runner hands
// it to command checks.
func runReaper(t testing.TB, ctx context.Context) context.Context {
	t.Helper()
	return withReaper(ctx, startTestReaper(t))
}

// detachedSleep is shell code that starts `setsid sleep 300` in the
// background, appends its pid to pidfile, and waits until it runs (out of
// the command's process group and session).
func detachedSleep(pidfile string) string {
	return `setsid sleep 300 & p=$!; echo $p >> ` + pidfile + `; while [ "$(cat /proc/$p/comm)" != sleep ]; do sleep 0.01; done`
}

// readPids reads the pids a test script wrote, one per line.
func readPids(t *testing.T, path string) []int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the command never wrote its descendants' pids: %v", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if len(pids) == 0 {
		t.Fatalf("%s is empty", path)
	}
	return pids
}

// sleepAlive reports whether pid is a live (not zombie) sleep process:
// every leftover the tests make is a sleep, which makes a reused pid
// unlikely to be mistaken for one.
func sleepAlive(pid int) bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid))
	comm, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil || strings.TrimSpace(string(comm)) != "sleep" {
		return false
	}
	return !isZombie(dir)
}

func noneAlive(pids []int) bool {
	for _, pid := range pids {
		if sleepAlive(pid) {
			return false
		}
	}
	return true
}

// killLeftovers kills the sleeps a failed test left, so that a failure
// does not leave 300 s processes on the machine.
func killLeftovers(pidfile string) {
	data, _ := os.ReadFile(pidfile)
	for _, f := range strings.Fields(string(data)) {
		if pid, err := strconv.Atoi(f); err == nil && sleepAlive(pid) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// ownChildren lists the test process's children, zombies included.
func ownChildren(t *testing.T) []procInfo {
	t.Helper()
	procs, err := newProcReader("/proc").all()
	if err != nil {
		t.Fatal(err)
	}
	var out []procInfo
	for _, p := range procs {
		if p.ppid == os.Getpid() {
			out = append(out, p)
		}
	}
	return out
}

// A double-forked daemon (its parent exits at once) escapes any walk of the
// command's tree; with the Runner's subreaper it reparents to dashd and is
// killed and reaped when the run ends.
func TestRunner_SubreaperKillsDoubleForkedOrphan(t *testing.T) {
	if on, err := subreaper(); err != nil || on {
		t.Fatalf("subreaper before the test = %v, %v; want off", on, err)
	}
	pidfile := filepath.Join(t.TempDir(), "pid")
	t.Cleanup(func() { killLeftovers(pidfile) })
	cfg, err := parseChecks(checkYAML("command", "interval: 1h\ntimeout: 5s\ncommand: [sh, -c, "+strconv.Quote(detachedSleep(pidfile)+"; exit 0")+"]"))
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	r := NewRunner(RunnerOptions{Subreaper: true, Logger: quietLogger(), MaxStartDelay: time.Millisecond, Sink: rec})
	if err := r.Apply(cfg.Checks); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v", err)
		}
	}
	defer stop()

	eventually(t, 10*time.Second, "a result", func() bool { _, res := rec.snapshot(); return len(res) > 0 })
	if on, err := subreaper(); err != nil || !on {
		t.Errorf("subreaper while the Runner runs = %v, %v; want on", on, err)
	}
	_, res := rec.snapshot()
	if res[0].State != model.StateUp || res[0].Reason != "exit code 0" {
		t.Errorf("result = %s %q, want up, exit code 0", res[0].State, res[0].Reason)
	}
	pids := readPids(t, pidfile)
	eventually(t, 5*time.Second, fmt.Sprintf("orphan %v to be gone", pids), func() bool { return noneAlive(pids) })

	stop()
	if on, err := subreaper(); err != nil || on {
		t.Errorf("subreaper after Run returned = %v, %v; want off again", on, err)
	}
	if kids := ownChildren(t); len(kids) != 0 {
		t.Errorf("children left after Run: %+v", kids)
	}
}

// Twenty runs that time out or leave a double-forked daemon leave nothing:
// no descendant alive, no child of the test process, no zombie.
func TestReaper_ManyRunsLeaveNothing(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "pids")
	t.Cleanup(func() { killLeftovers(pidfile) })
	ctx := runReaper(t, context.Background())
	tests := []struct {
		name, script string
		timeout      time.Duration
		state        string
	}{
		{"setsid child, timeout", detachedSleep(pidfile) + "; sleep 300", 500 * time.Millisecond, "down"},
		{"double fork, exit 0", detachedSleep(pidfile) + "; exit 0", 10 * time.Second, "up"},
	}
	for i := range 20 {
		tt := tests[i%len(tests)]
		ch := mustBuild(t, "command", "command: [sh, -c, "+strconv.Quote(tt.script)+"]")
		rctx, cancel := context.WithTimeout(ctx, tt.timeout)
		out := ch.Run(rctx)
		cancel()
		if out.State.String() != tt.state {
			t.Errorf("run %d (%s) = %s %q, want %s", i, tt.name, out.State, out.Reason, tt.state)
		}
	}
	pids := readPids(t, pidfile)
	if len(pids) != 20 {
		t.Errorf("%d pids recorded, want 20", len(pids))
	}
	eventually(t, 5*time.Second, "every descendant to be gone", func() bool { return noneAlive(pids) })
	if kids := ownChildren(t); len(kids) != 0 {
		t.Errorf("children (orphans or zombies) left after the runs: %+v", kids)
	}
}

// The reaper must only touch orphans: children other dashd code starts in
// dashd's process group keep running and keep their exit status for their
// own Wait, command roots are never orphans, and an orphan of a run that is
// still going is spared until that run ends.
func TestReaper_TouchesOnlyOrphans(t *testing.T) {
	p := startTestReaper(t)

	t.Run("child in dashd's process group", func(t *testing.T) {
		cmd := exec.Command("sh", "-c", "sleep 0.5; exit 7")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waited := make(chan error, 1)
		go func() { waited <- cmd.Wait() }()
		deadline := time.After(10 * time.Second)
	sweeping:
		for {
			p.sweep()
			select {
			case err := <-waited:
				if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 7 {
					t.Errorf("Wait = %v, state %v; want exit status 7, untouched by sweeps", err, cmd.ProcessState)
				}
				break sweeping
			case <-deadline:
				t.Fatal("the child never exited")
			case <-time.After(5 * time.Millisecond):
			}
		}
	})

	t.Run("running command root and its orphan", func(t *testing.T) {
		pidfile := filepath.Join(t.TempDir(), "pid")
		t.Cleanup(func() { killLeftovers(pidfile) })
		// The subshell exits at once: its setsid sleep is an orphan while
		// the root still runs.
		cmd := exec.Command("sh", "-c", "("+detachedSleep(pidfile)+"); sleep 300")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := p.start(cmd); err != nil {
			t.Fatal(err)
		}
		root := cmd.Process.Pid
		waited := false
		defer func() {
			if !waited {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
			}
			p.forget(root)
		}()
		eventually(t, 5*time.Second, "the orphan to reparent to the test process", func() bool {
			data, err := os.ReadFile(pidfile)
			if err != nil || len(data) == 0 {
				return false
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
			info, err := newProcReader("/proc").one(pid)
			return err == nil && info.ppid == os.Getpid() && sleepAlive(pid)
		})
		orphan := readPids(t, pidfile)
		p.sweep()
		if !isRunning(root) {
			t.Errorf("sweep killed the running command root %d", root)
		}
		if noneAlive(orphan) {
			t.Errorf("sweep killed orphan %v while the run that made it still runs", orphan)
		}

		if _, err := killTree(procRoot, root); err != nil {
			t.Errorf("killTree: %v", err)
		}
		if err := procrun.WaitExit(root); err != nil {
			t.Fatal(err)
		}
		p.ended(root)
		if !noneAlive(orphan) {
			t.Errorf("orphan %v still runs after its run ended", orphan)
		}
		// The ended run's root is a zombie until its own Wait: the sweep
		// must have left it, and its status, alone.
		waited = true
		err := cmd.Wait()
		if cmd.ProcessState == nil || cmd.ProcessState.String() != "signal: killed" {
			t.Errorf("root's Wait = %v, state %v; want its own status (signal: killed)", err, cmd.ProcessState)
		}
	})
}

// isRunning reports whether pid exists and has not exited.
func isRunning(pid int) bool {
	info, err := newProcReader("/proc").one(pid)
	return err == nil && !info.exited()
}

// Sweeps running all the time never mistake a command root that is being
// started for an orphan: start holds the lock sweep takes from fork to
// registration.
func TestReaper_SweepRacingStart(t *testing.T) {
	p := startTestReaper(t)
	ctx := withReaper(context.Background(), p)
	stop := make(chan struct{})
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		for {
			select {
			case <-stop:
				return
			default:
				p.sweep()
			}
		}
	}()
	defer func() {
		close(stop)
		<-swept
	}()
	ch := mustBuild(t, "command", "command: [sh, -c, 'exit 3']\nexit_code: 3")
	for i := range 100 {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		out := ch.Run(rctx)
		cancel()
		if out.State != model.StateUp || out.Reason != "exit code 3" {
			t.Fatalf("run %d = %s %q, want up, exit code 3", i, out.State, out.Reason)
		}
	}
}

// What the subreaper adds to a command run: one sweep (a read of every
// /proc/PID/stat) when the run ends. Run: go test -run '^$' -bench Reaper ./collectors/
func BenchmarkReaper(b *testing.B) {
	p := startTestReaper(b)
	b.Run("sweep", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p.sweep()
		}
	})
	b.Run("command run", func(b *testing.B) {
		ch := mustBuild(b, "command", "command: [true]")
		ctx := withReaper(context.Background(), p)
		b.ReportAllocs()
		for b.Loop() {
			if out := ch.Run(ctx); out.State != model.StateUp {
				b.Fatalf("%s %s", out.State, out.Reason)
			}
		}
	})
}
