package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

const (
	sec = time.Second
	mn  = time.Minute
)

func TestEngine_Sequences(t *testing.T) {
	cpuRule := config.Rule{Name: "cpu-busy", Metric: "cpu", Above: ptr(90), For: dur(5 * mn), Severity: "warning"}
	now := func(r config.Rule) config.Rule { r.For = 0; return r }
	diskRule := config.Rule{Name: "disk-full", Metric: "fs_used", Above: ptr(90), Clear: ptr(85), Severity: "critical"}
	fire := func(k string) []string { return []string{"firing " + k} }
	resolve := func(k string) []string { return []string{"resolved " + k} }
	const cpuKey = "rule:cpu-busy"

	tests := []struct {
		name  string
		rules []config.Rule
		steps []step
	}{
		{"fires exactly after For, 10 s samples", []config.Rule{cpuRule}, seq(
			every(0, 5*mn-10*sec, 10*sec, cpu(95)),
			then(5*mn, fire(cpuKey), cpu(95)),
			every(5*mn+10*sec, 20*mn, 10*sec, cpu(95)), // no second firing
		)},
		{"fires exactly after For, 1 s samples", []config.Rule{cpuRule}, seq(
			every(0, 299*sec, sec, cpu(91)),
			then(300*sec, fire(cpuKey), cpu(91)),
		)},
		{"a dip resets pending", []config.Rule{cpuRule}, seq(
			every(0, 3*mn, 30*sec, cpu(95)),
			at(3*mn+30*sec, cpu(80)),
			every(4*mn, 8*mn+30*sec, 30*sec, cpu(95)),
			then(9*mn, fire(cpuKey), cpu(95)),
		)},
		{"the threshold itself does not hold", []config.Rule{now(cpuRule)}, seq(
			every(0, 10*mn, mn, cpu(90)),
			then(11*mn, fire(cpuKey), cpu(90.1)),
		)},
		{"For 0 fires on the first sample", []config.Rule{now(cpuRule)}, seq(
			then(0, fire(cpuKey), cpu(99)),
			then(sec, resolve(cpuKey), cpu(10)),
		)},
		{"hysteresis: resolves only at the clear level", []config.Rule{diskRule}, seq(
			then(0, fire("rule:disk-full:/var"), fs("/var", 92, 0)),
			at(mn, fs("/var", 88, 0)),
			at(2*mn, fs("/var", 85.5, 0)),
			then(3*mn, resolve("rule:disk-full:/var"), fs("/var", 85, 0)),
			at(4*mn, fs("/var", 89, 0)),
			at(5*mn, fs("/var", 90, 0)),
			then(6*mn, fire("rule:disk-full:/var"), fs("/var", 91, 0)),
		)},
		{"below rule", []config.Rule{{Name: "memory-low", Metric: "memory_available", Below: ptr(5), For: dur(mn)}}, seq(
			at(0, memAvail(3)),
			then(mn, fire("rule:memory-low"), memAvail(3)),
			at(2*mn, memAvail(4.9)),
			then(3*mn, resolve("rule:memory-low"), memAvail(5)),
		)},
		{"disabled rule never fires", []config.Rule{{Name: "x", Metric: "cpu", Above: ptr(1), Disabled: true}}, seq(
			every(0, 10*mn, mn, cpu(100)),
		)},
		{"a missing value neither fires nor resolves", []config.Rule{now(cpuRule)}, seq(
			then(0, fire(cpuKey), cpu(95)),
			at(mn),                      // no CPU figure
			at(2*mn, failed("cpu")),     // the part failed
			at(30*mn, failed("cpu")),    // failing for long: not "gone"
			at(31*mn, failed("memory")), // another part failed, CPU still missing
			then(32*mn, resolve(cpuKey), cpu(50)),
		)},
		{"a failed part's stale figure is not used", []config.Rule{{Name: "load", Metric: "load_per_core", Above: ptr(2)}}, seq(
			at(0, load(20), failed("load")),
			then(mn, fire("rule:load"), load(20)),
			at(2*mn, load(0), failed("load")),
			then(3*mn, resolve("rule:load"), load(1)),
		)},
		{"load per core", []config.Rule{{Name: "load", Metric: "load_per_core", Above: ptr(2)}}, seq(
			at(0, load(8)), // 2.0 per core on 4 CPUs
			at(mn, load(9), cpus(0)),
			then(2*mn, fire("rule:load"), load(9)),
			then(3*mn, resolve("rule:load"), load(9), cpus(8)),
		)},
		{"swap: a host without swap has no value, swapoff resolves as gone", []config.Rule{{Name: "swap", Metric: "swap_used", Above: ptr(50)}}, seq(
			every(0, 5*mn, mn),
			then(6*mn, fire("rule:swap"), swap(60)),
			every(7*mn, 15*mn, mn),
			then(16*mn, resolve("rule:swap")),
			every(17*mn, 30*mn, mn),
		)},
		{"inodes", []config.Rule{{Name: "inodes", Metric: "fs_inodes_used", Above: ptr(90)}}, seq(
			at(0, noInodes("/boot"), fs("/", 50, 90)),
			then(mn, fire("rule:inodes:/"), noInodes("/boot"), fs("/", 50, 95)),
			then(2*mn, resolve("rule:inodes:/"), noInodes("/boot"), fs("/", 50, 10)),
		)},
		{"net errors per interface", []config.Rule{{Name: "net", Metric: "net_errors", Above: ptr(10), For: dur(mn)}}, seq(
			at(0, iface("eth0", 6, 5), iface("eth1", 0, 0)),
			at(30*sec, ifaceNoRate("eth0"), iface("eth1", 0, 0)),
			then(mn, fire("rule:net:eth0"), iface("eth0", 11, 0), iface("eth1", 0, 0)),
			then(2*mn, resolve("rule:net:eth0"), iface("eth0", 10, 0), iface("eth1", 100, 100)),
			then(3*mn, fire("rule:net:eth1"), iface("eth0", 10, 0), iface("eth1", 100, 100)),
		)},
		{"an instance gone for GoneAfter resolves", []config.Rule{diskRule}, seq(
			then(0, fire("rule:disk-full:/mnt/usb"), fs("/", 10, 0), fs("/mnt/usb", 95, 0)),
			every(mn, 4*mn, mn, fs("/", 10, 0)),
			at(5*mn, fs("/", 10, 0), fs("/mnt/usb", 95, 0)), // back: still firing, no second firing
			every(6*mn, 14*mn+59*sec, mn, fs("/", 10, 0)),
			then(15*mn, resolve("rule:disk-full:/mnt/usb"), fs("/", 10, 0)),
			every(16*mn, 20*mn, mn, fs("/", 10, 0)),
		)},
		{"absence while the part fails is not counted", []config.Rule{diskRule}, seq(
			then(0, fire("rule:disk-full:/srv"), fs("/", 10, 0), fs("/srv", 95, 0)),
			every(mn, 30*mn, mn, fs("/", 10, 0), failed("filesystems")),
			every(31*mn, 39*mn+59*sec, mn, fs("/", 10, 0)), // counted from the last failure
			then(40*mn, resolve("rule:disk-full:/srv"), fs("/", 10, 0)),
		)},
		{"a sample gap longer than For restarts pending", []config.Rule{cpuRule}, seq(
			every(0, 3*mn, mn, cpu(95)),
			every(9*mn, 13*mn, mn, cpu(95)), // 6 mn gap: wait again from 9m
			then(14*mn, fire(cpuKey), cpu(95)),
		)},
		{"a gap shorter than For keeps pending", []config.Rule{cpuRule}, seq(
			every(0, 2*mn, mn, cpu(95)),
			then(5*mn, fire(cpuKey), cpu(95)),
		)},
		{"missing values for longer than For restart pending", []config.Rule{cpuRule}, seq(
			every(0, 2*mn, mn, cpu(95)),
			every(3*mn, 8*mn, mn), // no CPU figure
			every(9*mn, 13*mn, mn, cpu(95)),
			then(14*mn, fire(cpuKey), cpu(95)),
		)},
		{"time going back restarts pending", []config.Rule{cpuRule}, seq(
			every(0, 2*mn, mn, cpu(95)),
			every(90*sec, 6*mn, 30*sec, cpu(95)),
			then(6*mn+30*sec, fire(cpuKey), cpu(95)),
		)},
		{"overrides by mount glob, first match wins", []config.Rule{{
			Name: "disk-full", Metric: "fs_used", Above: ptr(90), For: dur(5 * mn),
			Overrides: []config.RuleOverride{
				{Match: "/boot", Above: ptr(98)},
				{Match: "/mnt/*", Disabled: true},
				{Match: "/srv*", For: durp(0)},
				{Match: "/data*", Above: ptr(99)},
				{Match: "/data2", Above: ptr(50)}, // shadowed by /data*
			},
		}}, seq(
			then(0, fire("rule:disk-full:/srv"),
				fs("/", 95, 0), fs("/boot", 97, 0), fs("/mnt/usb", 100, 0), fs("/srv", 95, 0), fs("/data2", 95, 0)),
			every(mn, 4*mn, mn,
				fs("/", 95, 0), fs("/boot", 97, 0), fs("/mnt/usb", 100, 0), fs("/srv", 95, 0), fs("/data2", 95, 0)),
			then(5*mn, fire("rule:disk-full:/"),
				fs("/", 95, 0), fs("/boot", 97, 0), fs("/mnt/usb", 100, 0), fs("/srv", 95, 0), fs("/data2", 95, 0)),
			every(6*mn, 20*mn, mn,
				fs("/", 95, 0), fs("/boot", 97, 0), fs("/mnt/usb", 100, 0), fs("/srv", 95, 0), fs("/data2", 95, 0)),
			every(21*mn, 25*mn, mn,
				fs("/", 95, 0), fs("/boot", 98.5, 0), fs("/mnt/usb", 100, 0), fs("/srv", 95, 0), fs("/data2", 99.5, 0)),
			then(26*mn, []string{"firing rule:disk-full:/boot", "firing rule:disk-full:/data2"},
				fs("/", 95, 0), fs("/boot", 98.5, 0), fs("/mnt/usb", 100, 0), fs("/srv", 95, 0), fs("/data2", 99.5, 0)),
		)},
		{"an override's threshold keeps the rule's band", []config.Rule{{
			Name: "disk-full", Metric: "fs_used", Above: ptr(90), Clear: ptr(85),
			Overrides: []config.RuleOverride{{Match: "/var", Above: ptr(95)}},
		}}, seq(
			at(0, fs("/var", 93, 0)),
			then(mn, fire("rule:disk-full:/var"), fs("/var", 96, 0)),
			at(2*mn, fs("/var", 90.5, 0)),
			then(3*mn, resolve("rule:disk-full:/var"), fs("/var", 90, 0)),
		)},
		{"an override's clear past its threshold is the threshold", []config.Rule{{
			Name: "disk-full", Metric: "fs_used", Above: ptr(90),
			Overrides: []config.RuleOverride{{Match: "/var", Above: ptr(80), Clear: ptr(88)}},
		}}, seq(
			then(0, fire("rule:disk-full:/var"), fs("/var", 85, 0)),
			at(mn, fs("/var", 81, 0)),
			then(2*mn, resolve("rule:disk-full:/var"), fs("/var", 80, 0)),
		)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run(t, mustNew(t, tt.rules...), tt.steps)
		})
	}
}

