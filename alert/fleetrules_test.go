package alert

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// helloLabels stands in for the fleet registry's hello labels: a map from
// host to its labels.
type helloLabels map[string]map[string]string

func (h helloLabels) HostLabels(host string) map[string]string { return h[host] }

// ruleEvent is an agent's rule alert event and the alert it attached.
func ruleEvent(at time.Time, key string, to model.State, severity, summary string, labels map[string]string) (model.Event, *model.Alert) {
	e := model.Event{Time: at, Kind: model.EventAlert, Check: key, From: model.StateUp, To: to, Reason: summary + ": detail"}
	return e, &model.Alert{Key: key, Source: model.AlertSourceRule, Severity: severity, Summary: summary, Reason: "detail", Labels: labels}
}

// hubEnv is the alert stack of a hub whose agents web-1 (env prod) and
// db-1 (env staging) said hello.
func hubEnv(t *testing.T) *env {
	e := newEnv(t, "fleetrules.yaml", map[string]string{"HOOK_URL": "http://127.0.0.1:9/h"}, realClock())
	e.hosts = helloLabels{"web-1": {"env": "prod", "role": "web"}, "db-1": {"env": "staging"}}
	e.restart() // the Alerter now has the hosts' labels
	return e
}

// TestHostEvent_AgentRule: an agent's rule alert becomes the hub's alert
// "rule:...@<host>" labelled with the host, the rule's own labels and the
// hello's, routed by host and label; a repeat changes nothing; the
// agent's resolution resolves it to the channels that heard.
func TestHostEvent_AgentRule(t *testing.T) {
	e := hubEnv(t)
	ctx := context.Background()
	t0 := time.Now()
	ev, ra := ruleEvent(t0, "rule:disk-full:/var", model.StateDown, "critical", "/var is 95% full",
		map[string]string{"rule": "disk-full", "mountpoint": "/var"})
	if err := e.a.HostEvent(ctx, "web-1", ev, ra); err != nil {
		t.Fatal(err)
	}
	al, ok := e.active("rule:disk-full:/var@web-1")
	want := map[string]string{"host": "web-1", "rule": "disk-full", "mountpoint": "/var", "severity": "critical", "env": "prod", "role": "web"}
	if !ok || al.Source != model.AlertSourceRule || al.Name != "disk-full" || al.State != model.AlertFiring ||
		al.Summary != "/var is 95% full" || al.Reason != "detail" || !maps.Equal(al.Labels, want) {
		t.Fatalf("active %+v, %v; want disk-full firing with labels %v", al, ok, want)
	}
	if web, staging := keys(e.outbox("web")), keys(e.outbox("staging")); !slices.Equal(web, []string{"rule:disk-full:/var@web-1/firing"}) || len(staging) != 0 {
		t.Fatalf("web %v, staging %v; want only web (hosts web-*; web-1 is env prod)", web, staging)
	}
	// The same event again (a redelivery) changes nothing.
	if err := e.a.HostEvent(ctx, "web-1", ev, ra); err != nil {
		t.Fatal(err)
	}
	if n := len(e.outbox("web")); n != 1 {
		t.Fatalf("%d items after a repeat, want 1", n)
	}
	// db-1's own disk-full: another alert, the staging route's.
	ev2, ra2 := ruleEvent(t0, "rule:disk-full:/var", model.StateDown, "critical", "/var is 91% full",
		map[string]string{"rule": "disk-full", "mountpoint": "/var"})
	if err := e.a.HostEvent(ctx, "db-1", ev2, ra2); err != nil {
		t.Fatal(err)
	}
	if web, staging := keys(e.outbox("web")), keys(e.outbox("staging")); len(web) != 1 || !slices.Equal(staging, []string{"rule:disk-full:/var@db-1/firing"}) {
		t.Fatalf("web %v, staging %v; want db-1's alert for staging only", web, staging)
	}
	res, rres := ruleEvent(t0.Add(time.Minute), "rule:disk-full:/var", model.StateUp, "critical", "/var is 80% full", map[string]string{"rule": "disk-full", "mountpoint": "/var"})
	if err := e.a.HostEvent(ctx, "web-1", res, rres); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.active("rule:disk-full:/var@web-1"); ok {
		t.Fatal("web-1's alert still fires after the agent resolved it")
	}
	if _, ok := e.active("rule:disk-full:/var@db-1"); !ok {
		t.Fatal("db-1's alert resolved with web-1's")
	}
	if web := keys(e.outbox("web")); !slices.Equal(web, []string{"rule:disk-full:/var@web-1/firing", "rule:disk-full:/var@web-1/resolved"}) {
		t.Fatalf("web %v; want the firing and the resolution", web)
	}
}

// TestHostEvent_AgentRuleRefused: an alert event without its alert, about
// something that is no rule, or in a state that is neither firing nor
// resolved raises nothing.
func TestHostEvent_AgentRuleRefused(t *testing.T) {
	e := hubEnv(t)
	ctx := context.Background()
	ev, ra := ruleEvent(time.Now(), "rule:cpu-busy", model.StateDown, "warning", "CPU busy", nil)
	tests := []struct {
		name string
		e    model.Event
		ra   *model.Alert
	}{
		{"no alert", ev, nil},
		{"not a rule key", func() model.Event { x := ev; x.Check = "dashd:storage"; return x }(), ra},
		{"degraded is no alert state", func() model.Event { x := ev; x.To = model.StateDegraded; return x }(), ra},
	}
	for _, tt := range tests {
		if err := e.a.HostEvent(ctx, "web-1", tt.e, tt.ra); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if n := e.a.FiringCount(); n != 0 {
			t.Fatalf("%s: %d alerts fire, want none", tt.name, n)
		}
	}
}

