package alert

import (
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestAttach_Flapping: a check that starts flapping fires a warning of its
// own (beside its state alert) to the channels its checks route to, and
// stopping resolves it.
func TestAttach_Flapping(t *testing.T) {
	clk := fixedClock(time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC))
	e := newEnv(t, "attach.yaml", attachVars, clk)
	e.rec.Event(model.Event{Time: clk.Now(), Kind: model.EventFlapping, Check: "api", From: model.StateUp, To: model.StateDegraded,
		Reason: "changed state 5 times in 10m0s"})
	al, ok := e.active("check:api:flapping")
	if !ok || al.State != model.AlertFiring || al.Severity != "warning" || al.Summary != "api is flapping" || al.Labels["flapping"] != "true" {
		t.Fatalf("flapping alert %+v, %v", al, ok)
	}
	if items := e.outbox("hook"); len(items) != 1 || items[0].Alert.Key != "check:api:flapping" {
		t.Fatalf("hook items %v", keys(items))
	}
	clk.Advance(time.Minute)
	e.rec.Event(model.Event{Time: clk.Now(), Kind: model.EventFlapping, Check: "api", From: model.StateDegraded, To: model.StateUp,
		Reason: "stopped flapping"})
	if _, ok := e.active("check:api:flapping"); ok {
		t.Fatal("still flapping after it stopped")
	}
	if items := e.outbox("hook"); len(items) != 2 || items[1].Alert.State != model.AlertResolved {
		t.Fatalf("hook items %v", keys(items))
	}
}

// TestRun_ReloadResolvesRemovedChecks: the alert of a check a reload
// removed resolves (nothing would ever report it up again).
func TestRun_ReloadResolvesRemovedChecks(t *testing.T) {
	e := newEnv(t, "attach.yaml", attachVars, realClock())
	e.check("api", model.StateUp, model.StateDown, "refused")
	if _, ok := e.active("check:api"); !ok {
		t.Fatal("api does not fire")
	}
	e.run()
	cfg := *e.latest.Config()
	cfg.Checks = cfg.Checks[:1] // web stays, api goes
	e.latest.SetConfig(&cfg)
	e.rec.Event(model.Event{Time: time.Now(), Kind: model.EventReload, Reason: "configuration reloaded, 1 checks"})
	waitFor(t, 10*time.Second, "api's alert resolved", func() bool { _, ok := e.active("check:api"); return !ok })
}
