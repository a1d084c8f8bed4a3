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

// Alerts of a hub: its own (host hub) and its agents' (host and hello
// labels), for the host and label filters.
var (
	hubCheck   = model.Alert{Key: "check:web", Source: model.AlertSourceCheck, Name: "web", Severity: "critical", Labels: map[string]string{"host": "hub", "check": "web"}}
	hubSelf    = model.Alert{Key: "dashd:storage", Source: model.AlertSourceDashd, Name: "dashd.storage", Severity: "critical", Labels: map[string]string{"host": "hub", "rule": "dashd.storage"}}
	web1Check  = model.Alert{Key: "check:web@web-1", Source: model.AlertSourceCheck, Name: "web", Severity: "critical", Labels: map[string]string{"host": "web-1", "check": "web", "env": "prod", "role": "web"}}
	web2Rule   = model.Alert{Key: "rule:cpu-busy@web-2", Source: model.AlertSourceRule, Name: "cpu-busy", Severity: "warning", Labels: map[string]string{"host": "web-2", "rule": "cpu-busy", "env": "staging", "role": "web"}}
	db1Disk    = model.Alert{Key: "rule:disk-full:/var@db-1", Source: model.AlertSourceRule, Name: "disk-full", Severity: "critical", Labels: map[string]string{"host": "db-1", "rule": "disk-full", "mountpoint": "/var", "env": "prod"}}
	db1Gone    = model.Alert{Key: "host:db-1", Source: model.AlertSourceHost, Name: "host.unreachable", Severity: "critical", Labels: map[string]string{"host": "db-1", "rule": "host.unreachable", "env": "prod"}}
	hubAlerts  = []model.Alert{hubCheck, hubSelf, web1Check, web2Rule, db1Disk, db1Gone}
	noLabelsAl = model.Alert{Key: "check:old", Source: model.AlertSourceCheck, Name: "old", Severity: "critical"}
)

// TestRouteMatches_HostsAndLabels: hosts and labels filter every kind of
// alert, the hub's own and its agents', and combine with the selectors
// and severities.
func TestRouteMatches_HostsAndLabels(t *testing.T) {
	tests := []struct {
		name  string
		route config.Route
		want  []model.Alert // of hubAlerts
	}{
		{"hosts alone take every kind on those hosts", config.Route{Hosts: []string{"web-*"}}, []model.Alert{web1Check, web2Rule}},
		{"the hub's own alerts by its host", config.Route{Hosts: []string{"hub"}}, []model.Alert{hubCheck, hubSelf}},
		{"several host globs", config.Route{Hosts: []string{"hub", "db-?"}}, []model.Alert{hubCheck, hubSelf, db1Disk, db1Gone}},
		{"hosts narrow check selectors", config.Route{Checks: []string{"web"}, Hosts: []string{"web-*"}}, []model.Alert{web1Check}},
		{"hosts narrow rule selectors", config.Route{Rules: []string{"*"}, Hosts: []string{"db-1"}}, []model.Alert{db1Disk, db1Gone}},
		{"hello labels", config.Route{Labels: map[string]string{"env": "prod"}}, []model.Alert{web1Check, db1Disk, db1Gone}},
		{"label globs", config.Route{Labels: map[string]string{"env": "stag*"}}, []model.Alert{web2Rule}},
		{"every label must match", config.Route{Labels: map[string]string{"env": "prod", "role": "web"}}, []model.Alert{web1Check}},
		{"a label the alert lacks never matches, not even *", config.Route{Labels: map[string]string{"role": "*"}}, []model.Alert{web1Check, web2Rule}},
		{"the alert's own labels too", config.Route{Labels: map[string]string{"mountpoint": "/var"}}, []model.Alert{db1Disk}},
		{"labels and hosts and severities", config.Route{Hosts: []string{"*"}, Labels: map[string]string{"env": "prod"}, Severities: []string{"critical"}},
			[]model.Alert{web1Check, db1Disk, db1Gone}},
		{"labels narrow rules", config.Route{Rules: []string{"cpu-*", "host.*"}, Labels: map[string]string{"env": "prod"}}, []model.Alert{db1Gone}},
		{"no host matches", config.Route{Hosts: []string{"mail-*"}}, nil},
		{"staging only takes nothing of prod", config.Route{Labels: map[string]string{"env": "staging"}, Checks: []string{"*"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, al := range hubAlerts {
				want := slices.ContainsFunc(tt.want, func(w model.Alert) bool { return w.Key == al.Key })
				if got := routeMatches(tt.route, al); got != want {
					t.Errorf("routeMatches(%+v, %s) = %v, want %v", tt.route, al.Key, got, want)
				}
			}
		})
	}
	// An alert without labels: a host glob of "*" takes it (its host is
	// ""), a label selector does not.
	if !routeMatches(config.Route{Hosts: []string{"*"}}, noLabelsAl) || routeMatches(config.Route{Labels: map[string]string{"env": "*"}}, noLabelsAl) {
		t.Errorf("an alert without labels: hosts [*] must take it, labels {env: *} must not")
	}
}

// TestResolveTargets_LabelsChangedSinceFiring: a host whose hello labels
// changed between the firing and the resolution still tells the channel
// its old labels routed the alert to (change then keeps those that heard).
func TestResolveTargets_LabelsChangedSinceFiring(t *testing.T) {
	ac := config.Alerts{SendResolved: true, Routes: []config.Route{
		{Labels: map[string]string{"env": "staging"}, Channels: []string{"staging-team"}},
		{Labels: map[string]string{"env": "prod"}, Channels: []string{"oncall"}},
	}}
	fired := web1Check
	fired.Labels = map[string]string{"host": "web-1", "check": "web", "env": "staging"}
	resolved := web1Check // env: prod now
	resolved.State = model.AlertResolved
	got := resolveTargets(ac, resolved, fired)
	want := []target{{"oncall", true}, {"staging-team", true}}
	if !slices.Equal(got, want) {
		t.Errorf("resolveTargets = %+v, want %+v", got, want)
	}
	if got := routeAlert(ac, resolved); !slices.Equal(got, []target{{"oncall", true}}) {
		t.Errorf("routeAlert = %+v, want only oncall (the labels as they are now)", got)
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
