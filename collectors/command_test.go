package collectors

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/procrun"
)

func TestCommandCheck(t *testing.T) {
	tests := []struct {
		name, body, state, reason string
		exitCode                  float64
		detail                    string
	}{
		{"exit 0", "command: [true]", "up", "exit code 0", 0, ""},
		{"non-zero", "command: [sh, -c, 'echo disk full >&2; exit 3']", "down", "exit code 3 (want 0): disk full", 3, "stderr:\ndisk full"},
		{"expected non-zero", "command: [sh, -c, 'exit 3']\nexit_code: 3", "up", "exit code 3", 3, ""},
		{"output matches", "command: [echo, 'OK: 3 backups']\noutput_regex: '^OK: \\d+'", "up", "exit code 0", 0, "stdout:\nOK: 3 backups"},
		{"output does not match", "command: [echo, 'WARN: stale']\noutput_regex: '^OK'", "down", "output does not match ^OK", 0, "WARN: stale"},
		{"no shell unless asked", "command: [echo, '$HOME; exit 1']", "up", "exit code 0", 0, "$HOME; exit 1"},
		{"not found", "command: [dashd-no-such-program]", "down", "start: ", -1, ""},
		{"killed by signal", "command: [sh, -c, 'kill -9 $$$$']", "down", "signal: killed", -1, ""},
		{"output capped", "command: [sh, -c, 'head -c 10000 /dev/zero | tr \"\\\\0\" x']", "up", "exit code 0", 0, "[5904 more bytes not kept]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, mustBuild(t, "command", tt.body), 10*time.Second)
			assertOutcome(t, out, tt.state, tt.reason)
			if tt.exitCode >= 0 && out.Values["exit_code"] != tt.exitCode {
				t.Errorf("exit_code = %v, want %v", out.Values["exit_code"], tt.exitCode)
			}
			if !strings.Contains(out.Detail, tt.detail) {
				t.Errorf("detail = %q, want it to contain %q", out.Detail, tt.detail)
			}
			if len(out.Detail) > 2*maxOutput+200 {
				t.Errorf("detail is %d bytes, not capped", len(out.Detail))
			}
		})
	}
}

// A hung command is killed with its whole process group at the timeout:
// the grandchild it started must not survive.
func TestCommandCheck_TimeoutKillsGroup(t *testing.T) {
	pidfile := filepath.Join(t.TempDir(), "grandchild.pid")
	ch := mustBuild(t, "command", "command: [sh, -c, 'sleep 30 & echo $! > "+pidfile+"; wait']")
	start := time.Now()
	out := run(t, ch, 500*time.Millisecond)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("run took %s with a 500ms timeout", took)
	}
	assertOutcome(t, out, "down", "timeout")

	data, err := os.ReadFile(pidfile)
	if err != nil {
		t.Fatalf("the command never wrote its grandchild's pid: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	// Orphans are reparented to PID 1, which may be slow to reap (or never
	// reap, in a container): dead-but-unreaped counts as gone.
	eventually(t, 5*time.Second, "grandchild "+strconv.Itoa(pid)+" to die", func() bool {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			return true
		}
		return isZombie(filepath.Join("/proc", strconv.Itoa(pid))) || !bytes.Contains(stat, []byte("(sleep)"))
	})
}

// A child that calls setsid leaves the command's process group (and one
// that sets up its own group leaves it too), so a group kill misses it: the
// timeout must kill every descendant.
func TestCommandCheck_TimeoutKillsEveryDescendant(t *testing.T) {
	tests := []struct{ name, script string }{
		{"setsid child", "SETSID; sleep 300"},
		// bash, since dash has no job control without a terminal.
		{"own process group", "bash -c 'set -m; sleep 300 & echo $! > PIDFILE; sleep 300' & sleep 300"},
		{"setsid grandchild", "sh -c 'SETSID; sleep 300' & sleep 300"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "pid")
			t.Cleanup(func() { killLeftovers(pidfile) })
			ch := mustBuild(t, "command", "command: [sh, -c, "+strconv.Quote(strings.NewReplacer("SETSID", detachedSleep(pidfile), "PIDFILE", pidfile).Replace(tt.script))+"]")
			start := time.Now()
			out := run(t, ch, time.Second)
			if took := time.Since(start); took > 10*time.Second {
				t.Errorf("run took %s with a 1s timeout", took)
			}
			assertOutcome(t, out, "down", "timeout")
			pids := readPids(t, pidfile)
			eventually(t, 5*time.Second, fmt.Sprintf("descendants %v to die", pids), func() bool { return noneAlive(pids) })
		})
	}
}

// A command that exits 0 at once but leaves a detached child holding its
// stdout is up, with its output, as soon as the wait delay has passed: the
// leftover is not the command's business and not a timeout. With the
// subreaper, the leftover is killed when the run ends, so the pipe closes
// at once and nothing is left.
func TestCommandCheck_DetachedChildHoldingOutput(t *testing.T) {
	tests := []struct {
		name      string
		subreaper bool
	}{
		{"without subreaper", false},
		{"with subreaper", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pidfile := filepath.Join(t.TempDir(), "pid")
			t.Cleanup(func() { killLeftovers(pidfile) })
			ch := mustBuild(t, "command", "command: [sh, -c, "+strconv.Quote("echo started; "+detachedSleep(pidfile)+"; exit 0")+"]")
			// Below the 2 s wait delay dashd had before: then the run
			// waited for the pipe past the timeout and reported one.
			ctx, cancel := context.WithTimeout(context.Background(), 1900*time.Millisecond)
			defer cancel()
			if tt.subreaper {
				ctx = runReaper(t, ctx)
			}
			start := time.Now()
			out := ch.Run(ctx)
			took := time.Since(start)
			assertOutcome(t, out, "up", "exit code 0")
			if !strings.Contains(out.Detail, "started") {
				t.Errorf("detail = %q, want the output written before the exit", out.Detail)
			}
			if took > 5*time.Second {
				t.Errorf("run took %s: it should end about %s after the exit", took, waitDelay)
			}
			if tt.subreaper {
				pids := readPids(t, pidfile)
				if !noneAlive(pids) {
					t.Errorf("detached child %v still runs after the run", pids)
				}
			}
		})
	}
}

func TestCappedBuffer(t *testing.T) {
	b := &procrun.CappedBuffer{Max: 5}
	for _, s := range []string{"abc", "defg", "hij"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatalf("Write(%q) = %d, %v: must accept everything so the command never blocks", s, n, err)
		}
	}
	if got := b.String(); got != "abcde\n[5 more bytes not kept]" {
		t.Errorf("String() = %q", got)
	}
}
