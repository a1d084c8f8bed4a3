package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Scope locates validation problems inside one YAML mapping (a section or a
// check). Validate methods report through it so that every semantic error
// (a missing key, a value out of range) carries the same file:line:column as a
// syntax error.
type Scope struct {
	d    *decoder
	node *yaml.Node
	path string
}

// Has reports whether key is present in the mapping.
func (s Scope) Has(key string) bool { return s.value(key) != nil }

// Errorf records a problem about key. When the key is absent (e.g. a missing
// required field) the problem points at the mapping itself.
func (s Scope) Errorf(key, format string, args ...any) {
	n := s.value(key)
	if n == nil {
		n = s.node
	}
	path := s.path
	if key != "" {
		path = joinPath(s.path, key)
	}
	s.d.add(n, path, format, args...)
}

// Required records "missing required key" for key when it is absent or empty.
func (s Scope) Required(key string, empty bool) {
	if !empty {
		return
	}
	if s.Has(key) {
		s.Errorf(key, "must not be empty")
		return
	}
	s.Errorf(key, "missing required key")
}

// Child returns the scope of a nested mapping (or a list item's parent key).
func (s Scope) Child(key string) Scope {
	n := s.value(key)
	if n == nil {
		n = s.node
	}
	return Scope{d: s.d, node: n, path: joinPath(s.path, key)}
}

// Index returns the scope of item i of the list under key.
func (s Scope) Index(key string, i int) Scope {
	list := s.value(key)
	path := fmt.Sprintf("%s[%d]", joinPath(s.path, key), i)
	if list == nil || list.Kind != yaml.SequenceNode || i >= len(list.Content) {
		return Scope{d: s.d, node: s.node, path: path}
	}
	return Scope{d: s.d, node: list.Content[i], path: path}
}

func (s Scope) value(key string) *yaml.Node {
	if key == "" || s.node == nil || s.node.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(s.node.Content); i += 2 {
		if s.node.Content[i].Value == key {
			return s.node.Content[i+1]
		}
	}
	return nil
}
