package alert

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/alert/rules"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
)

// # Fleet hosts
//
// A hub alerts for every host of its fleet, not only its own:
//
//   - A host going unreachable is an event of kind host (the fleet
//     registry records it through the flow, so it is attached like any
//     event): the alert "host:<name>" (Name host.unreachable, labels host
//     and rule host.unreachable), resolved when the host is heard from
//     again. A reload never resolves it: it is no check.
//   - An agent's check changing state reaches the hub as the agent's own
//     event; the fleet ingester hands it to HostEvent after storing it.
//     Its alert is keyed "check:<check>@<host>" and labelled with the
//     agent's host, so it never meets the hub's own check of the same
//     name, and a reload of the hub's configuration (which does not list
//     the agent's checks) leaves it alone.
//   - An agent's host metric rule firing or resolving (the agent
//     evaluates its own rules on its own samples: see "Rules on agents")
//     reaches the hub as an event of kind alert keyed "rule:<rule>..."
//     with the alert the agent attached (severity, summary, reason, and
//     the rule, mountpoint or interface labels). Its alert is keyed
//     "rule:<rule>...@<host>": the hub's own rules (which evaluate only
//     the hub's host) never restore, resolve or meet it; the agent
//     resolves it.
//
// All carry the labels of the host's hello (env, role...), under the
// alert's own labels (host, check, rule, severity win), at most
// maxAlertLabels in all (storage's bound: the rest of the hello's are
// left off, in name order).

// HostLabels gives the labels a fleet host's hello declared (the fleet
// Registry); nil for a host it does not know.
type HostLabels interface {
	HostLabels(host string) map[string]string
}

// hostRuleName is the Name (and rule label) of a host's unreachable alert:
// routes select it with rules: [host.unreachable] (or host.*).
const hostRuleName = "host.unreachable"

// remoteCheckKey keys the alert of check on a fleet host.
func remoteCheckKey(host, check string) string { return checkKey(check) + "@" + host }

// remoteRuleKey keys the alert of a rule instance (its agent-side key,
// "rule:<rule>[:<instance>]") on a fleet host.
func remoteRuleKey(host, key string) string { return key + "@" + host }

// maxAlertLabels is how many labels an alert may carry (storage refuses
// more).
const maxAlertLabels = 64

// ruleLabels are the labels an agent's rule alert may bring along: the
// engine's own (rules.Label*) but severity, which the alert's Severity
// sets.
var ruleLabels = [...]string{rules.LabelRule, rules.LabelMountpoint, rules.LabelInterface}

// withHostLabels adds host's hello labels to labels (never overriding one
// that is set), in name order, up to maxAlertLabels in all. a.mu may be
// held: HostLabels answers from memory.
func (a *Alerter) withHostLabels(host string, labels map[string]string) map[string]string {
	if a.o.Hosts == nil {
		return labels
	}
	hello := a.o.Hosts.HostLabels(host)
	for _, k := range slices.Sorted(maps.Keys(hello)) {
		if len(labels) >= maxAlertLabels-1 { // change adds severity
			break
		}
		if _, set := labels[k]; !set {
			labels[k] = hello[k]
		}
	}
	return labels
}

// hostAlert is the alert of a fleet host's reachability event.
func (a *Alerter) hostAlert(e model.Event) (model.Alert, bool) {
	host := e.Check
	al := model.Alert{Key: model.AlertSourceHost + ":" + host, Source: model.AlertSourceHost, Name: hostRuleName,
		Reason: e.Reason, Severity: config.SeverityCritical,
		Labels: a.withHostLabels(host, map[string]string{"host": host, "rule": hostRuleName})}
	switch e.To {
	case model.StateDown:
		al.State, al.Summary = model.AlertFiring, host+" is unreachable"
	case model.StateUp:
		al.State, al.Summary = model.AlertResolved, host+" is reachable again"
	default:
		return al, false
	}
	return al, true
}

// remoteAlert is the alert of an event an agent sent about one of its
// checks (a state change or flapping); ok false for any other event.
func (a *Alerter) remoteAlert(host string, e model.Event) (model.Alert, bool) {
	var al model.Alert
	switch e.Kind {
	case model.EventCheck:
		var ok bool
		if al, ok = a.checkAlert(e); !ok {
			return al, false
		}
		al.Key = remoteCheckKey(host, e.Check)
	case model.EventFlapping:
		al = a.flapAlert(e)
		al.Key = remoteCheckKey(host, e.Check) + ":flapping"
	default:
		return al, false
	}
	// checkAlert read the hub's own check of that name: not this one.
	labels := map[string]string{"host": host, "check": e.Check}
	if al.Labels["flapping"] != "" {
		labels["flapping"] = "true"
	}
	al.Labels = a.withHostLabels(host, labels)
	return al, true
}

