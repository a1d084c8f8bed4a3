package alert

import (
	"slices"
	"testing"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// Alerts of every source, for the route tables.
var (
	webAlert  = model.Alert{Key: "check:web-1", Source: model.AlertSourceCheck, Name: "web-1", Severity: "critical", Labels: map[string]string{"group": "shop", "type": "http"}}
	apiAlert  = model.Alert{Key: "check:api", Source: model.AlertSourceCheck, Name: "api", Severity: "warning", Labels: map[string]string{"type": "tcp"}}
	diskAlert = model.Alert{Key: "rule:disk-full:/var", Source: model.AlertSourceRule, Name: "disk-full", Severity: "critical", Labels: map[string]string{"mountpoint": "/var"}}
	selfAlert = model.Alert{Key: "dashd:storage", Source: model.AlertSourceDashd, Name: "dashd.storage", Severity: "critical"}
)

func TestRouteMatches(t *testing.T) {
	tests := []struct {
		name  string
		route config.Route
		want  []model.Alert // the alerts it takes, of web, api, disk, self
	}{
		{"no selector takes every alert", config.Route{}, []model.Alert{webAlert, apiAlert, diskAlert, selfAlert}},
		{"checks by glob", config.Route{Checks: []string{"web-*"}}, []model.Alert{webAlert}},
		{"checks star takes checks only", config.Route{Checks: []string{"*"}}, []model.Alert{webAlert, apiAlert}},
		{"groups", config.Route{Groups: []string{"shop"}}, []model.Alert{webAlert}},
		{"types", config.Route{Types: []string{"tcp"}}, []model.Alert{apiAlert}},
		{"checks and groups must both match", config.Route{Checks: []string{"api"}, Groups: []string{"shop"}}, nil},
		{"checks and types", config.Route{Checks: []string{"*"}, Types: []string{"http"}}, []model.Alert{webAlert}},
		{"rules by glob", config.Route{Rules: []string{"disk-*"}}, []model.Alert{diskAlert}},
		{"rules take dashd's own by name", config.Route{Rules: []string{"dashd.*"}}, []model.Alert{selfAlert}},
		{"rules star takes rules and dashd's", config.Route{Rules: []string{"*"}}, []model.Alert{diskAlert, selfAlert}},
		{"checks and rules: each kind by its own", config.Route{Checks: []string{"api"}, Rules: []string{"disk-full"}}, []model.Alert{apiAlert, diskAlert}},
		{"severities alone", config.Route{Severities: []string{"critical"}}, []model.Alert{webAlert, diskAlert, selfAlert}},
		{"severities narrow checks", config.Route{Checks: []string{"*"}, Severities: []string{"warning"}}, []model.Alert{apiAlert}},
		{"severities narrow rules", config.Route{Rules: []string{"*"}, Severities: []string{"warning", "info"}}, nil},
		{"a group no check has", config.Route{Groups: []string{"nope"}}, nil},
	}
	all := []model.Alert{webAlert, apiAlert, diskAlert, selfAlert}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, al := range all {
				want := slices.ContainsFunc(tt.want, func(w model.Alert) bool { return w.Key == al.Key })
				if got := routeMatches(tt.route, al); got != want {
					t.Errorf("routeMatches(%+v, %s) = %v, want %v", tt.route, al.Key, got, want)
				}
			}
		})
	}
}

func TestRouteAlert_OneTargetPerChannel(t *testing.T) {
	no := false
	ac := config.Alerts{SendResolved: true, Routes: []config.Route{
		{Checks: []string{"*"}, Channels: []string{"hook", "mail"}},
		{Groups: []string{"shop"}, Channels: []string{"hook", "ops"}, SendResolved: &no},
		{Rules: []string{"*"}, Channels: []string{"ops"}},
	}}
	tests := []struct {
		name string
		al   model.Alert
		want []target
	}{
		// hook is named twice: one target, the first route decides.
		{"check in shop", webAlert, []target{{"hook", true}, {"mail", true}, {"ops", false}}},
		{"check elsewhere", apiAlert, []target{{"hook", true}, {"mail", true}}},
		{"rule", diskAlert, []target{{"ops", true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routeAlert(ac, tt.al); !slices.Equal(got, tt.want) {
				t.Errorf("routeAlert = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestAttach_ResolvedToChannelsThatHeard: a resolution goes to the
// channels that heard of the problem, and only to them: pager (critical
// only) heard web down, so it hears web recovered although web was
// degraded (warning) last; it never heard of api (only ever degraded),
// so it does not hear api recovered.
func TestAttach_ResolvedToChannelsThatHeard(t *testing.T) {
	e := newEnv(t, "severity.yaml", map[string]string{"HOOK_URL": "http://127.0.0.1:9/h", "PAGER_URL": "http://127.0.0.1:9/p"}, realClock())
	steps := []struct {
		check    string
		from, to model.State
		hook     []string // what each channel has queued after the step
		pager    []string
	}{
		{"web", model.StateUp, model.StateDown, []string{"check:web/firing"}, []string{"check:web/firing"}},
		{"web", model.StateDown, model.StateDegraded, []string{"check:web/firing", "check:web/firing"}, []string{"check:web/firing"}},
		{"web", model.StateDegraded, model.StateUp,
			[]string{"check:web/firing", "check:web/firing", "check:web/resolved"}, []string{"check:web/firing", "check:web/resolved"}},
		{"api", model.StateUp, model.StateDegraded,
			[]string{"check:web/firing", "check:web/firing", "check:web/resolved", "check:api/firing"}, []string{"check:web/firing", "check:web/resolved"}},
		{"api", model.StateDegraded, model.StateUp,
			[]string{"check:web/firing", "check:web/firing", "check:web/resolved", "check:api/firing", "check:api/resolved"}, []string{"check:web/firing", "check:web/resolved"}},
	}
	for i, st := range steps {
		e.check(st.check, st.from, st.to, "")
		if hook, pager := keys(e.outbox("hook")), keys(e.outbox("pager")); !slices.Equal(hook, st.hook) || !slices.Equal(pager, st.pager) {
			t.Fatalf("step %d (%s %s->%s): hook %v pager %v; want %v and %v", i, st.check, st.from, st.to, hook, pager, st.hook, st.pager)
		}
	}
}

// TestAttach_ResolvedNotToLateChannels: a channel a reload routed the
// alert to after it fired did not hear of it, so it does not hear that it
// ended either.
func TestAttach_ResolvedNotToLateChannels(t *testing.T) {
	vars := map[string]string{"HOOK_URL": "http://127.0.0.1:9/h", "OPS_URL": "http://127.0.0.1:9/o"}
	e := newEnv(t, "attach.yaml", vars, realClock())
	e.check("api", model.StateUp, model.StateDown, "")
	cfg := loadConfig(t, "attach.yaml", vars)
	cfg.Alerts.Routes = append(cfg.Alerts.Routes, config.Route{Checks: []string{"api"}, Channels: []string{"ops"}})
	e.latest.SetConfig(cfg)
	e.check("api", model.StateDown, model.StateUp, "")
	if hook, ops := keys(e.outbox("hook")), keys(e.outbox("ops")); len(hook) != 2 || len(ops) != 0 {
		t.Errorf("hook %v, ops %v; want api firing and resolved for hook, nothing for ops", hook, ops)
	}
}
