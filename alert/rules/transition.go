package rules

import (
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// Transition is one change of a rule instance: it started firing or it
// resolved. The alert core turns it into a model.Alert (adding the host
// label) and routes it.
type Transition struct {
	// Key identifies the alert for its whole life: "rule:<name>" for a
	// host-wide metric, "rule:<name>:<instance>" for a filesystem or an
	// interface.
	Key string
	// Rule is the rule's name; Instance the mount point or interface name
	// (empty for host-wide metrics).
	Rule     string
	Instance string
	State    model.AlertState
	// Severity is the rule's severity when the alert fired; a resolved
	// alert carries the severity it fired with.
	Severity string
	// Value is the value at the transition (0 when unknown, as for a rule
	// removed by a reload); Threshold the level crossed: the rule's
	// threshold on firing, its clear level on resolve. Units are the
	// metric's (config.RuleMetrics); fs_full_in uses seconds.
	Value     float64
	Threshold float64
	// Since is when the transition happened: the time of the sample at
	// which the alert fired (For after the condition started to hold) or
	// resolved (for a reload, the latest sample before it).
	Since time.Time
	// Started is when the condition started to hold, before For (as
	// Prometheus' activeAt); for a restored alert, its StartsAt.
	Started time.Time
	// Summary is the line people read first ("/var is 92% full"); Reason
	// the detail (value, threshold, how long).
	Summary string
	Reason  string
	// Labels are rule, severity and mountpoint or interface; the core adds
	// host.
	Labels map[string]string
}

// Label names the engine sets.
const (
	LabelRule       = "rule"
	LabelSeverity   = "severity"
	LabelMountpoint = "mountpoint"
	LabelInterface  = "interface"
)

// keyPrefix starts every rule alert's key (model.AlertSourceRule).
const keyPrefix = model.AlertSourceRule + ":"

// Key returns the alert key of a rule instance: "rule:<name>" when instance
// is empty, else "rule:<name>:<instance>".
func Key(rule, instance string) string {
	if instance == "" {
		return keyPrefix + rule
	}
	return keyPrefix + rule + ":" + instance
}

// ParseKey splits a key made by Key. Rule names cannot contain ':', so
// everything after the second ':' is the instance (mount points may hold
// ':' themselves).
func ParseKey(key string) (rule, instance string, ok bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok || rest == "" {
		return "", "", false
	}
	rule, instance, _ = strings.Cut(rest, ":")
	return rule, instance, rule != ""
}
