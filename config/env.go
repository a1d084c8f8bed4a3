package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expandNode replaces ${VAR} in every scalar value (never in keys) so secrets can
// live in the environment; "$$" is a literal "$" and any other "$" is left alone
// so regular expressions like "^ok$" need no escaping. Expanding before decoding
// keeps every problem at its original line:column.
func (d *decoder) expandNode(n *yaml.Node, path string, lookup func(string) (string, bool)) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			d.expandNode(c, path, lookup)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			d.expandNode(c, fmt.Sprintf("%s[%d]", path, i), lookup)
		}
	case yaml.MappingNode:
		// yaml.v3 only rejects duplicate keys when decoding into a map, never
		// into a Node, so they are caught here.
		seen := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if first, dup := seen[k.Value]; dup {
				d.add(k, joinPath(path, k.Value), "duplicate key (first defined at line %d)", first)
			} else {
				seen[k.Value] = k.Line
			}
			d.expandNode(n.Content[i+1], joinPath(path, k.Value), lookup)
		}
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "$") {
			return
		}
		v, err := expand(n.Value, lookup)
		if err != nil {
			d.add(n, path, "%s", err)
			return
		}
		if v != n.Value && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			// A plain scalar is re-resolved after expansion so "port: ${PORT}"
			// decodes as a number; an empty expansion stays an empty string
			// rather than turning into null, which would keep the default.
			n.Tag = ""
			if v == "" {
				n.Tag = "!!str"
			}
		}
		n.Value = v
	}
}

// expand implements the ${VAR} / $$ rules for one string.
func expand(s string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	var missing []string
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '$' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '{':
			end := strings.IndexByte(s[i+2:], '}')
			if end < 0 {
				return "", fmt.Errorf("unterminated ${ in %q (write $$ for a literal $)", s)
			}
			name := s[i+2 : i+2+end]
			if !validEnvName(name) {
				return "", fmt.Errorf("invalid environment variable name %q in %q", name, s)
			}
			v, ok := lookup(name)
			if !ok {
				missing = append(missing, name)
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	if len(missing) == 1 {
		return "", fmt.Errorf("environment variable %s is not set", missing[0])
	}
	if len(missing) > 1 {
		return "", fmt.Errorf("environment variables %s are not set", strings.Join(missing, ", "))
	}
	return b.String(), nil
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