// TestEngine_TransitionFields checks everything a transition carries.
func TestEngine_TransitionFields(t *testing.T) {
	e := mustNew(t,
		config.Rule{Name: "disk-full", Metric: "fs_used", Above: ptr(90), Clear: ptr(85), For: dur(5 * mn), Severity: "critical"},
		config.Rule{Name: "cpu-busy", Metric: "cpu", Above: ptr(90), For: dur(5 * mn), Severity: "warning"},
		config.Rule{Name: "net", Metric: "net_errors", Above: ptr(10), For: dur(0)},
	)
	for d := time.Duration(0); d < 5*mn; d += mn {
		if got := e.Observe(sample(d, fs("/var", 92.4, 0), cpu(97.2), iface("eth0", 1, 1)), nil); len(got) != 0 {
			t.Fatalf("at %s: %v", d, brief(got))
		}
	}
	got := e.Observe(sample(5*mn, fs("/var", 92.4, 0), cpu(97.2), iface("eth0", 12, 0.5)), nil)
	want := []Transition{
		{
			Key: "rule:disk-full:/var", Rule: "disk-full", Instance: "/var", State: model.AlertFiring, Severity: "critical",
			Value: 92.4, Threshold: 90, Since: t0.Add(5 * mn), Started: t0,
			Summary: "/var is 92.4% full", Reason: "92.4%, above 90% for 5m; resolves at or below 85%",
			Labels: map[string]string{"rule": "disk-full", "severity": "critical", "mountpoint": "/var"},
		},
		{
			Key: "rule:cpu-busy", Rule: "cpu-busy", State: model.AlertFiring, Severity: "warning",
			Value: 97.2, Threshold: 90, Since: t0.Add(5 * mn), Started: t0,
			Summary: "CPU at 97.2% for 5m", Reason: "97.2%, above 90% for 5m",
			Labels: map[string]string{"rule": "cpu-busy", "severity": "warning"},
		},
		{
			Key: "rule:net:eth0", Rule: "net", Instance: "eth0", State: model.AlertFiring, Severity: "warning",
			Value: 12.5, Threshold: 10, Since: t0.Add(5 * mn), Started: t0.Add(5 * mn),
			Summary: "eth0 at 12.5 errors/s", Reason: "12.5 errors/s, above 10 errors/s",
			Labels: map[string]string{"rule": "net", "severity": "warning", "interface": "eth0"},
		},
	}
	assertTransitions(t, got, want)

	got = e.Observe(sample(15*mn, fs("/var", 80, 0), cpu(97.2), iface("eth0", 0, 0)), nil)
	want = []Transition{
		{
			Key: "rule:disk-full:/var", Rule: "disk-full", Instance: "/var", State: model.AlertResolved, Severity: "critical",
			Value: 80, Threshold: 85, Since: t0.Add(15 * mn), Started: t0,
			Summary: "/var back to 80% full", Reason: "80%, at or below 85%; fired for 10m",
			Labels: map[string]string{"rule": "disk-full", "severity": "critical", "mountpoint": "/var"},
		},
		{
			Key: "rule:net:eth0", Rule: "net", Instance: "eth0", State: model.AlertResolved, Severity: "warning",
			Value: 0, Threshold: 10, Since: t0.Add(15 * mn), Started: t0.Add(5 * mn),
			Summary: "eth0 back to 0 errors/s", Reason: "0 errors/s, at or below 10 errors/s; fired for 10m",
			Labels: map[string]string{"rule": "net", "severity": "warning", "interface": "eth0"},
		},
	}
	assertTransitions(t, got, want)
}

