package collectors

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// startSleepers starts n processes named name (a symlink to sleep, so comm
// and argv[0] carry the name) with a unique argument, killed at cleanup.
func startSleepers(t *testing.T, name, arg string, n int) []*exec.Cmd {
	t.Helper()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Fatalf("sleep not found: %v", err)
	}
	link := filepath.Join(t.TempDir(), name)
	if err := os.Symlink(sleep, link); err != nil {
		t.Fatal(err)
	}
	var cmds []*exec.Cmd
	for range n {
		cmd := exec.Command(link, arg)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	}
	return cmds
}

func TestProcessCheck(t *testing.T) {
	// Longer than the 15 bytes the kernel keeps in comm.
	name := fmt.Sprintf("dashd-test-sleeper-%d", os.Getpid())
	arg := fmt.Sprintf("3000.%d", os.Getpid()) // unique, and still a valid duration for sleep
	cmds := startSleepers(t, name, arg, 2)

	dir := t.TempDir()
	livePid := filepath.Join(dir, "live.pid")
	if err := os.WriteFile(livePid, []byte(strconv.Itoa(cmds[0].Process.Pid)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPid := filepath.Join(dir, "dead.pid")
	if err := os.WriteFile(deadPid, []byte(strconv.Itoa(dead.Process.Pid)), 0o600); err != nil {
		t.Fatal(err)
	}
	junkPid := filepath.Join(dir, "junk.pid")
	if err := os.WriteFile(junkPid, []byte("not a pid"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, body, state, reason string
		count                     float64
	}{
		{"by name", "process_name: " + name, "up", "2 processes", 2},
		{"by name too many", "process_name: " + name + "\nmax_count: 1", "down", "2 processes, want at most 1", 2},
		{"by name too few", "process_name: " + name + "\nmin_count: 3", "down", "2 processes, want at least 3", 2},
		{"truncated comm as ps shows it", "process_name: " + name[:15], "up", "2 processes", 2},
		{"same 15-byte prefix, other name", "process_name: " + name + "-other", "down", "no process named", 0},
		{"by cmdline", "cmdline: 'sleeper-[0-9]+ " + arg + "$'", "up", "2 processes", 2},
		{"name and cmdline", "process_name: " + name + "\ncmdline: ' 3000\\.'", "up", "2 processes", 2},
		{"cmdline no match", "cmdline: 'dashd-no-such-process-[x]'", "down", "no process matches dashd-no-such-process-[x]", 0},
		{"none allowed", "cmdline: 'dashd-no-such-process-[x]'\nmin_count: 0\nmax_count: 0", "up", "0 processes", 0},
		{"pidfile", "pidfile: " + livePid, "up", "1 process", 1},
		{"pidfile of exited process", "pidfile: " + deadPid, "down", "no process for pidfile", 0},
		{"pidfile missing", "pidfile: " + filepath.Join(dir, "none.pid"), "down", "no process for pidfile", 0},
		{"pidfile junk", "pidfile: " + junkPid, "down", "no PID in it", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := mustBuild(t, "process", tt.body)
			out := run(t, ch, 10*time.Second)
			assertOutcome(t, out, tt.state, tt.reason)
			if out.Values["count"] != tt.count {
				t.Errorf("count = %v, want %v", out.Values["count"], tt.count)
			}
			if tt.count > 0 && out.Values["rss_bytes"] <= 0 {
				t.Errorf("rss_bytes = %v, want > 0", out.Values["rss_bytes"])
			}
			if tt.count > 0 {
				// The second run measures CPU over the gap between runs.
				out = run(t, ch, 10*time.Second)
				if cpu, ok := out.Values["cpu_percent"]; !ok || cpu < 0 || cpu > 100 {
					t.Errorf("cpu_percent = %v (present %v)", cpu, ok)
				}
			}
		})
	}

	t.Run("process exits", func(t *testing.T) {
		ch := mustBuild(t, "process", "pidfile: "+livePid)
		assertOutcome(t, run(t, ch, 10*time.Second), "up", "1 process")
		_ = cmds[0].Process.Kill()
		_ = cmds[0].Wait()
		assertOutcome(t, run(t, ch, 10*time.Second), "down", "no process for pidfile")
	})
}

func TestIsZombie(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		stat string
		want bool
	}{
		{"123 (sleep) S 1 123", false},
		{"123 (we)ird) Z 1 123", true},
		{"123 (x) R 1", false},
	}
	for _, tt := range tests {
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(tt.stat), 0o600); err != nil {
			t.Fatal(err)
		}
		if got := isZombie(dir); got != tt.want {
			t.Errorf("isZombie(%q) = %v", tt.stat, got)
		}
	}
	if !isZombie(filepath.Join(dir, "gone")) {
		t.Error("a vanished process must count as not running")
	}
}
