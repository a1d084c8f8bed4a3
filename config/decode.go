package config

import (
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decoder walks YAML nodes into Go structs strictly: every key must map to a
// field, every scalar must convert, and every problem is recorded with its
// position instead of stopping at the first (yaml.v3's KnownFields stops at one
// and reports no column).
type decoder struct {
	file     string
	problems []Problem
	// secrets are the credentials found in the expanded tree; no problem
	// message may quote them.
	secrets []string
}

// err returns the problems found as an *Error, sorted by position, with every
// known secret scrubbed from the messages (they are shown on the dashboard
// banner and in /readyz).
func (d *decoder) err() error {
	for i := range d.problems {
		d.problems[i].Message = scrub(d.problems[i].Message, d.secrets)
	}
	e := &Error{Problems: d.problems}
	e.sort()
	return e
}

func (d *decoder) add(n *yaml.Node, path, format string, args ...any) {
	p := Problem{File: d.file, Path: path, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	d.problems = append(d.problems, p)
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// decode fills rv (addressable) from n. It reports problems and never panics on
// user input.
func (d *decoder) decode(n *yaml.Node, rv reflect.Value, path string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return // "key:" with no value keeps the default
	}
	if rv.CanAddr() && rv.Addr().Type().Implements(unmarshalerType) {
		if err := n.Decode(rv.Addr().Interface()); err != nil {
			d.add(n, path, "%s", cleanYAMLError(err))
		}
		return
	}
	switch rv.Kind() {
	case reflect.Pointer:
		v := reflect.New(rv.Type().Elem())
		d.decode(n, v.Elem(), path)
		rv.Set(v)
	case reflect.Struct:
		d.decodeStruct(n, rv, path, nil)
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.add(n, path, "expected a list, got %s", describe(n))
			return
		}
		s := reflect.MakeSlice(rv.Type(), len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		rv.Set(s)
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.add(n, path, "expected a mapping, got %s", describe(n))
			return
		}
		m := reflect.MakeMapWithSize(rv.Type(), len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := reflect.New(rv.Type().Key()).Elem()
			d.decode(k, key, path)
			val := reflect.New(rv.Type().Elem()).Elem()
			d.decode(v, val, joinPath(path, k.Value))
			m.SetMapIndex(key, val)
		}
		rv.Set(m)
	case reflect.Interface:
		var v any
		if err := n.Decode(&v); err != nil {
			d.add(n, path, "%s", cleanYAMLError(err))
			return
		}
		if v != nil {
			rv.Set(reflect.ValueOf(v))
		}
	default:
		d.decodeScalar(n, rv, path)
	}
}

func (d *decoder) decodeScalar(n *yaml.Node, rv reflect.Value, path string) {
	if n.Kind != yaml.ScalarNode {
		d.add(n, path, "expected %s, got %s", kindName(rv.Kind()), describe(n))
		return
	}
	switch rv.Kind() {
	case reflect.String:
		rv.SetString(n.Value)
	case reflect.Bool:
		b, ok := parseBool(n)
		if !ok {
			d.add(n, path, "expected true or false, got %q", n.Value)
			return
		}
		rv.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		// Base 10 only: "010" is ten to an operator, not octal eight.
		v, err := strconv.ParseInt(n.Value, 10, rv.Type().Bits())
		if err != nil || !plainNumber(n) {
			d.add(n, path, "expected a whole number, got %q", n.Value)
			return
		}
		rv.SetInt(v)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v, err := strconv.ParseUint(n.Value, 10, rv.Type().Bits())
		if err != nil || !plainNumber(n) {
			d.add(n, path, "expected a whole number not below 0, got %q", n.Value)
			return
		}
		rv.SetUint(v)
	case reflect.Float32, reflect.Float64:
		v, err := strconv.ParseFloat(n.Value, rv.Type().Bits())
		if err != nil || !plainNumber(n) {
			d.add(n, path, "expected a number, got %q", n.Value)
			return
		}
		rv.SetFloat(v)
	default:
		d.add(n, path, "unsupported value type %s", rv.Type())
	}
}

// decodeStruct fills a struct from a mapping node. extra lists keys that a
// caller handles itself (they are skipped, not reported as unknown).
func (d *decoder) decodeStruct(n *yaml.Node, rv reflect.Value, path string, extra map[string]bool) {
	if n.Kind != yaml.MappingNode {
		d.add(n, path, "expected a mapping, got %s", describe(n))
		return
	}
	fields := structFields(rv.Type())
	custom := customFields(rv.Type())
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if extra[k.Value] || custom[k.Value] {
			continue
		}
		idx, ok := fields[k.Value]
		if !ok {
			known := make([]string, 0, len(fields)+len(extra))
			for name := range fields {
				known = append(known, name)
			}
			for name := range extra {
				known = append(known, name)
			}
			d.unknownKey(k, joinPath(path, k.Value), known)
			continue
		}
		d.decode(v, rv.FieldByIndex(idx), joinPath(path, k.Value))
	}
}

func (d *decoder) unknownKey(k *yaml.Node, path string, known []string) {
	if s := suggest(k.Value, known); s != "" {
		d.add(k, path, "unknown key (did you mean %q?)", s)
		return
	}
	sort.Strings(known)
	d.add(k, path, "unknown key (known keys: %s)", strings.Join(known, ", "))
}

// structFields maps yaml key names to field indexes, skipping "-" and
// unexported fields.
func structFields(t reflect.Type) map[string][]int {
	out := make(map[string][]int)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Index
	}
	return out
}

// customFields names the keys of fields tagged `yaml:"name,custom"`: known
// keys that the generic decoder leaves to a decoder of their own (alert
// channels, whose type-specific keys sit next to the common ones, as
// checks' do).
func customFields(t reflect.Type) map[string]bool {
	var out map[string]bool
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if opts == "custom" {
			if out == nil {
				out = map[string]bool{}
			}
			out[name] = true
		}
	}
	return out
}

// KeysOf lists the yaml keys a config struct accepts, for suggestions and docs.
func KeysOf(v any) []string {
	t := reflect.TypeOf(v)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var keys []string
	for k := range structFields(t) {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// plainNumber reports whether a scalar may be read as a number: not quoted
// and not explicitly tagged as a string.
func plainNumber(n *yaml.Node) bool {
	return n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) == 0 && n.Tag != "!!str"
}

func parseBool(n *yaml.Node) (bool, bool) {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return false, false
	}
	switch n.Value {
	case "true", "True", "TRUE":
		return true, true
	case "false", "False", "FALSE":
		return false, true
	}
	return false, false
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return strconv.Quote(n.Value)
	}
	return "something else"
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	}
	return "a " + k.String()
}

// cleanYAMLError drops yaml.v3's "yaml: line N:" prefix: our own position is
// printed in front of every problem.
func cleanYAMLError(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: unmarshal errors:\n  ")
	s = strings.TrimPrefix(s, "yaml: ")
	if strings.HasPrefix(s, "line ") {
		if _, rest, ok := strings.Cut(s, ": "); ok {
			s = rest
		}
	}
	return s
}