func TestEngine_GoneTransition(t *testing.T) {
	e := mustNew(t, config.Rule{Name: "disk-full", Metric: "fs_used", Above: ptr(90), Severity: "critical"})
	e.Observe(sample(0, fs("/mnt/usb", 95, 0)), nil)
	got := e.Observe(sample(GoneAfter), nil)
	if len(got) != 1 {
		t.Fatalf("got %v, want one resolution", brief(got))
	}
	tr := got[0]
	if tr.State != model.AlertResolved || tr.Key != "rule:disk-full:/mnt/usb" || !tr.Since.Equal(t0.Add(GoneAfter)) ||
		tr.Severity != "critical" || tr.Labels["mountpoint"] != "/mnt/usb" {
		t.Errorf("transition %+v", tr)
	}
	if !strings.HasPrefix(tr.Reason, "no longer present") || tr.Summary != "/mnt/usb no longer present" {
		t.Errorf("summary %q, reason %q", tr.Summary, tr.Reason)
	}
}

func assertTransitions(t *testing.T, got, want []Transition) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d transitions %v, want %d", len(got), brief(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Key != w.Key || g.Rule != w.Rule || g.Instance != w.Instance || g.State != w.State || g.Severity != w.Severity ||
			!near(g.Value, w.Value, 1e-9) || g.Threshold != w.Threshold || !g.Since.Equal(w.Since) || !g.Started.Equal(w.Started) ||
			g.Summary != w.Summary || g.Reason != w.Reason || !sameLabels(g.Labels, w.Labels) {
			t.Errorf("transition %d:\n got  %+v\n want %+v", i, g, w)
		}
	}
}

