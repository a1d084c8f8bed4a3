package collectors

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// SystemdSpec configures a systemd check: the unit's active and sub state,
// failure and restart count, read with `systemctl show`.
type SystemdSpec struct {
	// Unit is the unit name, e.g. nginx.service (".service" may be left out).
	Unit string `yaml:"unit"`
}

func newSystemdSpec() *SystemdSpec { return &SystemdSpec{} }

// Validate reports problems with positions.
func (u *SystemdSpec) Validate(s config.Scope) {
	s.Required("unit", u.Unit == "")
	if strings.ContainsAny(u.Unit, " \t\n/") || strings.HasPrefix(u.Unit, "-") {
		s.Errorf("unit", "%q is not a unit name such as nginx.service", u.Unit)
	}
}

// unitStatus is the part of `systemctl show` a systemd check reads.
type unitStatus struct {
	LoadState, ActiveState, SubState, Result string
	NRestarts                                int
}

// systemdProps is the -p list; parseSystemctlShow reads these keys.
const systemdProps = "LoadState,ActiveState,SubState,NRestarts,Result"

// notAvailable prefixes every reason for a host without a usable systemd,
// so dashboards and alerts can tell "no systemd here" from "unit failed".
const notAvailable = "systemd not available: "

type systemdCheck struct {
	unit string
	// systemctl (an argv prefix) and bootedDir are fields so tests can point
	// them at a fixture script and a directory of their own.
	systemctl []string
	bootedDir string

	mu           sync.Mutex
	lastRestarts int
	seen         bool
}

var _ Check = (*systemdCheck)(nil)

func (u *SystemdSpec) build(config.Check) (Check, error) {
	return &systemdCheck{unit: u.Unit, systemctl: []string{"systemctl"}, bootedDir: "/run/systemd/system"}, nil
}

// Run asks systemctl about the unit.
func (c *systemdCheck) Run(ctx context.Context) Outcome {
	path, err := exec.LookPath(c.systemctl[0])
	if err != nil {
		return down(notAvailable + "systemctl not found")
	}
	// The sd_booted(3) test: without this directory systemctl has no
	// manager to talk to.
	if _, err := os.Stat(c.bootedDir); err != nil {
		return down(notAvailable + "host not booted with systemd")
	}
	args := append(append([]string(nil), c.systemctl[1:]...), "show", "--no-pager", "-p", systemdProps, "--", c.unit)
	cmd := exec.CommandContext(ctx, path, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		if ctx.Err() != nil {
			return down(errReason(ctx.Err()))
		}
		msg := stderr.String()
		if strings.Contains(msg, "Failed to connect to bus") || strings.Contains(msg, "not been booted with systemd") {
			return down(notAvailable + firstLine(msg))
		}
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && msg != "" {
			return down("systemctl: " + firstLine(msg))
		}
		return down("systemctl: " + errReason(err))
	}
	st, err := parseSystemctlShow(stdout)
	if err != nil {
		return down("systemctl: " + err.Error())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	out := judgeUnit(st, c.lastRestarts, c.seen)
	c.lastRestarts, c.seen = st.NRestarts, true
	return out
}

// parseSystemctlShow reads the Key=Value lines of `systemctl show -p ...`.
func parseSystemctlShow(out []byte) (unitStatus, error) {
	var st unitStatus
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok {
			continue
		}
		switch k {
		case "LoadState":
			st.LoadState = v
		case "ActiveState":
			st.ActiveState = v
		case "SubState":
			st.SubState = v
		case "Result":
			st.Result = v
		case "NRestarts":
			// Older systemd (< 235) has no NRestarts and prints nothing or "".
			if v != "" {
				n, err := strconv.Atoi(v)
				if err != nil {
					return st, fmt.Errorf("NRestarts=%q is not a number", v)
				}
				st.NRestarts = n
			}
		}
	}
	if st.ActiveState == "" {
		return st, fmt.Errorf("no ActiveState in output %q", shorten(string(out), 80))
	}
	return st, nil
}

// judgeUnit maps a unit's state to an Outcome. prevRestarts is NRestarts at
// the previous run (when seen), so a service that crashed and came back
// between two runs still shows up as degraded once.
func judgeUnit(st unitStatus, prevRestarts int, seen bool) Outcome {
	state := fmt.Sprintf("%s (%s)", st.ActiveState, st.SubState)
	var out Outcome
	switch {
	case st.LoadState == "not-found":
		out = down("unit not found")
	case st.LoadState == "masked":
		out = down("unit masked, " + state)
	case st.LoadState != "" && st.LoadState != "loaded":
		out = downf("unit not loaded (LoadState=%s)", st.LoadState)
	case st.ActiveState == "failed":
		out = downf("failed (Result=%s)", st.Result)
	case st.ActiveState == "activating" && st.SubState == "auto-restart":
		out = downf("restarting after failure (Result=%s)", st.Result)
	case st.ActiveState == "active" && seen && st.NRestarts > prevRestarts:
		n := st.NRestarts - prevRestarts
		out = degraded(fmt.Sprintf("restarted %d time%s since last check", n, plural(n)))
	case st.ActiveState == "active", st.ActiveState == "reloading":
		out = up(state)
	case st.ActiveState == "activating", st.ActiveState == "deactivating":
		out = degraded(state)
	default: // inactive
		out = down(state)
	}
	active := 0.0
	if st.ActiveState == "active" || st.ActiveState == "reloading" {
		active = 1
	}
	out.Values = map[string]float64{"restarts": float64(st.NRestarts), "active": active}
	if out.State == model.StateUp && st.NRestarts > 0 {
		out.Reason = fmt.Sprintf("%s, %d restart%s", state, st.NRestarts, plural(st.NRestarts))
	}
	return out
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
