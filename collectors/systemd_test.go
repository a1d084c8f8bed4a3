package collectors

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestParseSystemctlShow(t *testing.T) {
	tests := []struct {
		fixture string
		want    unitStatus
		err     bool
	}{
		{"active.txt", unitStatus{"loaded", "active", "running", "success", 0}, false},
		{"active-restarted.txt", unitStatus{"loaded", "active", "running", "success", 3}, false},
		{"failed.txt", unitStatus{"loaded", "failed", "failed", "exit-code", 5}, false},
		{"oneshot-old-systemd.txt", unitStatus{"loaded", "active", "exited", "success", 0}, false},
		{"bad-nrestarts.txt", unitStatus{}, true},
		{"garbage.txt", unitStatus{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/systemctl", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseSystemctlShow(data)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if !tt.err && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestJudgeUnit(t *testing.T) {
	tests := []struct {
		fixture      string
		prevRestarts int
		seen         bool
		state        string
		reason       string
	}{
		{"active.txt", 0, false, "up", "active (running)"},
		{"active-restarted.txt", 3, true, "up", "active (running), 3 restarts"},
		{"active-restarted.txt", 1, true, "degraded", "restarted 2 times since last check"},
		{"active-restarted.txt", 0, false, "up", "active (running), 3 restarts"},
		{"failed.txt", 0, false, "down", "failed (Result=exit-code)"},
		{"auto-restart.txt", 0, false, "down", "restarting after failure (Result=exit-code)"},
		{"activating.txt", 0, false, "degraded", "activating (start)"},
		{"inactive.txt", 0, false, "down", "inactive (dead)"},
		{"not-found.txt", 0, false, "down", "unit not found"},
		{"masked.txt", 0, false, "down", "unit masked, inactive (dead)"},
		{"oneshot-old-systemd.txt", 0, false, "up", "active (exited)"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/systemctl", tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			st, err := parseSystemctlShow(data)
			if err != nil {
				t.Fatal(err)
			}
			out := judgeUnit(st, tt.prevRestarts, tt.seen)
			if out.State.String() != tt.state || out.Reason != tt.reason {
				t.Errorf("got %s %q, want %s %q", out.State, out.Reason, tt.state, tt.reason)
			}
			if out.Values["restarts"] != float64(st.NRestarts) {
				t.Errorf("values = %v", out.Values)
			}
		})
	}
}

// This machine (like most containers) has no running systemd: the check
// must say so plainly, through the real code path.
func TestSystemdCheck_NotAvailableForReal(t *testing.T) {
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		t.Skip("SKIPPED: systemd is running here; this test covers hosts without it")
	}
	out := run(t, mustBuild(t, "systemd", "unit: ssh.service"), 5*time.Second)
	assertOutcome(t, out, "down", "systemd not available: ")
}

func TestSystemdCheck_FakeSystemctl(t *testing.T) {
	script, err := filepath.Abs("testdata/fake-systemctl.sh")
	if err != nil {
		t.Fatal(err)
	}
	fixture := func(name string) string { return filepath.Join(filepath.Dir(script), "systemctl", name) }
	booted := t.TempDir()
	newCheck := func(systemctl []string, bootedDir string) *systemdCheck {
		c := mustBuild(t, "systemd", "unit: web.service").(*systemdCheck)
		c.systemctl, c.bootedDir = systemctl, bootedDir
		return c
	}
	fake := []string{"sh", script}

	tests := []struct {
		name, fixture string
		systemctl     []string
		booted        string
		state, reason string
	}{
		{"active", fixture("active.txt"), fake, booted, "up", "active (running)"},
		{"failed", fixture("failed.txt"), fake, booted, "down", "failed (Result=exit-code)"},
		{"garbage output", fixture("garbage.txt"), fake, booted, "down", "systemctl: no ActiveState in output"},
		{"no bus", "bus-error", fake, booted, "down", "systemd not available: System has not been booted with systemd"},
		{"other systemctl error", "other-error", fake, booted, "down", "systemctl: Unknown assignment: --bogus"},
		{"not booted with systemd", fixture("active.txt"), fake, filepath.Join(booted, "absent"), "down", "systemd not available: host not booted with systemd"},
		{"no systemctl", fixture("active.txt"), []string{"dashd-no-such-systemctl"}, booted, "down", "systemd not available: systemctl not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FAKE_SYSTEMCTL_FIXTURE", tt.fixture)
			out := run(t, newCheck(tt.systemctl, tt.booted), 5*time.Second)
			assertOutcome(t, out, tt.state, tt.reason)
		})
	}

	t.Run("restart between runs", func(t *testing.T) {
		c := newCheck(fake, booted)
		t.Setenv("FAKE_SYSTEMCTL_FIXTURE", fixture("active.txt"))
		assertOutcome(t, run(t, c, 5*time.Second), "up", "active (running)")
		t.Setenv("FAKE_SYSTEMCTL_FIXTURE", fixture("active-restarted.txt"))
		assertOutcome(t, run(t, c, 5*time.Second), "degraded", "restarted 3 times since last check")
		assertOutcome(t, run(t, c, 5*time.Second), "up", "active (running), 3 restarts")
	})
}
