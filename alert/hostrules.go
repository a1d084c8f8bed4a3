package alert

import (
	"github.com/dashd/dashd/model"
)

// hostRules runs the host metric rules on every sample of this dashd's
// own host, on the Alerter's loop, and records their transitions as alert
// events (which Attach then routes like any other).
type hostRules struct {
	a    *Alerter
	eval *ruleEval
}

// newHostRules builds the evaluation and tells it which of this host's
// rule alerts fire (from storage, after a restart), so it can resolve
// them. A hub's alerts about its agents' rules are not this host's: the
// agents evaluate and resolve those.
func newHostRules(a *Alerter) *hostRules {
	var firing []model.Alert
	a.mu.Lock()
	for _, st := range a.active {
		firing = append(firing, st.alert)
	}
	a.mu.Unlock()
	return &hostRules{a: a, eval: newRuleEval(a.o.Latest.Config(), firing, a.o.Host, a.o.Store, a.log.With("part", "rules"))}
}

// reload gives the engine the rules of a new configuration.
func (h *hostRules) reload() {
	for _, al := range h.eval.apply(h.a.o.Latest.Config()) {
		h.a.emit(al, changedAt(al))
	}
}

// sample evaluates the rules on the newest host sample.
func (h *hostRules) sample() {
	snap, ok := h.a.o.Latest.System()
	if !ok {
		return
	}
	for _, al := range h.eval.observe(snap) {
		h.a.emit(al, changedAt(al))
	}
}
