package rules

import (
	"fmt"
	"math"
	"time"

	"github.com/dashd/dashd/model"
)

// phase is where a rule instance stands.
type phase uint8

const (
	idle    phase = iota // condition not holding (kept only for fs_full_in's fit)
	pending              // condition holding, For not yet over
	firing
)

// state is the live state of one rule instance.
type state struct {
	phase phase
	// since is when the condition started to hold (pending and firing);
	// firedAt when the alert fired.
	since   time.Time
	firedAt time.Time
	// severity is the rule's severity when the alert fired: kept until it
	// resolves, so the alert's labels do not change under it.
	severity string
	// seen is the last sample the instance was present in (zero after
	// Restore: absence counts from the first sample); evalAt the last
	// sample with a value, and value that value.
	seen   time.Time
	evalAt time.Time
	value  float64
	// fit is fs_full_in's last fit (valid when fitted); fitErr the last
	// history error, for logging changes only.
	fit    fit
	fitted bool
	fitErr string
}

// eval moves an instance with a value through idle, pending and firing.
func (e *Engine) eval(out []Transition, r *rule, inst string, st *state, p params, v float64, t time.Time) []Transition {
	if st.phase == pending && (t.Before(st.evalAt) || t.Sub(st.evalAt) > p.forD) {
		st.since = t // continuity broken (gap, missing values, clock back): wait again
	}
	st.evalAt, st.value = t, v
	switch st.phase {
	case idle, pending:
		if !p.holds(v) {
			e.toIdle(r, r.name, inst, st)
			return out
		}
		if st.phase == idle {
			st.phase, st.since = pending, t
		}
		if t.Sub(st.since) < p.forD {
			return out
		}
		st.phase, st.firedAt, st.severity = firing, t, r.severity
		return append(out, e.fired(r, inst, st, p, t))
	default: // firing
		if !p.cleared(v) {
			return out
		}
		tr := e.resolved(r, inst, st, p, t)
		e.toIdle(r, r.name, inst, st)
		return append(out, tr)
	}
}

// toIdle ends a pending or firing phase: fs_full_in keeps the state for
// its fit, other metrics forget it.
func (e *Engine) toIdle(r *rule, name, inst string, st *state) {
	if r != nil && r.metric.predicted {
		st.phase, st.since, st.firedAt, st.severity = idle, time.Time{}, time.Time{}, ""
		return
	}
	e.forget(name, inst)
}

// transition fills what every transition of an instance carries.
func transition(name, label, inst string, st *state, s model.AlertState) Transition {
	labels := map[string]string{LabelRule: name, LabelSeverity: st.severity}
	if inst != "" && label != "" {
		labels[label] = inst
	}
	return Transition{Key: Key(name, inst), Rule: name, Instance: inst, State: s, Severity: st.severity,
		Started: st.since, Labels: labels}
}

// fired is the firing transition of an instance at t.
func (e *Engine) fired(r *rule, inst string, st *state, p params, t time.Time) Transition {
	tr := transition(r.name, r.metric.label, inst, st, model.AlertFiring)
	tr.Value, tr.Threshold, tr.Since = reportValue(st.value), p.threshold, t
	held := t.Sub(st.since)
	tr.Summary = fmt.Sprintf(r.metric.firing, inst, r.metric.format(st.value))
	if r.metric.showFor && held > 0 {
		tr.Summary += " for " + human(held)
	}
	if r.metric.predicted {
		f := st.fit
		tr.Reason = fmt.Sprintf("predicted full in %s (within %s): %s available, falling %s/h (linear fit of %d points over %s)",
			duration(f.fullIn), duration(p.threshold), bytesIEC(max(f.avail, 0)), bytesIEC(-f.slope*3600), f.points, human(f.span))
		return tr
	}
	tr.Reason = fmt.Sprintf("%s, %s %s", r.metric.format(st.value), direction(p), r.metric.format(p.threshold))
	if held > 0 {
		tr.Reason += " for " + human(held)
	}
	if p.clear != p.threshold {
		tr.Reason += fmt.Sprintf("; resolves %s %s", backPast(p), r.metric.format(p.clear))
	}
	return tr
}

// resolved is the resolving transition of a firing instance at t.
func (e *Engine) resolved(r *rule, inst string, st *state, p params, t time.Time) Transition {
	tr := transition(r.name, r.metric.label, inst, st, model.AlertResolved)
	tr.Value, tr.Threshold, tr.Since = reportValue(st.value), p.clear, t
	tr.Summary = fmt.Sprintf(r.metric.resolved, inst, r.metric.format(st.value))
	lasted := human(max(t.Sub(st.firedAt), 0))
	switch {
	case r.metric.predicted && math.IsInf(st.value, 1):
		tr.Reason = fmt.Sprintf("available space no longer falling (linear fit of %d points over %s); fired for %s",
			st.fit.points, human(st.fit.span), lasted)
	case r.metric.predicted:
		tr.Reason = fmt.Sprintf("predicted full in %s, beyond %s; fired for %s", duration(st.value), duration(p.clear), lasted)
	default:
		tr.Reason = fmt.Sprintf("%s, %s %s; fired for %s", r.metric.format(st.value), backPast(p), r.metric.format(p.clear), lasted)
	}
	return tr
}

// ended is the resolution of a firing instance that ends without a value
// (rule removed or disabled, instance gone); Since is set by the caller.
// r may be nil (a restored alert of a rule that no longer exists).
func (e *Engine) ended(r *rule, name, inst string, st *state, why string) Transition {
	label := ""
	if r != nil {
		label = r.metric.label
	}
	tr := transition(name, label, inst, st, model.AlertResolved)
	tr.Value = reportValue(st.value)
	tr.Summary = name + onInstance(inst) + " resolved: " + why
	tr.Reason = why
	return tr
}

// backPast words the resolving side of a clear level.
func backPast(p params) string {
	if p.below {
		return "at or above"
	}
	return "at or below"
}

// reportValue keeps transitions JSON-safe: fs_full_in's "never" (+Inf) is
// reported as -1.
func reportValue(v float64) float64 {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return -1
	}
	return v
}
