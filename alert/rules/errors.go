package rules

import "errors"

// ErrInvalidRule is returned (wrapped, naming the rule) by New and Apply
// when a rule cannot be evaluated: an unknown metric, no threshold or both,
// a bad override glob, no name or a duplicate name. Config validation
// refuses all of these first; the engine skips such a rule and evaluates
// the others.
var ErrInvalidRule = errors.New("invalid rule")
