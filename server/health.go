package server

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Readiness thresholds.
const (
	// staleSamples is how many collect intervals may pass without a host
	// sample before dashd is not ready: one late tick on a busy machine is
	// normal, several in a row mean the sampler is stuck.
	staleSamples = 5
	// minStaleness keeps a very short collect interval from making
	// readiness flap under load.
	minStaleness = 10 * time.Second
	// checkGrace is added to a check's own interval and timeout before it
	// counts as not running (start delay, scheduling jitter).
	checkGrace = 10 * time.Second
)

// handleHealthz answers GET /healthz: the process is alive and serving. It
// checks nothing else on purpose: a liveness probe that fails on a broken
// dependency gets a healthy process restarted.
func (s *Server) handleHealthz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(fiber.Map{"status": "ok", "version": s.deps.Version,
		"uptime_seconds": int64(s.now().Sub(s.deps.Latest.StartedAt()).Seconds())})
}

// readyCheck is one line of /readyz.
type readyCheck struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail,omitempty"`
}

// readyJSON is the body of /readyz.
type readyJSON struct {
	Status string       `json:"status"` // "ready" or "not ready"
	Checks []readyCheck `json:"checks"`
	// ConfigProblems lists why the last reload was rejected; informational:
	// the previous configuration stays in force, so dashd is still ready.
	ConfigProblems   []string   `json:"config_problems,omitempty"`
	ConfigRejectedAt *time.Time `json:"config_rejected_at,omitempty"`
}

// handleReadyz answers GET /readyz: 200 when storage answers, host samples
// are fresh and the check runner is running; 503 otherwise, with every
// finding in the body either way.
func (s *Server) handleReadyz(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "no-store")
	r := s.readiness(s.now())
	code := fiber.StatusOK
	if r.Status != "ready" {
		code = fiber.StatusServiceUnavailable
	}
	return c.Status(code).JSON(r)
}

func (s *Server) readiness(now time.Time) readyJSON {
	var r readyJSON
	add := func(name string, ok bool, detail string) {
		r.Checks = append(r.Checks, readyCheck{Name: name, OK: ok, Detail: detail})
	}

	// Storage: a short read transaction fails once the file is closed.
	st := s.deps.Store
	if _, err := st.Events(0, 1); err != nil {
		add("storage", false, err.Error())
	} else if h := st.WriteHealth(); !h.OK {
		// Reads work but nothing new is kept (a full disk): not ready, so
		// it shows wherever readiness is watched.
		add("storage", false, h.String())
	} else {
		add("storage", true, "")
	}

	// Host sampling.
	l := s.deps.Latest
	interval := time.Second
	if cfg := l.Config(); cfg != nil && cfg.Collect.Interval > 0 {
		interval = cfg.Collect.Interval.D()
	}
	limit := max(staleSamples*interval, minStaleness)
	snap, ok := l.System()
	switch {
	case !ok && now.Sub(l.StartedAt()) <= limit:
		add("samples", false, "waiting for the first host sample")
	case !ok:
		add("samples", false, fmt.Sprintf("no host sample %s after start", now.Sub(l.StartedAt()).Round(time.Second)))
	case now.Sub(snap.Time) > limit:
		add("samples", false, fmt.Sprintf("last host sample is %s old (limit %s)", now.Sub(snap.Time).Round(time.Second), limit))
	default:
		add("samples", true, fmt.Sprintf("%d samples, last %s ago", l.Samples(), now.Sub(snap.Time).Round(time.Millisecond)))
	}
	if probs, at := l.Rejected(); len(probs) > 0 {
		for _, p := range probs {
			r.ConfigProblems = append(r.ConfigProblems, p.String())
		}
		r.ConfigRejectedAt = &at
	}

	// Check runner: every check runs on its own timer and each run, even a
	// hung one, produces a result; if none is recent the runner is not running.
	sts := s.deps.Checks.Statuses()
	stale := 0
	var staleNames []string
	for _, st := range sts {
		last := st.LastCheck
		if last.IsZero() {
			last = l.StartedAt()
		}
		if now.Sub(last) > 2*st.Interval+st.Timeout+checkGrace {
			stale++
			staleNames = append(staleNames, st.Name)
		}
	}
	switch {
	case len(sts) == 0:
		add("checks", true, "no checks configured")
	case stale == len(sts):
		add("checks", false, fmt.Sprintf("no check has run recently (%d checks): the runner is not running", len(sts)))
	case stale > 0:
		add("checks", true, fmt.Sprintf("%d of %d checks overdue: %v", stale, len(sts), staleNames))
	default:
		add("checks", true, fmt.Sprintf("%d checks running", len(sts)))
	}

	r.Status = "ready"
	for _, ch := range r.Checks {
		if !ch.OK {
			r.Status = "not ready"
		}
	}
	return r
}