// remoteRuleAlert is the alert of an agent's rule alert event: e.Check is
// the agent's key ("rule:disk-full:/var"), e.To down while it fires and up
// when it resolved, ra what the agent's alert says (the fleet wire checked
// its shape). ok false for anything else.
func (a *Alerter) remoteRuleAlert(host string, e model.Event, ra model.Alert) (model.Alert, bool) {
	name, _, ok := rules.ParseKey(e.Check)
	if e.Kind != model.EventAlert || !ok {
		return model.Alert{}, false
	}
	labels := map[string]string{"host": host, rules.LabelRule: name}
	for _, k := range ruleLabels {
		if v, set := ra.Labels[k]; set && k != rules.LabelRule {
			labels[k] = v
		}
	}
	al := model.Alert{Key: remoteRuleKey(host, e.Check), Source: model.AlertSourceRule, Name: name,
		Severity: ra.Severity, Summary: ra.Summary, Reason: ra.Reason, Labels: a.withHostLabels(host, labels)}
	switch e.To {
	case model.StateDown:
		al.State = model.AlertFiring
	case model.StateUp:
		al.State = model.AlertResolved
	default:
		return al, false
	}
	return al, true
}

// HostEvent alerts on an event a fleet host's agent sent (the fleet
// ingester calls it once the event is stored, before it acknowledges the
// message): a check's state change or flapping, or, with ra, an event of
// kind alert: one of the agent's host metric rules firing or resolving,
// ra the alert the agent attached to it (fleet.DecodeEvent). Other events
// (and an alert event without ra) are ignored. The alert change and its
// outbox items are stored in one transaction before HostEvent returns
// nil; on an error nothing changed, so the redelivered message tries
// again, except for an alert storage refuses as invalid (too long a
// field: retrying would never help), which is logged and dropped. A
// repeat of an event already applied changes nothing (the alert fires
// already, or never did).
func (a *Alerter) HostEvent(ctx context.Context, host string, e model.Event, ra *model.Alert) error {
	cfg := a.o.Latest.Config()
	a.mu.Lock()
	var al model.Alert
	var ok bool
	if e.Kind == model.EventAlert {
		if ra != nil {
			al, ok = a.remoteRuleAlert(host, e, *ra)
		}
	} else {
		al, ok = a.remoteAlert(host, e)
	}
	if !ok {
		a.mu.Unlock()
		return nil
	}
	if al.Source == model.AlertSourceRule && al.State == model.AlertFiring && a.active[al.Key] == nil &&
		a.firingRules(host) >= MaxHostRuleAlerts {
		a.mu.Unlock()
		a.log.Warn("fleet host's rule alert refused: the host has too many firing already", "host", host, "key", al.Key,
			"max", MaxHostRuleAlerts)
		return nil
	}
	return a.hostChange(ctx, cfg, host, al, e.Time)
}

// MaxHostRuleAlerts bounds the rule alerts one fleet host may have firing
// on the hub at once. An agent names its rule instances itself
// ("rule:disk-full:/var"), so a compromised or broken agent inventing
// instances ("/a1", "/a2", ...) would otherwise grow the hub's alerts
// without bound; a real host has a few rules times its disks and
// interfaces. Past the bound a new instance is refused with a warning
// (those firing already still resolve).
const MaxHostRuleAlerts = 256

// firingRules counts host's firing rule alerts. a.mu is held.
func (a *Alerter) firingRules(host string) int {
	n := 0
	suffix := "@" + host
	for key, act := range a.active {
		if act.alert.Source == model.AlertSourceRule && act.alert.State == model.AlertFiring && strings.HasSuffix(key, suffix) {
			n++
		}
	}
	return n
}

// hostChange applies and stores a fleet host's alert change at t (see
// HostEvent). a.mu is held on entry and released.
func (a *Alerter) hostChange(ctx context.Context, cfg *config.Config, host string, al model.Alert, t time.Time) error {
	old, had := a.active[al.Key]
	var prev active
	if had {
		prev = *old
		prev.queued = make(map[string]time.Time, len(old.queued))
		for k, v := range old.queued {
			prev.queued[k] = v
		}
	}
	change := a.change(cfg, al, t)
	a.mu.Unlock()
	if len(change.Alerts) == 0 {
		return nil
	}
	if _, err := a.o.Store.AddAlertChange(ctx, change); err != nil {
		a.mu.Lock()
		if had {
			a.active[al.Key] = &prev
		} else {
			delete(a.active, al.Key)
		}
		a.mu.Unlock()
		if errors.Is(err, storage.ErrInvalid) {
			a.log.Error("fleet host's alert dropped: storage refuses it", "host", host, "key", al.Key, "err", err)
			return nil
		}
		return fmt.Errorf("alert: %s of host %s: %w", al.Key, host, err)
	}
	if len(change.Outbox) > 0 {
		a.wakeAll()
	}
	return nil
}

// local reports whether al is about this dashd's own host (not a fleet
// host's).
func (a *Alerter) local(al model.Alert) bool { return ownHost(al, a.o.Host) }
