package rules

import (
	"fmt"
	"path"
	"time"

	"github.com/dashd/dashd/config"
)

// Prediction defaults, as config validation fills them in.
const (
	DefaultWithin = 24 * time.Hour
	DefaultWindow = 6 * time.Hour
	// resolveFactor is the hysteresis of fs_full_in: a firing prediction
	// resolves beyond Within*resolveFactor.
	resolveFactor = 1.25
)

// params are a rule's settings for one instance, after overrides.
type params struct {
	below     bool
	threshold float64
	clear     float64
	forD      time.Duration
	disabled  bool
}

// holds reports whether v meets the firing condition.
func (p params) holds(v float64) bool {
	if p.below {
		return v < p.threshold
	}
	return v > p.threshold
}

// cleared reports whether v is back past the clear level.
func (p params) cleared(v float64) bool {
	if p.below {
		return v >= p.clear
	}
	return v <= p.clear
}

// override is a compiled config.RuleOverride.
type override struct {
	match string
	o     config.RuleOverride
}

// rule is a compiled config.Rule.
type rule struct {
	name     string
	severity string
	disabled bool
	metric   metric
	base     params
	// window is the history fs_full_in fits.
	window    time.Duration
	overrides []override
}

// compile checks what the engine needs of a rule (config validation checks
// much more) and fills the defaults validation would.
func compile(c config.Rule) (*rule, error) {
	m, ok := lookupMetric(c.Metric)
	if !ok {
		return nil, fmt.Errorf("rule %q: %w: unknown metric %q", c.Name, ErrInvalidRule, c.Metric)
	}
	if c.Name == "" {
		return nil, fmt.Errorf("rule with metric %q: %w: no name", c.Metric, ErrInvalidRule)
	}
	r := &rule{name: c.Name, severity: c.Severity, disabled: c.Disabled, metric: m}
	if r.severity == "" {
		r.severity = config.SeverityWarning
	}
	r.base.forD = max(c.For.D(), 0)
	if m.predicted {
		within, window := c.Within.D(), c.Window.D()
		if within <= 0 {
			within = DefaultWithin
		}
		if window <= 0 {
			window = DefaultWindow
		}
		r.window = window
		r.base.below = true
		r.base.threshold = within.Seconds()
		r.base.clear = within.Seconds() * resolveFactor
	} else {
		switch {
		case c.Above != nil && c.Below == nil:
			r.base.threshold = *c.Above
		case c.Below != nil && c.Above == nil:
			r.base.below = true
			r.base.threshold = *c.Below
		default:
			return nil, fmt.Errorf("rule %q: %w: set exactly one of above and below", c.Name, ErrInvalidRule)
		}
		r.base.clear = r.base.threshold
		if c.Clear != nil {
			r.base.clear = clampClear(r.base.below, r.base.threshold, *c.Clear)
		}
	}
	for _, o := range c.Overrides {
		if _, err := path.Match(o.Match, ""); err != nil {
			return nil, fmt.Errorf("rule %q: %w: override match %q: %w", c.Name, ErrInvalidRule, o.Match, err)
		}
		r.overrides = append(r.overrides, override{match: o.Match, o: o})
	}
	return r, nil
}

// clampClear keeps a clear level on the resolving side of the threshold.
func clampClear(below bool, threshold, clear float64) float64 {
	if below {
		return max(clear, threshold)
	}
	return min(clear, threshold)
}

// params returns the settings for one instance: those of the first override
// whose glob matches it, else the rule's. Host-wide rules have no
// overrides that apply (config validation refuses them).
func (r *rule) params(instance string) params {
	if r.metric.per == perHost {
		return r.base
	}
	for _, ov := range r.overrides {
		if ok, _ := path.Match(ov.match, instance); ok {
			return r.apply(ov.o)
		}
	}
	return r.base
}

// apply merges an override into the rule's settings. A new threshold
// without a new clear keeps the rule's hysteresis band.
func (r *rule) apply(o config.RuleOverride) params {
	p := r.base
	p.disabled = o.Disabled
	if o.For != nil {
		p.forD = max(o.For.D(), 0)
	}
	if r.metric.predicted {
		return p // thresholds of fs_full_in come from within:
	}
	var thr *float64
	if p.below && o.Below != nil {
		thr = o.Below
	} else if !p.below && o.Above != nil {
		thr = o.Above
	}
	if thr != nil {
		band := r.base.threshold - r.base.clear
		p.threshold = *thr
		p.clear = *thr - band
	}
	if o.Clear != nil {
		p.clear = *o.Clear
	}
	p.clear = clampClear(p.below, p.threshold, p.clear)
	return p
}

// sameKind reports whether an instance state of old still means the same
// thing under r (same metric), so a reload can keep it.
func (r *rule) sameKind(old *rule) bool {
	return old != nil && r.metric.name == old.metric.name
}
