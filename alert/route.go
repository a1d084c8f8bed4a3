package alert

import (
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// target is a channel an alert goes to, and whether it hears of the end.
type target struct {
	channel      string
	sendResolved bool
}

// routeAlert returns the channels of every route matching al, each once
// (the first route naming a channel decides its send_resolved).
func routeAlert(ac config.Alerts, al model.Alert) []target {
	var out []target
	seen := map[string]bool{}
	for _, r := range ac.Routes {
		if !routeMatches(r, al) {
			continue
		}
		resolved := ac.SendResolved
		if r.SendResolved != nil {
			resolved = *r.SendResolved
		}
		for _, ch := range r.Channels {
			if !seen[ch] {
				seen[ch] = true
				out = append(out, target{channel: ch, sendResolved: resolved})
			}
		}
	}
	return out
}

// routeMatches decides whether a route takes an alert.
//
// Selectors pick by kind. Checks, groups and types select check alerts
// (each one set must match); rules select host rule, fleet host and dashd
// alerts by rule name (dashd's own are "dashd.storage", "dashd.sampling",
// "dashd.config"; a fleet host's unreachable alert is "host.unreachable").
// A route that sets only check selectors takes no rule alert and the other
// way round; one that sets both takes each kind by its own selectors; one
// that sets none takes every kind.
//
// Filters then apply to every kind alike, each one set must pass:
// severities must list the alert's severity; hosts must match its host
// label (a fleet host's name, or this dashd's own host for its own
// alerts); every entry of labels must name a label the alert has, with a
// value its glob matches (a label the alert lacks never matches, not even
// "*").
func routeMatches(r config.Route, al model.Alert) bool {
	return routeFilters(r, al) && routeSelects(r, al)
}

// routeFilters applies the filters of r that hold for every alert kind.
func routeFilters(r config.Route, al model.Alert) bool {
	if len(r.Severities) > 0 && !anyGlob(r.Severities, al.Severity) {
		return false
	}
	if len(r.Hosts) > 0 && !anyGlob(r.Hosts, al.Labels["host"]) {
		return false
	}
	for k, p := range r.Labels {
		v, ok := al.Labels[k]
		if !ok {
			return false
		}
		if m, _ := path.Match(p, v); !m {
			return false
		}
	}
	return true
}

// routeSelects applies the kind selectors of r.
func routeSelects(r config.Route, al model.Alert) bool {
	checkSel := len(r.Checks)+len(r.Groups)+len(r.Types) > 0
	ruleSel := len(r.Rules) > 0
	if !checkSel && !ruleSel {
		return true
	}
	if al.Source != model.AlertSourceCheck {
		return ruleSel && anyGlob(r.Rules, al.Name)
	}
	if !checkSel {
		return false
	}
	return (len(r.Checks) == 0 || anyGlob(r.Checks, al.Name)) &&
		(len(r.Groups) == 0 || anyGlob(r.Groups, al.Labels["group"])) &&
		(len(r.Types) == 0 || anyGlob(r.Types, al.Labels["type"]))
}

// anyGlob reports whether s matches one of the patterns (path.Match;
// patterns were validated with the configuration).
func anyGlob(patterns []string, s string) bool {
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

// silenceMatches: each matcher a silence sets must match; a silence with
// none matches every alert.
func silenceMatches(checks, groups, rules []string, al model.Alert) bool {
	check := al.Source == model.AlertSourceCheck
	if len(checks) > 0 && !(check && anyGlob(checks, al.Name)) {
		return false
	}
	if len(groups) > 0 && !(check && anyGlob(groups, al.Labels["group"])) {
		return false
	}
	if len(rules) > 0 && !(!check && anyGlob(rules, al.Name)) {
		return false
	}
	return true
}

// silenced reports whether a silence or a maintenance window holds al
// back at t. a.mu is held.
func (a *Alerter) silenced(cfg *config.Config, al model.Alert, t time.Time) bool {
	return a.silencedBy(al, t) != "" || maintenanceFor(cfg, al, t) != ""
}

// silencedBy names the active silence matching al at t ("" for none). a.mu
// is held.
func (a *Alerter) silencedBy(al model.Alert, t time.Time) string {
	for _, s := range a.silences {
		if s.Active(t) && silenceMatches(s.Checks, s.Groups, s.Rules, al) {
			return "silence #" + itoa(s.ID)
		}
	}
	return ""
}

// maintenanceFor names the maintenance window covering al at t.
func maintenanceFor(cfg *config.Config, al model.Alert, t time.Time) string {
	for _, m := range cfg.Alerts.Maintenance {
		if m.Active(t) && silenceMatches(m.Checks, m.Groups, m.Rules, al) {
			return m.Name
		}
	}
	return ""
}

// dropEndedSilences forgets silences that ended. a.mu is held.
func (a *Alerter) dropEndedSilences(now time.Time) {
	kept := a.silences[:0]
	for _, s := range a.silences {
		if s.Active(now) || now.Before(s.Start) {
			kept = append(kept, s)
		}
	}
	a.silences = kept
}

// alertURL links an alert to its dashd page: a check's page, the alerts
// page otherwise. Empty without alerts.external_url.
func alertURL(base string, al model.Alert) string {
	if base == "" {
		return ""
	}
	base = strings.TrimSuffix(base, "/")
	if al.Source == model.AlertSourceHost {
		return base + "/hosts/" + url.PathEscape(al.Labels["host"])
	}
	if al.Source == model.AlertSourceCheck && strings.Contains(al.Key, "@") {
		return base + "/hosts/" + url.PathEscape(al.Labels["host"]) + "/checks/" + url.PathEscape(al.Name)
	}
	if al.Source == model.AlertSourceCheck {
		return base + "/checks/" + url.PathEscape(al.Name)
	}
	return base + "/alerts"
}

func itoa(n uint64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = digits[n%10]
		n /= 10
	}
	return string(b[i:])
}

// validPattern reports whether p is a usable glob.
func validPattern(p string) bool {
	_, err := path.Match(p, "")
	return p != "" && err == nil
}

// InMaintenance reports whether a maintenance window covers check at t:
// its results then do not count for uptime (flow.Maintainer).
func (a *Alerter) InMaintenance(check string, t time.Time) bool {
	al := model.Alert{Source: model.AlertSourceCheck, Name: check, Labels: map[string]string{}}
	if st, ok := a.o.Checks.Status(check); ok {
		al.Labels["group"] = st.Group
	}
	return maintenanceFor(a.o.Latest.Config(), al, t) != ""
}

// resolveTargets returns the channels that may hear that al (resolved)
// ended: those its routes take now and, whatever severity the problem
// had when they heard of it, those that take it but for the severity. A
// channel told "web is down" (critical) hears "web recovered" even when
// web was degraded (warning) in between. Routes that took the alert as it
// fired (fired) count too: a fleet host whose labels changed since (env:
// staging to env: prod) still tells the channels its labels routed it to.
// change keeps only the channels that heard of the problem.
func resolveTargets(ac config.Alerts, al, fired model.Alert) []target {
	out := routeAlert(ac, al)
	seen := map[string]bool{}
	for _, t := range out {
		seen[t.channel] = true
	}
	for _, r := range ac.Routes {
		r.Severities = nil
		if !routeMatches(r, al) && !routeMatches(r, fired) {
			continue
		}
		resolved := ac.SendResolved
		if r.SendResolved != nil {
			resolved = *r.SendResolved
		}
		for _, ch := range r.Channels {
			if !seen[ch] {
				seen[ch] = true
				out = append(out, target{channel: ch, sendResolved: resolved})
			}
		}
	}
	return out
}
