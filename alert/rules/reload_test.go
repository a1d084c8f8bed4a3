package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

func TestEngine_Apply(t *testing.T) {
	cpuRule := config.Rule{Name: "cpu-busy", Metric: "cpu", Above: ptr(90), For: dur(5 * mn), Severity: "warning"}
	with := func(r config.Rule, f func(*config.Rule)) config.Rule { f(&r); return r }
	disk := config.Rule{Name: "disk-full", Metric: "fs_used", Above: ptr(90), Severity: "warning"}
	fire := func(k ...string) []string {
		var out []string
		for _, x := range k {
			out = append(out, "firing "+x)
		}
		return out
	}
	resolve := func(k string) []string { return []string{"resolved " + k} }
	reason := func(want string) func(t *testing.T, got []Transition) {
		return func(t *testing.T, got []Transition) {
			if got[0].Reason != want {
				t.Errorf("reason %q, want %q", got[0].Reason, want)
			}
		}
	}
	tests := []struct {
		name  string
		rules []config.Rule
		steps []step
	}{
		{"unchanged rules keep pending", []config.Rule{cpuRule}, seq(
			every(0, 2*mn, mn, cpu(95)),
			step{at: 3 * mn, fills: []fill{cpu(95)}, apply: []config.Rule{cpuRule}},
			at(4*mn, cpu(95)),
			then(5*mn, fire("rule:cpu-busy"), cpu(95)),
		)},
		{"unchanged rules keep firing", []config.Rule{cpuRule}, seq(
			every(0, 4*mn, mn, cpu(95)),
			then(5*mn, fire("rule:cpu-busy"), cpu(95)),
			step{at: 6 * mn, fills: []fill{cpu(95)}, apply: []config.Rule{cpuRule}},
			then(7*mn, resolve("rule:cpu-busy"), cpu(10)),
		)},
		{"a changed threshold restarts pending", []config.Rule{cpuRule}, seq(
			every(0, 2*mn, mn, cpu(95)),
			step{at: 3 * mn, fills: []fill{cpu(95)}, apply: []config.Rule{with(cpuRule, func(r *config.Rule) { r.Above = ptr(80) })}},
			every(4*mn, 7*mn, mn, cpu(95)),
			then(8*mn, fire("rule:cpu-busy"), cpu(95)),
		)},
		{"a changed For restarts pending", []config.Rule{cpuRule}, seq(
			every(0, 2*mn, mn, cpu(95)),
			step{at: 3 * mn, fills: []fill{cpu(95)}, apply: []config.Rule{with(cpuRule, func(r *config.Rule) { r.For = dur(2 * mn) })}},
			at(4*mn, cpu(95)),
			then(5*mn, fire("rule:cpu-busy"), cpu(95)),
		)},
		{"a firing alert stays firing under a new threshold", []config.Rule{disk}, seq(
			then(0, fire("rule:disk-full:/"), fs("/", 95, 0)),
			step{at: mn, fills: []fill{fs("/", 95, 0)}, apply: []config.Rule{with(disk, func(r *config.Rule) { r.Above = ptr(80) })}},
			at(2*mn, fs("/", 85, 0)),
			then(3*mn, resolve("rule:disk-full:/"), fs("/", 80, 0)),
		)},
		{"a firing alert resolves at the next sample past a new clear level", []config.Rule{disk}, seq(
			then(0, fire("rule:disk-full:/"), fs("/", 95, 0)),
			step{at: mn, fills: []fill{fs("/", 95, 0)}, want: resolve("rule:disk-full:/"),
				apply: []config.Rule{with(disk, func(r *config.Rule) { r.Above = ptr(97) })}},
		)},
		{"a removed rule resolves its alerts", []config.Rule{disk, cpuRule}, seq(
			then(0, fire("rule:disk-full:/", "rule:disk-full:/var"), fs("/", 95, 0), fs("/var", 95, 0), cpu(95)),
			step{at: mn, fills: []fill{fs("/", 95, 0), fs("/var", 95, 0), cpu(95)}, apply: []config.Rule{cpuRule},
				want: []string{"resolved rule:disk-full:/", "resolved rule:disk-full:/var"}},
			every(2*mn, 4*mn, mn, fs("/", 95, 0), cpu(95)),
			then(5*mn, fire("rule:cpu-busy"), cpu(95)), // the other rule kept its pending state
		)},
		{"a disabled rule resolves its alert", []config.Rule{disk}, seq(
			then(0, fire("rule:disk-full:/"), fs("/", 95, 0)),
			step{at: mn, fills: []fill{fs("/", 95, 0)}, apply: []config.Rule{with(disk, func(r *config.Rule) { r.Disabled = true })},
				want: resolve("rule:disk-full:/"), check: reason("rule disabled")},
		)},
		{"a rule that changed metric resolves its alert", []config.Rule{disk}, seq(
			then(0, fire("rule:disk-full:/"), fs("/", 95, 0)),
			step{at: mn, fills: []fill{fs("/", 95, 0)}, apply: []config.Rule{with(disk, func(r *config.Rule) { r.Metric = "fs_inodes_used" })},
				want: resolve("rule:disk-full:/"), check: reason("rule now watches fs_inodes_used")},
		)},
		{"an override disabling an instance resolves it", []config.Rule{disk}, seq(
			then(0, fire("rule:disk-full:/", "rule:disk-full:/mnt/usb"), fs("/", 95, 0), fs("/mnt/usb", 95, 0)),
			step{at: mn, fills: []fill{fs("/", 95, 0), fs("/mnt/usb", 95, 0)},
				apply: []config.Rule{with(disk, func(r *config.Rule) {
					r.Overrides = []config.RuleOverride{{Match: "/mnt/*", Disabled: true}}
				})},
				want: resolve("rule:disk-full:/mnt/usb"), check: reason("rule disabled for /mnt/usb")},
			every(2*mn, 5*mn, mn, fs("/", 95, 0), fs("/mnt/usb", 95, 0)),
		)},
		{"a firing alert keeps its severity until it resolves", []config.Rule{disk}, seq(
			then(0, fire("rule:disk-full:/"), fs("/", 95, 0)),
			step{at: mn, fills: []fill{fs("/", 95, 0)}, apply: []config.Rule{with(disk, func(r *config.Rule) { r.Severity = "critical" })}},
			step{at: 2 * mn, fills: []fill{fs("/", 50, 0)}, want: resolve("rule:disk-full:/"),
				check: func(t *testing.T, got []Transition) {
					if got[0].Severity != "warning" || got[0].Labels["severity"] != "warning" {
						t.Errorf("resolved with severity %q, labels %v: want the one it fired with", got[0].Severity, got[0].Labels)
					}
				}},
			step{at: 3 * mn, fills: []fill{fs("/", 95, 0)}, want: fire("rule:disk-full:/"),
				check: func(t *testing.T, got []Transition) {
					if got[0].Severity != "critical" {
						t.Errorf("fired again with severity %q, want critical", got[0].Severity)
					}
				}},
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, mustNew(t, tt.rules...), tt.steps)
		})
	}
}

