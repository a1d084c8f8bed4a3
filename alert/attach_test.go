package alert

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// attachVars points attach.yaml's channels at addresses nothing listens
// on: these tests look at what is queued, no Alerter runs.
var attachVars = map[string]string{"HOOK_URL": "http://127.0.0.1:9/hook", "OPS_URL": "http://127.0.0.1:9/ops"}

// TestAttach_CheckTransitions: a check going down, degraded and up again
// fires, changes and resolves one alert with the right key, labels,
// summary and StartsAt; unknown->up fires nothing; every item is stored
// with the event that caused it (same transaction: the item carries the
// event's ID) and routed as attach.yaml says.
func TestAttach_CheckTransitions(t *testing.T) {
	clk := fixedClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e := newEnv(t, "attach.yaml", attachVars, clk)
	firstDown := clk.Now().Add(2 * time.Minute) // the second step
	steps := []struct {
		name       string
		from, to   model.State
		reason     string
		wantState  model.AlertState // "" : no alert at all
		severity   string
		summary    string
		wantHook   int // items hook got for this event
		wantOps    int
		wantEndsAt bool
	}{
		{name: "starting up", from: model.StateUnknown, to: model.StateUp},
		{name: "down", from: model.StateUp, to: model.StateDown, reason: "connect: connection refused",
			wantState: model.AlertFiring, severity: "critical", summary: "web is down", wantHook: 1, wantOps: 1},
		{name: "down again (same problem)", from: model.StateDown, to: model.StateDown, reason: "still refused",
			wantState: model.AlertFiring, severity: "critical", summary: "web is down"},
		{name: "degraded", from: model.StateDown, to: model.StateDegraded, reason: "slow: 2.1s",
			wantState: model.AlertFiring, severity: "warning", summary: "web is degraded", wantHook: 1, wantOps: 1},
		// ops' route says send_resolved: false.
		{name: "up", from: model.StateDegraded, to: model.StateUp, reason: "HTTP 200",
			wantState: model.AlertResolved, severity: "warning", summary: "web recovered", wantHook: 1, wantEndsAt: true},
	}
	hookSeen, opsSeen := 0, 0
	for i, st := range steps {
		clk.Advance(time.Minute)
		ev := e.check("web", st.from, st.to, st.reason)
		hook, ops := e.outbox("hook"), e.outbox("ops")
		newHook, newOps := hook[hookSeen:], ops[opsSeen:]
		hookSeen, opsSeen = len(hook), len(ops)
		if len(newHook) != st.wantHook || len(newOps) != st.wantOps {
			t.Fatalf("step %d %s: new items hook %v ops %v; want %d and %d", i, st.name, keys(newHook), keys(newOps), st.wantHook, st.wantOps)
		}
		for _, it := range slices.Concat(newHook, newOps) {
			if it.EventID != ev.ID || !it.Created.Equal(ev.Time) {
				t.Errorf("step %s: item %+v; want EventID %d and Created %s (the event's)", st.name, it, ev.ID, ev.Time)
			}
			al := it.Alert
			wantLabels := map[string]string{"host": testHost, "check": "web", "group": "shop", "type": "tcp", "severity": st.severity}
			if al.Key != "check:web" || al.Source != model.AlertSourceCheck || al.Name != "web" || al.State != st.wantState ||
				al.Severity != st.severity || al.Summary != st.summary || al.Reason != st.reason || !maps.Equal(al.Labels, wantLabels) {
				t.Errorf("step %s: alert %+v; want %s %s %q, labels %v", st.name, al, st.wantState, st.severity, st.summary, wantLabels)
			}
			if !al.StartsAt.Equal(firstDown) {
				t.Errorf("step %s: StartsAt %s; want %s, when web first went down", st.name, al.StartsAt, firstDown)
			}
			if st.wantEndsAt != !al.EndsAt.IsZero() || (st.wantEndsAt && !al.EndsAt.Equal(ev.Time)) {
				t.Errorf("step %s: EndsAt %s; want it set to the event time only once resolved", st.name, al.EndsAt)
			}
			if al.URL != "https://dash.example.org/checks/web" {
				t.Errorf("step %s: URL %q", st.name, al.URL)
			}
		}
		stored, firing := e.active("check:web")
		if firing != (st.wantState == model.AlertFiring) {
			t.Errorf("step %s: stored active %v (%+v); want %v", st.name, firing, stored, st.wantState == model.AlertFiring)
		}
		if firing && (stored.Severity != st.severity || !stored.StartsAt.Equal(firstDown)) {
			t.Errorf("step %s: stored alert %+v", st.name, stored)
		}
	}
	if n := e.a.FiringCount(); n != 0 {
		t.Errorf("FiringCount after web recovered = %d", n)
	}
}

