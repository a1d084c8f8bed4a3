package alert

import (
	"reflect"

	"github.com/dashd/dashd/alert/rules"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// hostRules runs the host metric rules on every sample, on the Alerter's
// loop, and records their transitions as alert events.
type hostRules struct {
	a      *Alerter
	engine *rules.Engine
	cfg    []config.Rule // the rules the engine has
}

// newHostRules builds the engine and tells it which rule alerts fire
// (from storage, after a restart), so it can resolve them.
func newHostRules(a *Alerter) *hostRules {
	rs := a.o.Latest.Config().Alerts.Rules
	h := &hostRules{a: a, engine: rules.New(rs), cfg: rs}
	h.engine.SetLogger(a.log.With("part", "rules"))
	if err := h.engine.Problems(); err != nil {
		a.log.Error("alert rules skipped", "err", err)
	}
	var firing []model.Alert
	a.mu.Lock()
	for _, st := range a.active {
		if st.alert.Source == model.AlertSourceRule {
			firing = append(firing, st.alert)
		}
	}
	a.mu.Unlock()
	h.engine.Restore(firing)
	return h
}

// reload gives the engine the rules of a new configuration.
func (h *hostRules) reload() {
	rs := h.a.o.Latest.Config().Alerts.Rules
	if reflect.DeepEqual(rs, h.cfg) {
		return
	}
	h.cfg = rs
	for _, t := range h.engine.Apply(rs) {
		h.record(t)
	}
}

// sample evaluates the rules on the newest host sample.
func (h *hostRules) sample() {
	snap, ok := h.a.o.Latest.System()
	if !ok {
		return
	}
	for _, t := range h.engine.Observe(snap, h.a.o.Store) {
		h.record(t)
	}
}

// record turns a transition into an alert event.
func (h *hostRules) record(t rules.Transition) {
	a := h.a
	labels := map[string]string{"host": a.o.Host}
	for k, v := range t.Labels {
		labels[k] = v
	}
	al := model.Alert{Key: t.Key, Source: model.AlertSourceRule, Name: t.Rule, Labels: labels,
		Severity: t.Severity, State: t.State, Summary: t.Summary, Reason: t.Reason}
	a.emit(al, t.Since)
}