func near(a, b, tol float64) bool { return a-b <= tol && b-a <= tol }

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNew_SkipsInvalidRules(t *testing.T) {
	e := New([]config.Rule{
		{Name: "no-metric", Metric: "nope", Above: ptr(1)},
		{Name: "both", Metric: "cpu", Above: ptr(1), Below: ptr(2)},
		{Name: "neither", Metric: "cpu"},
		{Name: "bad-glob", Metric: "fs_used", Above: ptr(1), Overrides: []config.RuleOverride{{Match: "["}}},
		{Name: "", Metric: "cpu", Above: ptr(1)},
		{Name: "ok", Metric: "cpu", Above: ptr(50)},
		{Name: "ok", Metric: "cpu", Above: ptr(10)},
	})
	err := e.Problems()
	if err == nil {
		t.Fatal("New accepted invalid rules")
	}
	for _, name := range []string{"no-metric", "both", "neither", "bad-glob", "no name", `duplicate rule name "ok"`} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not mention %s", err, name)
		}
	}
	if !errorsIs(err) {
		t.Errorf("error %v does not wrap ErrInvalidRule", err)
	}
	// Apply reports its own problems.
	e.Apply([]config.Rule{{Name: "ok", Metric: "cpu", Above: ptr(50)}})
	if err := e.Problems(); err != nil {
		t.Errorf("Problems after a clean Apply: %v", err)
	}
	// The valid rule works; its duplicate was skipped.
	if got := brief(e.Observe(sample(0, cpu(40)), nil)); len(got) != 0 {
		t.Errorf("duplicate rule evaluated: %v", got)
	}
	if got := brief(e.Observe(sample(mn, cpu(60)), nil)); len(got) != 1 || got[0] != "firing rule:ok" {
		t.Errorf("got %v, want the valid rule firing", got)
	}
}