// TestAttach_UngroupedCheck: a check without a group has no group label
// and only the route of every check takes it.
func TestAttach_UngroupedCheck(t *testing.T) {
	e := newEnv(t, "attach.yaml", attachVars, realClock())
	e.check("api", model.StateUp, model.StateDown, "refused")
	hook, ops := e.outbox("hook"), e.outbox("ops")
	if len(hook) != 1 || len(ops) != 0 {
		t.Fatalf("items hook %v ops %v; want one for hook only", keys(hook), keys(ops))
	}
	if _, ok := hook[0].Alert.Labels["group"]; ok || hook[0].Alert.Labels["type"] != "tcp" {
		t.Errorf("labels %v; want a type and no group", hook[0].Alert.Labels)
	}
}

// TestAttach_DashdConfig: a rejected reload fires dashd.config, an
// accepted one resolves it; an accepted reload with nothing firing is no
// alert.
func TestAttach_DashdConfig(t *testing.T) {
	e := newEnv(t, "attach.yaml", attachVars, realClock())
	e.rec.Event(model.Event{Kind: model.EventReload, Reason: "configuration reloaded, 2 checks"})
	if got := e.outbox("ops"); len(got) != 0 {
		t.Fatalf("reload with nothing firing queued %v", keys(got))
	}
	e.rec.Event(model.Event{Kind: model.EventConfig, Reason: "configuration rejected: c.yaml:3:4: bad"})
	ev := e.stored(func(ev model.Event) bool { return ev.Kind == model.EventConfig })
	ops := e.outbox("ops")
	if len(ops) != 1 || len(e.outbox("hook")) != 0 {
		t.Fatalf("ops %v, hook %v; want dashd.config for ops only", keys(ops), keys(e.outbox("hook")))
	}
	al := ops[0].Alert
	want := map[string]string{"host": testHost, "rule": "dashd.config", "severity": "warning"}
	if al.Key != "dashd:config" || al.Name != "dashd.config" || al.State != model.AlertFiring || al.Severity != "warning" ||
		al.Reason != "configuration rejected: c.yaml:3:4: bad" || !maps.Equal(al.Labels, want) || ops[0].EventID != ev.ID {
		t.Errorf("dashd.config item %+v; want firing warning with labels %v and the event's ID %d", ops[0], want, ev.ID)
	}
	if al.URL != "https://dash.example.org/alerts" {
		t.Errorf("URL %q; want the alerts page", al.URL)
	}
	e.rec.Event(model.Event{Kind: model.EventReload, Reason: "configuration reloaded, 2 checks"})
	ops = e.outbox("ops")
	if len(ops) != 2 || ops[1].Alert.Key != "dashd:config" || ops[1].Alert.State != model.AlertResolved {
		t.Fatalf("after the accepted reload ops has %v; want dashd.config resolved", keys(ops))
	}
	if _, firing := e.active("dashd:config"); firing || e.a.FiringCount() != 0 {
		t.Errorf("dashd.config still active after an accepted reload")
	}
}

// TestAttach_AfterRestart: a new Alerter on the same storage continues
// the alerts that fired, from its first event on, before Run: a check
// still down keeps its StartsAt, and one that comes back up after the
// restart (from unknown, as every check starts) resolves its alert.
func TestAttach_AfterRestart(t *testing.T) {
	clk := fixedClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e := newEnv(t, "attach.yaml", attachVars, clk)
	started := clk.Now()
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.check("api", model.StateUp, model.StateDown, "refused")
	e.restart()
	if n := e.a.FiringCount(); n != 2 {
		t.Fatalf("FiringCount after restart = %d, want 2 (loaded from storage)", n)
	}
	clk.Advance(time.Minute)
	e.check("web", model.StateUnknown, model.StateDegraded, "slow")
	hook := e.outbox("hook")
	if last := hook[len(hook)-1]; last.Alert.Key != "check:web" || !last.Alert.StartsAt.Equal(started) {
		t.Errorf("degraded after restart: %+v; want StartsAt %s kept", last.Alert, started)
	}
	e.check("api", model.StateUnknown, model.StateUp, "ok")
	hook = e.outbox("hook")
	if last := hook[len(hook)-1]; last.Alert.Key != "check:api" || last.Alert.State != model.AlertResolved {
		t.Fatalf("api up after restart queued %v; want api resolved", keys(hook))
	}
	if _, firing := e.active("check:api"); firing {
		t.Error("api still active in storage after it came back up")
	}
}
