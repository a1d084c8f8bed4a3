package rules

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// GoneAfter is how long an instance (a mount point, an interface, a
// host-wide value) may be absent from the samples before its firing alert
// resolves as "no longer present" and its state is forgotten.
const GoneAfter = 10 * time.Minute

// Engine evaluates host metric rules sample by sample. It is not safe for
// concurrent use: one goroutine owns it (see the package doc).
type Engine struct {
	rules  []*rule
	byName map[string]*rule
	// problems are the rules the last New or Apply skipped.
	problems error
	// states holds the instances that are pending or firing (and, for
	// fs_full_in, every present filesystem with its last fit), by rule
	// name, then instance: lookups need no key string built per sample.
	states map[string]map[string]*state
	// queued are resolutions decided before any sample was seen (Restore,
	// or Apply before the first Observe); the next Observe returns them,
	// timed by its sample.
	queued []Transition
	// last is the time of the latest sample observed.
	last time.Time
	log  *slog.Logger
}

// New builds an engine for rules, typically config.Alerts.Rules. Rules it
// cannot evaluate (config validation refuses them first) are skipped:
// Problems lists them.
func New(rules []config.Rule) *Engine {
	e := &Engine{
		byName: map[string]*rule{},
		states: map[string]map[string]*state{},
		log:    slog.New(slog.DiscardHandler),
	}
	e.Apply(rules)
	return e
}

// Problems returns the rules the last New or Apply skipped, each error
// wrapping ErrInvalidRule and naming the rule; nil when every rule is
// evaluated.
func (e *Engine) Problems() error { return e.problems }

// SetLogger sets where the engine logs history read failures of disk-full
// predictions (once per change per filesystem); nil discards them.
func (e *Engine) SetLogger(l *slog.Logger) {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	e.log = l
}

// compileAll compiles rules in order, skipping those it cannot evaluate.
func compileAll(rules []config.Rule) ([]*rule, map[string]*rule, error) {
	list := make([]*rule, 0, len(rules))
	byName := make(map[string]*rule, len(rules))
	var errs []error
	for i, c := range rules {
		r, err := compile(c)
		if err != nil {
			errs = append(errs, fmt.Errorf("rules: rules[%d]: %w", i, err))
			continue
		}
		if _, dup := byName[r.name]; dup {
			errs = append(errs, fmt.Errorf("rules: rules[%d]: %w: duplicate rule name %q", i, ErrInvalidRule, r.name))
			continue
		}
		list = append(list, r)
		byName[r.name] = r
	}
	return list, byName, errors.Join(errs...)
}

// Apply replaces the rules (a configuration reload) and returns the
// resolutions of firing alerts whose rule was removed, disabled (for their
// instance) or now watches another metric, timed at the latest sample
// observed (before any sample, the first Observe returns them instead).
// Instances of rules that kept their name and metric keep their state; see
// "Reload and restart" in the package doc for what a changed setting does.
// Rules it cannot evaluate are skipped (see Problems).
func (e *Engine) Apply(rules []config.Rule) []Transition {
	list, byName, err := compileAll(rules)
	var out []Transition
	for name, insts := range e.states {
		nr, or := byName[name], e.byName[name]
		for inst, st := range insts {
			if why := dropReason(nr, or, inst); why != "" {
				if st.phase == firing {
					out = append(out, e.ended(or, name, inst, st, why))
				}
				e.forget(name, inst)
				continue
			}
			np, op := nr.params(inst), or.params(inst)
			if np != op || nr.window != or.window {
				if st.phase == pending {
					e.toIdle(nr, name, inst, st)
				}
				if nr.window != or.window {
					st.fitted = false
				}
			}
		}
	}
	e.rules, e.byName, e.problems = list, byName, err
	slices.SortFunc(out, byKey)
	if e.last.IsZero() {
		e.queued = append(e.queued, out...)
		return nil
	}
	for i := range out {
		out[i].Since = e.last
	}
	return out
}

