package alert

import (
	"log/slog"
	"reflect"
	"time"

	"github.com/dashd/dashd/alert/rules"
	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// ruleEval is the one evaluation of host metric rules on a host's own
// samples: the Alerter runs one for its host, a fleet agent one for its
// own (AgentRules). It owns a rules.Engine and turns its transitions into
// alerts labelled with the host. One goroutine owns it (the engine's).
type ruleEval struct {
	engine  *rules.Engine
	cfg     []config.Rule  // the rules the engine has
	applied *config.Config // the configuration they came from
	host    string         // the host label
	history rules.History  // for disk-full predictions; may be nil
	log     *slog.Logger
}

// newRuleEval builds the engine for cfg's rules and tells it which of the
// host's rule alerts still fire (from storage, after a restart), so that
// it can resolve them. Alerts about other hosts (a hub's agents) are not
// the engine's: it would take them for instances of its own rules and
// resolve them as gone.
func newRuleEval(cfg *config.Config, firing []model.Alert, host string, h rules.History, log *slog.Logger) *ruleEval {
	rs := cfg.Alerts.Rules
	r := &ruleEval{engine: rules.New(rs), cfg: rs, applied: cfg, host: host, history: h, log: log}
	r.engine.SetLogger(log)
	if err := r.engine.Problems(); err != nil {
		log.Error("alert rules skipped", "err", err)
	}
	var own []model.Alert
	for _, al := range firing {
		if al.Source == model.AlertSourceRule && ownHost(al, host) {
			own = append(own, al)
		}
	}
	r.engine.Restore(own)
	return r
}

// ownHost reports whether al is about host (an alert without a host label
// is this dashd's own, as before fleets).
func ownHost(al model.Alert, host string) bool {
	h, ok := al.Labels["host"]
	return !ok || h == host
}

// apply gives the engine the rules of cfg when they changed and returns
// the alerts that resolve because of it (a rule removed or disabled). The
// same configuration again costs one comparison.
func (r *ruleEval) apply(cfg *config.Config) []model.Alert {
	if cfg == r.applied {
		return nil
	}
	r.applied = cfg
	rs := cfg.Alerts.Rules
	if reflect.DeepEqual(rs, r.cfg) {
		return nil
	}
	r.cfg = rs
	out := r.alerts(r.engine.Apply(rs))
	if err := r.engine.Problems(); err != nil {
		r.log.Error("alert rules skipped", "err", err)
	}
	return out
}

// observe evaluates the rules on one host sample.
func (r *ruleEval) observe(snap system.Snapshot) []model.Alert {
	return r.alerts(r.engine.Observe(snap, r.history))
}

// alerts turns transitions into the host's alerts, each with the time it
// happened (Alert.StartsAt while firing, EndsAt when resolved; the
// Alerter's change sets both again from its own state).
func (r *ruleEval) alerts(ts []rules.Transition) []model.Alert {
	if len(ts) == 0 {
		return nil
	}
	out := make([]model.Alert, 0, len(ts))
	for _, t := range ts {
		labels := map[string]string{"host": r.host}
		for k, v := range t.Labels {
			labels[k] = v
		}
		al := model.Alert{Key: t.Key, Source: model.AlertSourceRule, Name: t.Rule, Labels: labels,
			Severity: t.Severity, State: t.State, Summary: t.Summary, Reason: t.Reason, StartsAt: t.Since}
		if t.State == model.AlertResolved {
			al.StartsAt, al.EndsAt = t.Started, t.Since
		}
		out = append(out, al)
	}
	return out
}

// changedAt is when a rule alert from alerts changed: when it fired, or
// when it resolved.
func changedAt(al model.Alert) time.Time {
	if al.State == model.AlertResolved {
		return al.EndsAt
	}
	return al.StartsAt
}

// alertEvent is the event that records an alert change at at (kind alert,
// the key in Check so that subscribers tell alerts apart; To down while it
// fires, up when it resolved; the summary and reason as the text).
func alertEvent(al model.Alert, at time.Time) model.Event {
	to := model.StateDown
	if al.State == model.AlertResolved {
		to = model.StateUp
	}
	text := al.Summary
	if al.Reason != "" {
		text += ": " + al.Reason
	}
	return model.Event{Time: at, Kind: model.EventAlert, Check: al.Key, To: to, Reason: text}
}
