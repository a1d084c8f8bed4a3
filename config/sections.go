package config

import (
	"path"
	"time"
)

// Storage configures the bbolt history file.
type Storage struct {
	// Path of the database file; --data overrides it.
	Path      string    `yaml:"path"`
	Retention Retention `yaml:"retention"`
	// CommitInterval is how long samples and check results wait in memory
	// to be written together (0: each sample is written at once). Events,
	// alerts and what people do are written at once either way, and take
	// whatever waits along. A crash (not a stop) loses at most this much
	// of the host's and the checks' history; a write less often is fewer
	// disk syncs and wake-ups for an idle dashd.
	CommitInterval Duration `yaml:"commit_interval"`
}

// MaxCommitInterval bounds storage.commit_interval: history pages and the
// API read what is written, so a minute is as late as they may lag.
const MaxCommitInterval = time.Minute

// Retention says how long each kind of history is kept.
type Retention struct {
	Raw           Duration `yaml:"raw"`
	Minute        Duration `yaml:"minute"`
	Hour          Duration `yaml:"hour"`
	Results       Duration `yaml:"results"`
	Events        Duration `yaml:"events"`
	Chat          Duration `yaml:"chat"`
	Notifications Duration `yaml:"notifications"`
}

// DefaultRetention is the retention of every tier when the file says nothing.
func DefaultRetention() Retention {
	day := 24 * time.Hour
	return Retention{
		Raw:           Duration(day),
		Minute:        Duration(30 * day),
		Hour:          Duration(400 * day),
		Results:       Duration(30 * day),
		Events:        Duration(90 * day),
		Chat:          Duration(90 * day),
		Notifications: Duration(90 * day),
	}
}

func (s Storage) validate(sc Scope) {
	sc.Required("path", s.Path == "")
	if s.CommitInterval < 0 || s.CommitInterval.D() > MaxCommitInterval {
		sc.Errorf("commit_interval", "must be between 0s (each sample at once) and 1m, got %s", s.CommitInterval)
	}
	r := s.Retention
	rs := sc.Child("retention")
	for _, f := range []struct {
		key string
		v   Duration
		min time.Duration
	}{
		{"raw", r.Raw, time.Minute},
		{"minute", r.Minute, time.Hour},
		{"hour", r.Hour, 24 * time.Hour},
		{"results", r.Results, time.Hour},
		{"events", r.Events, time.Hour},
		{"chat", r.Chat, time.Hour},
		{"notifications", r.Notifications, time.Hour},
	} {
		if f.v.D() < f.min {
			rs.Errorf(f.key, "must be at least %s, got %s", f.min, f.v)
		}
	}
	if r.Minute < r.Raw {
		rs.Errorf("minute", "must not be shorter than raw (%s)", r.Raw)
	}
	if r.Hour < r.Minute {
		rs.Errorf("hour", "must not be shorter than minute (%s)", r.Minute)
	}
}

// Collect configures host sampling and the check runner.
type Collect struct {
	Interval        Duration `yaml:"interval"`
	ProcessInterval Duration `yaml:"process_interval"`
	// TopProcesses is how many processes the top-CPU and top-memory lists hold.
	TopProcesses int `yaml:"top_processes"`
	// MaxConcurrentChecks bounds how many checks run at the same moment.
	MaxConcurrentChecks int    `yaml:"max_concurrent_checks"`
	Filesystems         Filter `yaml:"filesystems"`
	Network             Filter `yaml:"network"`
}

// Filter selects items by glob pattern (path.Match syntax). An empty Include
// means everything; Exclude wins over Include.
type Filter struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

func (f Filter) validate(sc Scope) {
	for _, list := range []struct {
		key string
		v   []string
	}{{"include", f.Include}, {"exclude", f.Exclude}} {
		for i, p := range list.v {
			if _, err := path.Match(p, ""); err != nil {
				sc.Index(list.key, i).Errorf("", "bad glob pattern %q: %v", p, err)
			}
		}
	}
}

func (c Collect) validate(sc Scope) {
	if c.Interval.D() < 100*time.Millisecond || c.Interval.D() > time.Hour {
		sc.Errorf("interval", "must be between 100ms and 1h, got %s", c.Interval)
	}
	if c.ProcessInterval < c.Interval {
		sc.Errorf("process_interval", "must not be shorter than interval (%s), got %s", c.Interval, c.ProcessInterval)
	}
	if c.TopProcesses < 0 || c.TopProcesses > 100 {
		sc.Errorf("top_processes", "must be between 0 and 100, got %d", c.TopProcesses)
	}
	if c.MaxConcurrentChecks < 1 || c.MaxConcurrentChecks > 1000 {
		sc.Errorf("max_concurrent_checks", "must be between 1 and 1000, got %d", c.MaxConcurrentChecks)
	}
	c.Filesystems.validate(sc.Child("filesystems"))
	c.Network.validate(sc.Child("network"))
}

// Dashboard configures the live page.
type Dashboard struct {
	// Title shown in the header; the host name when empty.
	Title             string   `yaml:"title"`
	BroadcastInterval Duration `yaml:"broadcast_interval"`
}

func (d Dashboard) validate(sc Scope) {
	if d.BroadcastInterval.D() < 100*time.Millisecond || d.BroadcastInterval.D() > time.Minute {
		sc.Errorf("broadcast_interval", "must be between 100ms and 1m, got %s", d.BroadcastInterval)
	}
}

// Log configures log/slog output.
type Log struct {
	Format string `yaml:"format"` // text or json
	Level  string `yaml:"level"`  // debug, info, warn, error
}

func (l Log) validate(sc Scope) {
	switch l.Format {
	case "text", "json":
	default:
		sc.Errorf("format", "must be text or json, got %q", l.Format)
	}
	switch l.Level {
	case "debug", "info", "warn", "error":
	default:
		sc.Errorf("level", "must be debug, info, warn or error, got %q", l.Level)
	}
}
