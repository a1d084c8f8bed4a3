package config

import (
	"fmt"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written in Go syntax in YAML ("500ms", "30s", "1h30m").
// A day suffix is accepted too ("90d") because retention periods are counted in days.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats the duration as Go does.
func (d Duration) String() string { return time.Duration(d).String() }

// UnmarshalYAML parses a duration scalar.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("expected a duration such as 30s, 5m or 1h")
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration in Go syntax (JSON, templates).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// maxDays keeps "Nd" far from time.Duration's overflow (about 106,000 days).
const maxDays = 36500

// ParseDuration accepts Go duration syntax plus a whole-day form "Nd".
func ParseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, fmt.Errorf("empty duration (use e.g. 30s, 5m, 1h)")
	}
	var days int
	if n, err := fmt.Sscanf(s, "%dd", &days); err == nil && n == 1 && fmt.Sprintf("%dd", days) == s {
		if days < 0 {
			return 0, fmt.Errorf("invalid duration %q: negative", s)
		}
		if days > maxDays {
			return 0, fmt.Errorf("invalid duration %q: at most %dd", s, maxDays)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use e.g. 30s, 5m, 1h or 90d)", s)
	}
	return v, nil
}