func byKey(a, b Transition) int { return cmp.Compare(a.Key, b.Key) }

// dropReason says why an instance of rule old cannot carry on under new
// ("" when it can).
func dropReason(nr, or *rule, inst string) string {
	switch {
	case nr == nil:
		return "rule removed from the configuration"
	case nr.disabled:
		return "rule disabled"
	case !nr.sameKind(or):
		return "rule now watches " + nr.metric.name
	case (nr.metric.per == perHost) != (inst == ""):
		return "rule now watches " + nr.metric.name
	case nr.params(inst).disabled:
		return "rule disabled for " + inst
	}
	return ""
}

// Restore marks the rule alerts the core still had firing before a restart
// as firing, so that they resolve when their value comes back (or when
// they are gone for GoneAfter) rather than stay firing forever. Alerts of
// other sources, resolved ones and keys the engine did not make are
// ignored; alerts of rules that no longer exist (or no longer apply to the
// instance) resolve with the next Observe. Call it after New, before the
// first Observe.
func (e *Engine) Restore(alerts []model.Alert) {
	for _, a := range alerts {
		if a.State != model.AlertFiring {
			continue
		}
		name, inst, ok := ParseKey(a.Key)
		if !ok {
			continue
		}
		r := e.byName[name]
		st := e.states[name][inst]
		if st == nil {
			st = &state{}
		}
		if st.phase == firing {
			continue
		}
		st.phase, st.since, st.firedAt, st.severity = firing, a.StartsAt, a.StartsAt, a.Severity
		if why := dropReason(r, r, inst); why != "" {
			tr := e.ended(r, name, inst, st, why)
			if len(a.Labels) > 0 {
				tr.Labels = maps.Clone(a.Labels) // the labels it fired with
			}
			e.queued = append(e.queued, tr)
			continue
		}
		if st.severity == "" {
			st.severity = r.severity
		}
		st.seen = time.Time{} // absence counts from the first sample
		e.put(name, inst, st)
	}
}

// Observe evaluates every rule against one host sample (call it once per
// sample, in time order; the same sample again changes nothing) and
// returns the transitions it caused: first the resolutions Restore (or an
// Apply before any sample) decided, by key, then those of the sample in
// rule order, then instances gone, by key. h is read for disk-full
// predictions at most once per RefitEvery per filesystem; nil disables
// them.
func (e *Engine) Observe(s system.Snapshot, h History) []Transition {
	t := s.Time
	e.last = t
	var out []Transition
	slices.SortStableFunc(e.queued, byKey)
	for _, q := range e.queued {
		q.Since = t
		out = append(out, q)
	}
	e.queued = nil
	var gone []Transition
	for _, r := range e.rules {
		if r.disabled {
			continue
		}
		failed := partFailed(&s, r.metric.part)
		switch {
		case r.metric.per == perHost:
			if !failed {
				v, ok := r.metric.host(s)
				out = e.observe(out, r, "", v, ok, t)
			}
		case r.metric.predicted:
			for i := range s.Filesystems {
				out = e.predict(out, r, s.Filesystems[i].Mount, t, h)
			}
		case r.metric.per == perFilesystem:
			for i := range s.Filesystems {
				f := &s.Filesystems[i]
				v, ok := r.metric.fs(f)
				out = e.observe(out, r, f.Mount, v, ok, t)
			}
		case r.metric.per == perInterface:
			for i := range s.Interfaces {
				n := &s.Interfaces[i]
				v, ok := r.metric.iface(n)
				out = e.observe(out, r, n.Name, v, ok, t)
			}
		}
		if failed {
			// What the part would list is unknown: absence counts from
			// the last sample the part was read.
			for _, st := range e.states[r.name] {
				st.seen = t
			}
		} else {
			gone = e.sweep(gone, r, t)
		}
	}
	slices.SortFunc(gone, byKey)
	return append(out, gone...)
}

