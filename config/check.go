package config

import (
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Check is one configured service check: the keys every type shares plus the
// type-specific Spec. Checks sit flat in YAML (type-specific keys next to the
// common ones), as operators expect from Gatus and Uptime Kuma exports.
type Check struct {
	Name        string   `yaml:"name"`
	Type        string   `yaml:"type"`
	Group       string   `yaml:"group"`
	Description string   `yaml:"description"`
	Interval    Duration `yaml:"interval"`
	Timeout     Duration `yaml:"timeout"`
	// FailAfter consecutive failures turn an up check down.
	FailAfter int `yaml:"fail_after"`
	// RecoverAfter consecutive successes turn a down check up again.
	RecoverAfter int `yaml:"recover_after"`
	// Badge false hides the check's public badges (they answer 404).
	Badge bool `yaml:"badge"`

	// Spec is the type-specific configuration (a pointer to the collectors'
	// config struct for Type).
	Spec CheckSpec `yaml:"-"`
	// Line and Column locate the check in the file, for messages at run time.
	Line   int `yaml:"-"`
	Column int `yaml:"-"`
	// Source is the check's YAML as written, before ${VAR} expansion, with
	// credentials redacted (URL passwords, secret query parameters,
	// sensitive headers, bodies, secret-named keys and flags, !secret
	// values), so the check page and the API can show the configuration
	// without revealing secrets. ${VAR} references stay as written.
	Source string `yaml:"-"`
}

// Default check settings.
const (
	DefaultCheckInterval = 30 * time.Second
	DefaultCheckTimeout  = 10 * time.Second
	DefaultFailAfter     = 2
	DefaultRecoverAfter  = 1
)

// checkNameRE keeps names usable in URLs (/checks/{name}, /badge/{name}.svg).
var checkNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

var commonCheckKeys = func() map[string]bool {
	m := map[string]bool{}
	for k := range structFields(reflect.TypeOf(Check{})) {
		m[k] = true
	}
	return m
}()

func (d *decoder) decodeChecks(list *yaml.Node, types CheckTypes) []Check {
	if list.Kind != yaml.SequenceNode {
		d.add(list, "checks", "expected a list of checks, got %s", describe(list))
		return nil
	}
	typeNames := make([]string, 0, len(types))
	for name := range types {
		typeNames = append(typeNames, name)
	}
	sort.Strings(typeNames)

	checks := make([]Check, 0, len(list.Content))
	firstByName := map[string]int{}
	for i, n := range list.Content {
		sc := Scope{d: d, node: n, path: "checks[" + strconv.Itoa(i) + "]"}
		if n.Kind != yaml.MappingNode {
			d.add(n, sc.path, "expected a mapping with name and type, got %s", describe(n))
			continue
		}
		c := Check{
			FailAfter:    DefaultFailAfter,
			RecoverAfter: DefaultRecoverAfter,
			Badge:        true,
			Line:         n.Line,
			Column:       n.Column,
		}
		// Common keys first, so we know the type before judging the others.
		cv := reflect.ValueOf(&c).Elem()
		fields := structFields(cv.Type())
		for j := 0; j+1 < len(n.Content); j += 2 {
			k, v := n.Content[j], n.Content[j+1]
			if idx, ok := fields[k.Value]; ok {
				d.decode(v, cv.FieldByIndex(idx), joinPath(sc.path, k.Value))
			}
		}

		var spec CheckSpec
		switch {
		case c.Type == "" && !sc.Has("type"):
			sc.Errorf("type", "missing required key (one of %s)", strings.Join(typeNames, ", "))
		case types[c.Type] == nil:
			msg := "unknown check type %q"
			if s := suggest(c.Type, typeNames); s != "" {
				sc.Errorf("type", msg+" (did you mean %q?)", c.Type, s)
			} else {
				sc.Errorf("type", msg+" (known types: %s)", c.Type, strings.Join(typeNames, ", "))
			}
		default:
			spec = types[c.Type]()
		}

		if spec != nil {
			d.decodeStruct(n, reflect.ValueOf(spec).Elem(), sc.path, commonCheckKeys)
		} else {
			// Unknown type: still report keys that belong to no type at all.
			known := map[string]bool{}
			for k := range commonCheckKeys {
				known[k] = true
			}
			for _, mk := range types {
				for _, k := range KeysOf(mk()) {
					known[k] = true
				}
			}
			keys := make([]string, 0, len(known))
			for k := range known {
				keys = append(keys, k)
			}
			for j := 0; j+1 < len(n.Content); j += 2 {
				if k := n.Content[j]; !known[k.Value] {
					d.unknownKey(k, joinPath(sc.path, k.Value), keys)
				}
			}
		}

		c.validate(sc)
		if spec != nil {
			spec.Validate(sc)
			c.Spec = spec
		}
		if c.Name != "" {
			if first, dup := firstByName[c.Name]; dup {
				sc.Errorf("name", "duplicate check name %q (first defined at line %d)", c.Name, first)
			} else {
				firstByName[c.Name] = sc.value("name").Line
			}
		}
		checks = append(checks, c)
	}
	return checks
}

func (c *Check) validate(sc Scope) {
	switch {
	case c.Name == "":
		sc.Required("name", true)
	case !checkNameRE.MatchString(c.Name):
		sc.Errorf("name", "%q must be 1-64 letters, digits, '.', '_' or '-' and start with a letter or digit (it is used in URLs)", c.Name)
	}
	if c.Interval == 0 && !sc.Has("interval") {
		c.Interval = Duration(DefaultCheckInterval)
	}
	if c.Timeout == 0 && !sc.Has("timeout") {
		// The timeout must stay below the interval; shrink the default for
		// fast checks rather than make every fast check spell it out.
		c.Timeout = Duration(DefaultCheckTimeout)
		if c.Timeout >= c.Interval && c.Interval > 0 {
			c.Timeout = c.Interval / 2
		}
	}
	intervalOK := c.Interval.D() >= time.Second && c.Interval.D() <= 24*time.Hour
	if !intervalOK {
		sc.Errorf("interval", "must be between 1s and 24h, got %s", c.Interval)
	}
	switch {
	case c.Timeout <= 0:
		sc.Errorf("timeout", "must be greater than 0, got %s", c.Timeout)
	case intervalOK && c.Timeout >= c.Interval:
		sc.Errorf("timeout", "must be less than interval (%s), got %s", c.Interval, c.Timeout)
	}
	if c.FailAfter < 1 || c.FailAfter > 100 {
		sc.Errorf("fail_after", "must be between 1 and 100, got %d", c.FailAfter)
	}
	if c.RecoverAfter < 1 || c.RecoverAfter > 100 {
		sc.Errorf("recover_after", "must be between 1 and 100, got %d", c.RecoverAfter)
	}
}

func reflectValue(cfg *Config) reflect.Value { return reflect.ValueOf(cfg).Elem() }