func TestKey(t *testing.T) {
	tests := []struct {
		rule, inst, key string
	}{
		{"cpu-busy", "", "rule:cpu-busy"},
		{"disk-full", "/var", "rule:disk-full:/var"},
		{"disk-full", "/mnt/a:b", "rule:disk-full:/mnt/a:b"},
		{"net", "eth0", "rule:net:eth0"},
	}
	for _, tt := range tests {
		if k := Key(tt.rule, tt.inst); k != tt.key {
			t.Errorf("Key(%q, %q) = %q, want %q", tt.rule, tt.inst, k, tt.key)
		}
		r, i, ok := ParseKey(tt.key)
		if !ok || r != tt.rule || i != tt.inst {
			t.Errorf("ParseKey(%q) = %q, %q, %v", tt.key, r, i, ok)
		}
	}
	for _, bad := range []string{"", "rule:", "check:web", "rule::x"} {
		if _, _, ok := ParseKey(bad); ok {
			t.Errorf("ParseKey(%q) accepted", bad)
		}
	}
}

func TestMetricsMatchConfig(t *testing.T) {
	ours := metrics()
	cfg := config.RuleMetrics()
	if len(ours) != len(cfg) {
		t.Fatalf("%d metrics here, %d in config.RuleMetrics", len(ours), len(cfg))
	}
	for _, c := range cfg {
		m, ok := lookupMetric(c.Name)
		if !ok {
			t.Errorf("config metric %q has no evaluator", c.Name)
			continue
		}
		if m.per != c.Per {
			t.Errorf("metric %q is per %q here, per %q in config", c.Name, m.per, c.Per)
		}
		set := 0
		for _, f := range []bool{m.host != nil, m.fs != nil, m.iface != nil, m.predicted} {
			if f {
				set++
			}
		}
		if set != 1 {
			t.Errorf("metric %q has %d value sources, want 1", c.Name, set)
		}
	}
}

// TestEngine_SameSampleTwice: the owner may hand the latest sample again
// when no new one arrived; nothing changes.
func TestEngine_SameSampleTwice(t *testing.T) {
	e := mustNew(t, config.Rule{Name: "cpu-busy", Metric: "cpu", Above: ptr(90), For: dur(mn)})
	steps := []struct {
		at   time.Duration
		v    float64
		want int
	}{{0, 95, 0}, {0, 95, 0}, {mn, 95, 1}, {mn, 95, 0}, {2 * mn, 10, 1}, {2 * mn, 10, 0}}
	for i, st := range steps {
		if got := e.Observe(sample(st.at, cpu(st.v)), nil); len(got) != st.want {
			t.Fatalf("step %d: %v, want %d transitions", i, brief(got), st.want)
		}
	}
}