// TestHostEvent_AgentRuleSurvivesHubRules: a hub restarted while an
// agent's rule alert fires keeps it firing while its own rules evaluate
// its own samples (they would take "rule:cpu-busy@web-1" for an instance
// of their own cpu-busy and resolve it as gone), and still resolves its
// own rule alert.
func TestHostEvent_AgentRuleSurvivesHubRules(t *testing.T) {
	e := hubEnv(t)
	ev, ra := ruleEvent(time.Now(), "rule:cpu-busy", model.StateDown, "critical", "CPU 97% busy", map[string]string{"rule": "cpu-busy"})
	if err := e.a.HostEvent(context.Background(), "web-1", ev, ra); err != nil {
		t.Fatal(err)
	}
	e.run()
	feedUntil(t, e, 95, "the hub's own cpu-busy to fire", func() bool { _, ok := e.active("rule:cpu-busy"); return ok })
	e.restart()
	e.run()
	feedUntil(t, e, 10, "the hub's own cpu-busy to resolve", func() bool { _, ok := e.active("rule:cpu-busy"); return !ok })
	for range 3 {
		e.clk.Advance(time.Minute)
		e.rec.Sample(cpuSample(e.clk.Now(), 10))
		time.Sleep(100 * time.Millisecond)
	}
	if _, ok := e.active("rule:cpu-busy@web-1"); !ok {
		t.Fatal("the hub's rules resolved web-1's cpu-busy")
	}
}

// TestHostEvent_ManyHelloLabels: an agent with more hello labels than an
// alert may carry still alerts (storage would refuse the alert, and the
// refused message would come back for ever): the first ones by name are
// kept.
func TestHostEvent_ManyHelloLabels(t *testing.T) {
	e := newEnv(t, "fleetrules.yaml", map[string]string{"HOOK_URL": "http://127.0.0.1:9/h"}, realClock())
	many := map[string]string{}
	for i := range 100 {
		many[fmt.Sprintf("l%03d", i)] = "x"
	}
	e.hosts = helloLabels{"web-1": many}
	e.restart()
	ev, ra := ruleEvent(time.Now(), "rule:cpu-busy", model.StateDown, "critical", "CPU 97% busy", map[string]string{"rule": "cpu-busy"})
	if err := e.a.HostEvent(context.Background(), "web-1", ev, ra); err != nil {
		t.Fatal(err)
	}
	al, ok := e.active("rule:cpu-busy@web-1")
	if !ok || len(al.Labels) != maxAlertLabels || al.Labels["host"] != "web-1" || al.Labels["l000"] != "x" || al.Labels["l099"] != "" {
		t.Fatalf("alert %v (%d labels), %v; want %d labels: its own and the first hello labels", ok, len(al.Labels), al.Labels, maxAlertLabels)
	}
	if !strings.HasPrefix(al.Key, "rule:cpu-busy@") {
		t.Errorf("key %q", al.Key)
	}
}

// TestHostEvent_RuleAlertsBoundedPerHost: a host may have at most
// MaxHostRuleAlerts rule alerts firing; a new instance past that (an
// agent inventing instances) is refused, while its firing ones still
// resolve and another host's still fire.
func TestHostEvent_RuleAlertsBoundedPerHost(t *testing.T) {
	e := hubEnv(t)
	ctx := context.Background()
	t0 := time.Now()
	fire := func(host string, i int, to model.State) error {
		ev, ra := ruleEvent(t0, fmt.Sprintf("rule:disk-full:/a%d", i), to, "critical", "full", map[string]string{"rule": "disk-full"})
		return e.a.HostEvent(ctx, host, ev, ra)
	}
	for i := range MaxHostRuleAlerts {
		if err := fire("web-1", i, model.StateDown); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name   string
		host   string
		i      int
		to     model.State
		key    string
		firing bool
	}{
		{"one more on the same host", "web-1", MaxHostRuleAlerts, model.StateDown, fmt.Sprintf("rule:disk-full:/a%d@web-1", MaxHostRuleAlerts), false},
		{"another host", "db-1", 0, model.StateDown, "rule:disk-full:/a0@db-1", true},
		{"a firing one resolves", "web-1", 0, model.StateUp, "rule:disk-full:/a0@web-1", false},
		{"then a new one fits", "web-1", MaxHostRuleAlerts + 1, model.StateDown, fmt.Sprintf("rule:disk-full:/a%d@web-1", MaxHostRuleAlerts+1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := fire(tt.host, tt.i, tt.to); err != nil {
				t.Fatal(err)
			}
			if _, ok := e.active(tt.key); ok != tt.firing {
				t.Errorf("%s firing: %v, want %v", tt.key, ok, tt.firing)
			}
		})
	}
}
