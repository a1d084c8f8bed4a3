package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
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
//
// Both carry the labels of the host's hello (env, role...), under the
// alert's own labels (host, check, rule, severity win).

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

// withHostLabels adds host's hello labels to labels (never overriding one
// that is set). a.mu may be held: HostLabels answers from memory.
func (a *Alerter) withHostLabels(host string, labels map[string]string) map[string]string {
	if a.o.Hosts == nil {
		return labels
	}
	for k, v := range a.o.Hosts.HostLabels(host) {
		if _, set := labels[k]; !set {
			labels[k] = v
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

// HostEvent alerts on an event a fleet host's agent sent (the fleet
// ingester calls it once the event is stored, before it acknowledges the
// message). The alert change and its outbox items are stored in one
// transaction before HostEvent returns nil; on an error nothing changed,
// so the redelivered message tries again. A repeat of an event already
// applied changes nothing (the alert fires already, or never did).
func (a *Alerter) HostEvent(ctx context.Context, host string, e model.Event) error {
	cfg := a.o.Latest.Config()
	a.mu.Lock()
	al, ok := a.remoteAlert(host, e)
	if !ok {
		a.mu.Unlock()
		return nil
	}
	old, had := a.active[al.Key]
	var prev active
	if had {
		prev = *old
		prev.queued = make(map[string]time.Time, len(old.queued))
		for k, v := range old.queued {
			prev.queued[k] = v
		}
	}
	change := a.change(cfg, al, e.Time)
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
		return fmt.Errorf("alert: %s of host %s: %w", al.Key, host, err)
	}
	if len(change.Outbox) > 0 {
		a.wakeAll()
	}
	return nil
}

// local reports whether al is about this dashd's own host (not a fleet
// host's).
func (a *Alerter) local(al model.Alert) bool {
	h, ok := al.Labels["host"]
	return !ok || h == a.o.Host
}
