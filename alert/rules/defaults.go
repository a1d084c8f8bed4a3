package rules

import (
	"time"

	"github.com/dashd/dashd/config"
)

// Defaults returns the rules dashd ships enabled in config.yaml (issue
// #14), as a fresh slice: CPU busy, memory and swap, load, space and
// inodes of every filesystem, a disk-full prediction and interface errors.
// testdata/defaults.yaml is the same set in YAML, and a test keeps the two
// equal.
func Defaults() []config.Rule {
	f := func(v float64) *float64 { return &v }
	d := func(v time.Duration) config.Duration { return config.Duration(v) }
	return []config.Rule{
		{Name: "cpu-busy", Metric: "cpu", Above: f(90), For: d(5 * time.Minute), Severity: config.SeverityWarning},
		{Name: "memory-low", Metric: "memory_available", Below: f(5), For: d(5 * time.Minute), Severity: config.SeverityCritical},
		{Name: "swap-used", Metric: "swap_used", Above: f(50), For: d(10 * time.Minute), Severity: config.SeverityWarning},
		{Name: "load-high", Metric: "load_per_core", Above: f(2), For: d(10 * time.Minute), Severity: config.SeverityWarning},
		{Name: "disk-full", Metric: "fs_used", Above: f(90), Clear: f(85), For: d(5 * time.Minute), Severity: config.SeverityCritical},
		{Name: "inodes-full", Metric: "fs_inodes_used", Above: f(90), For: d(5 * time.Minute), Severity: config.SeverityCritical},
		{Name: "disk-fills-soon", Metric: "fs_full_in", Within: d(DefaultWithin), Window: d(DefaultWindow), Severity: config.SeverityWarning},
		{Name: "net-errors", Metric: "net_errors", Above: f(10), For: d(5 * time.Minute), Severity: config.SeverityWarning},
	}
}
