package alert

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/storage"
)

// agentEnv is an agent's side of alerting: its own storage file, flow and
// latest state, and AgentRules attached to the flow and running.
type agentEnv struct {
	t      *testing.T
	clk    *clock
	path   string
	db     *storage.DB
	latest *state.Latest
	rec    *flow.Recorder
	sub    *flow.Subscription
	rules  *AgentRules
	stop   func()
}

// newAgentEnv starts an agent's rules on testdata/agentrules.yaml with its
// database at path.
func newAgentEnv(t *testing.T, path string, clk *clock) *agentEnv {
	t.Helper()
	a := &agentEnv{t: t, clk: clk, path: path, latest: state.New(loadConfig(t, "agentrules.yaml", nil), clk.Now())}
	opts := storage.DefaultOptions()
	opts.Clock = clk.Now
	opts.InitialMmapSize = 0
	opts.Timeout = 5 * time.Second
	db, err := storage.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	a.db = db
	ctx, cancel := context.WithCancel(context.Background())
	dbDone := make(chan struct{})
	go func() { _ = db.Run(ctx); close(dbDone) }()
	a.rec, err = flow.New(flow.Options{Store: db, Latest: a.latest})
	if err != nil {
		t.Fatal(err)
	}
	a.sub = a.rec.Subscribe("test", 1024)
	a.rules, err = NewAgentRules(AgentRulesOptions{Store: db, Latest: a.latest, Recorder: a.rec, Host: "web-1"})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, stopRun := context.WithCancel(context.Background())
	runDone := make(chan error, 1)
	go func() { runDone <- a.rules.Run(runCtx) }()
	stopped := false
	a.stop = func() {
		if stopped {
			return
		}
		stopped = true
		stopRun()
		select {
		case err := <-runDone:
			if err != nil {
				t.Errorf("Run returned %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Run did not return within 15s")
		}
		cancel()
		<-dbDone
		if err := db.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
	t.Cleanup(a.stop)
	return a
}

// feedUntil records a sample every 50 ms (sample time moving 500 ms each)
// until an alert event for key with state to is fanned out, and returns it.
func (a *agentEnv) feedUntil(pct float64, key string, to model.State) model.Event {
	a.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		a.clk.Advance(500 * time.Millisecond)
		a.rec.Sample(cpuSample(a.clk.Now(), pct))
		time.Sleep(50 * time.Millisecond)
		for {
			select {
			case m := <-a.sub.C():
				if m.Kind == flow.KindEvent && m.Event.Kind == model.EventAlert && m.Event.Check == key && m.Event.To == to {
					return m.Event
				}
				continue
			default:
			}
			break
		}
	}
	a.t.Fatalf("no alert event %s %s within 20s", key, to)
	return model.Event{}
}

func (a *agentEnv) active(key string) (model.Alert, bool) {
	a.t.Helper()
	alerts, err := a.db.ActiveAlerts()
	if err != nil {
		a.t.Fatal(err)
	}
	for _, al := range alerts {
		if al.Key == key {
			return al, true
		}
	}
	return model.Alert{}, false
}

// TestAgentRules_FireRestartResolve: an agent's rule fires on its own
// samples as an alert event with the alert stored beside it (host label
// the agent's); after a restart the agent still knows it fires and
// resolves it when the value comes back.
func TestAgentRules_FireRestartResolve(t *testing.T) {
	clk := realClock()
	path := filepath.Join(t.TempDir(), "agent.db")
	a := newAgentEnv(t, path, clk)
	ev := a.feedUntil(95, "rule:cpu-busy", model.StateDown)
	if ev.ID == 0 || !strings.Contains(ev.Reason, "95") {
		t.Errorf("event %+v; want it stored, its text saying the value", ev)
	}
	al, ok := a.active("rule:cpu-busy")
	if !ok || al.Labels["host"] != "web-1" || al.Labels["rule"] != "cpu-busy" || al.Severity != "critical" || al.Summary == "" {
		t.Fatalf("stored alert %+v, %v; want cpu-busy firing on web-1", al, ok)
	}
	a.stop()

	a = newAgentEnv(t, path, clk) // a restart: the engine learns it fires
	ev = a.feedUntil(10, "rule:cpu-busy", model.StateUp)
	if _, ok := a.active("rule:cpu-busy"); ok {
		t.Error("still active after the resolution")
	}
	if ev.ID == 0 {
		t.Errorf("resolution %+v not stored", ev)
	}
}

// TestAgentRules_ReloadResolvesRemovedRule: a reloaded configuration
// without the rule resolves its alert at the next sample.
func TestAgentRules_ReloadResolvesRemovedRule(t *testing.T) {
	a := newAgentEnv(t, filepath.Join(t.TempDir(), "agent.db"), realClock())
	a.feedUntil(95, "rule:cpu-busy", model.StateDown)
	cfg := *a.latest.Config()
	cfg.Alerts.Rules = nil
	a.latest.SetConfig(&cfg)
	ev := a.feedUntil(95, "rule:cpu-busy", model.StateUp)
	if !strings.Contains(ev.Reason, "resolved") {
		t.Errorf("reason %q; want it to say why it resolved", ev.Reason)
	}
	if _, ok := a.active("rule:cpu-busy"); ok {
		t.Error("still active after the rule was removed")
	}
}

// TestNewAgentRules_Required: a missing part is an error, not a panic
// later.
func TestNewAgentRules_Required(t *testing.T) {
	if _, err := NewAgentRules(AgentRulesOptions{}); err == nil {
		t.Fatal("NewAgentRules without parts: no error")
	}
}