func TestEngine_ApplyResolutionTime(t *testing.T) {
	rule := config.Rule{Name: "disk-full", Metric: "fs_used", Above: ptr(90)}
	t.Run("after a sample: the latest sample's time", func(t *testing.T) {
		e := mustNew(t, rule)
		e.Observe(sample(0, fs("/", 95, 0)), nil)
		e.Observe(sample(mn, fs("/", 95, 0)), nil)
		got := e.Apply(nil)
		if len(got) != 1 || !got[0].Since.Equal(t0.Add(mn)) || !got[0].Started.Equal(t0) || got[0].Labels["mountpoint"] != "/" ||
			got[0].Reason != "rule removed from the configuration" || got[0].Summary != "disk-full on / resolved: rule removed from the configuration" {
			t.Fatalf("got %+v", got)
		}
		if again := e.Observe(sample(8*mn, fs("/", 95, 0)), nil); len(again) != 0 {
			t.Errorf("resolved twice: %v", brief(again))
		}
	})
	t.Run("before any sample: the first Observe", func(t *testing.T) {
		e := mustNew(t, rule)
		e.Restore([]model.Alert{{Key: "rule:disk-full:/", Source: model.AlertSourceRule, State: model.AlertFiring, StartsAt: t0}})
		if got := e.Apply(nil); len(got) != 0 {
			t.Fatalf("Apply before any sample returned %v", brief(got))
		}
		got := e.Observe(sample(7*mn, fs("/", 95, 0)), nil)
		if len(got) != 1 || got[0].State != model.AlertResolved || !got[0].Since.Equal(t0.Add(7*mn)) {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestEngine_Restore(t *testing.T) {
	disk := config.Rule{Name: "disk-full", Metric: "fs_used", Above: ptr(90), Clear: ptr(85), Severity: "warning"}
	restored := func(key string) model.Alert {
		rule, inst, _ := ParseKey(key)
		return model.Alert{Key: key, Source: model.AlertSourceRule, Name: rule, State: model.AlertFiring, Severity: "critical",
			StartsAt: t0.Add(-time.Hour), Labels: map[string]string{"host": "db-1", "rule": rule, "severity": "critical", "mountpoint": inst}}
	}
	tests := []struct {
		name  string
		alert model.Alert
		steps []step
		check func(t *testing.T, got []Transition)
	}{
		{"still true: no second firing", restored("rule:disk-full:/var"), seq(
			every(0, 30*mn, mn, fs("/var", 88, 0)),
		), nil},
		{"value back resolves", restored("rule:disk-full:/var"), seq(
			at(0, fs("/var", 88, 0)),
			then(mn, []string{"resolved rule:disk-full:/var"}, fs("/var", 80, 0)),
		), func(t *testing.T, got []Transition) {
			if got[0].Severity != "critical" || !strings.Contains(got[0].Reason, "fired for 1h1m") {
				t.Errorf("severity %q, reason %q", got[0].Severity, got[0].Reason)
			}
		}},
		{"absent instance resolves after GoneAfter, not at once", restored("rule:disk-full:/mnt/usb"), seq(
			every(0, 9*mn, mn, fs("/", 10, 0)),
			then(10*mn, []string{"resolved rule:disk-full:/mnt/usb"}, fs("/", 10, 0)),
		), nil},
		{"rule gone resolves at the first sample", restored("rule:old-rule:/var"), seq(
			then(0, []string{"resolved rule:old-rule:/var"}, fs("/var", 88, 0)),
			every(mn, 5*mn, mn, fs("/var", 88, 0)),
		), func(t *testing.T, got []Transition) {
			if got[0].Labels["mountpoint"] != "/var" || got[0].Labels["severity"] != "critical" ||
				got[0].Reason != "rule removed from the configuration" {
				t.Errorf("transition %+v", got[0])
			}
		}},
		{"resolved alerts are ignored", func() model.Alert {
			a := restored("rule:disk-full:/var")
			a.State = model.AlertResolved
			return a
		}(), seq(every(0, 5*mn, mn, fs("/var", 88, 0))), nil},
		{"other sources are ignored", func() model.Alert {
			a := restored("check:web")
			a.Source = model.AlertSourceCheck
			return a
		}(), seq(every(0, 5*mn, mn, fs("/var", 88, 0))), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := mustNew(t, disk)
			e.Restore([]model.Alert{tt.alert})
			var last []Transition
			for _, st := range tt.steps {
				got := e.Observe(sample(st.at, st.fills...), nil)
				if b := brief(got); !equal(b, st.want) {
					t.Fatalf("at %s: transitions %s, want %s", st.at, show(b), show(st.want))
				}
				if len(got) > 0 {
					last = got
				}
			}
			if tt.check != nil {
				tt.check(t, last)
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