// observe handles one present instance; ok is false when its value is
// missing on this sample.
func (e *Engine) observe(out []Transition, r *rule, inst string, v float64, ok bool, t time.Time) []Transition {
	p := r.params(inst)
	st := e.states[r.name][inst]
	if p.disabled {
		return e.disabled(out, r, inst, st, t)
	}
	if !ok {
		if st != nil && inst != "" {
			st.seen = t // present, only its value is missing
		}
		return out
	}
	if st == nil {
		if !p.holds(v) {
			return out // idle: nothing to remember
		}
		st = &state{}
		e.put(r.name, inst, st)
	}
	st.seen = t
	return e.eval(out, r, inst, st, p, v, t)
}

// disabled forgets an instance its rule's override disables (Apply
// resolves those it knows of; this catches restored ones).
func (e *Engine) disabled(out []Transition, r *rule, inst string, st *state, t time.Time) []Transition {
	if st == nil {
		return out
	}
	if st.phase == firing {
		tr := e.ended(r, r.name, inst, st, "rule disabled for "+inst)
		tr.Since = t
		out = append(out, tr)
	}
	e.forget(r.name, inst)
	return out
}

// predict handles one present filesystem of an fs_full_in rule: re-fits
// when the last fit is RefitEvery old, then evaluates the fit.
func (e *Engine) predict(out []Transition, r *rule, mount string, t time.Time, h History) []Transition {
	p := r.params(mount)
	st := e.states[r.name][mount]
	if p.disabled {
		return e.disabled(out, r, mount, st, t)
	}
	if st == nil {
		st = &state{}
		e.put(r.name, mount, st)
	}
	st.seen = t
	if !st.fitted || t.Sub(st.fit.at) >= RefitEvery || t.Before(st.fit.at) {
		f, err := refit(h, mount, t, r.window)
		e.noteFitErr(r, mount, st, err)
		st.fit, st.fitted = f, true
	}
	if !st.fit.ok {
		return out
	}
	return e.eval(out, r, mount, st, p, st.fit.fullIn, t)
}

// noteFitErr logs a history read failure when it starts or changes, and
// its end.
func (e *Engine) noteFitErr(r *rule, mount string, st *state, err error) {
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	switch {
	case msg == st.fitErr:
	case err != nil:
		e.log.Warn("disk-full prediction cannot read history", "rule", r.name, "mountpoint", mount, "err", err)
	default:
		e.log.Info("disk-full prediction reads history again", "rule", r.name, "mountpoint", mount)
	}
	st.fitErr = msg
}

// sweep resolves and forgets the rule's instances absent for GoneAfter.
// Only called when the part listing them was read on this sample.
func (e *Engine) sweep(gone []Transition, r *rule, t time.Time) []Transition {
	for inst, st := range e.states[r.name] {
		switch {
		case st.seen.Equal(t):
		case st.seen.IsZero() || t.Before(st.seen):
			st.seen = t // restored, or the clock went back: count from now
		case t.Sub(st.seen) >= GoneAfter:
			if st.phase == firing {
				tr := e.ended(r, r.name, inst, st, "no longer present: last seen "+human(t.Sub(st.seen))+" ago, at "+st.seen.UTC().Format(time.RFC3339))
				tr.Summary = subject(r, inst) + " no longer present"
				tr.Since = t
				gone = append(gone, tr)
			}
			e.forget(r.name, inst)
		}
	}
	return gone
}

// subject names what an instance is about: its mount point or interface,
// or the host-wide metric.
func subject(r *rule, inst string) string {
	if inst != "" {
		return inst
	}
	return "metric " + r.metric.name
}

func (e *Engine) put(name, inst string, st *state) {
	m := e.states[name]
	if m == nil {
		m = map[string]*state{}
		e.states[name] = m
	}
	m[inst] = st
}

func (e *Engine) forget(name, inst string) {
	m := e.states[name]
	delete(m, inst)
	if len(m) == 0 {
		delete(e.states, name)
	}
}
