package alert

import (
	"maps"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/model"
)

// cpuSample is a host sample with the CPU busy pct percent.
func cpuSample(at time.Time, pct float64) system.Snapshot {
	return system.Snapshot{Time: at, Host: &system.Host{Hostname: "db-1", CPUs: 4},
		CPU: &system.CPUPercent{Core: -1, Busy: pct, Idle: 100 - pct}, Memory: system.Memory{Total: 1000, Available: 500}}
}

// feedUntil records a sample every 100 ms (sample time moving 500 ms
// each) until done holds, as the sampler would.
func feedUntil(t *testing.T, e *env, pct float64, what string, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		e.clk.Advance(500 * time.Millisecond)
		e.rec.Sample(cpuSample(e.clk.Now(), pct))
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHostRules_WholePath: samples above the rule's threshold for its
// `for` fire it (engine -> alert event -> Attach -> outbox item in the
// event's transaction -> deliverer -> webhook); samples below its clear
// level resolve it.
func TestHostRules_WholePath(t *testing.T) {
	hook := newReceiver(t)
	e := newEnv(t, "rules.yaml", map[string]string{"HOOK_URL": hook.url()}, realClock())
	e.run()
	feedUntil(t, e, 95, "cpu-busy to fire", func() bool { return len(hook.accepted()) >= 1 })
	m := hook.accepted()[0].msg
	if len(m.Alerts) != 1 {
		t.Fatalf("message %+v; want one alert", m)
	}
	al := m.Alerts[0]
	want := map[string]string{"host": testHost, "rule": "cpu-busy", "severity": "critical"}
	if al.Key != "rule:cpu-busy" || al.Source != model.AlertSourceRule || al.Name != "cpu-busy" ||
		al.State != model.AlertFiring || !maps.Equal(al.Labels, want) || al.Summary == "" || al.Reason == "" {
		t.Errorf("alert %+v; want cpu-busy firing with labels %v", al, want)
	}
	ev := e.stored(func(ev model.Event) bool { return ev.Kind == model.EventAlert })
	if ev.Check != "rule:cpu-busy" {
		t.Errorf("alert event names %q; want the alert's key (subscribers tell alerts apart by it)", ev.Check)
	}
	waitFor(t, 5*time.Second, "the delivery recorded", func() bool { return len(e.deliveries()) == 1 })
	if d := e.deliveries()[0]; d.EventID != ev.ID || d.Alert.Key != "rule:cpu-busy" {
		t.Errorf("delivery %+v; want it stored with alert event %d", d, ev.ID)
	}
	if stored, ok := e.active("rule:cpu-busy"); !ok || !stored.StartsAt.Equal(al.StartsAt) {
		t.Errorf("active alert %+v, %v", stored, ok)
	}
	for range 5 { // between the clear level and the threshold: still firing
		e.clk.Advance(500 * time.Millisecond)
		e.rec.Sample(cpuSample(e.clk.Now(), 85))
		time.Sleep(100 * time.Millisecond)
	}
	if n := len(hook.all()); n != 1 {
		t.Fatalf("%d messages at 85%%; want it still firing (clear: 80)", n)
	}
	feedUntil(t, e, 10, "cpu-busy to resolve", func() bool { return len(hook.accepted()) >= 2 })
	if al := hook.accepted()[1].msg.Alerts[0]; al.Key != "rule:cpu-busy" || al.State != model.AlertResolved {
		t.Errorf("second message %+v; want cpu-busy resolved", al)
	}
}
