package config

import (
	"strings"

	"go.yaml.in/yaml/v3"
)

// Argv is a program and its arguments, written as a YAML list: what
// command checks and command alert channels run, never through a shell.
// A plain string is kept aside (Shell) so Validate can explain why it is
// refused instead of yaml's generic "expected a list".
type Argv struct {
	Args  []string
	Shell string
}

// UnmarshalYAML accepts a list of strings; a scalar is remembered as Shell.
func (a *Argv) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		a.Shell = n.Value
		return nil
	}
	return n.Decode(&a.Args)
}

// Validate reports the problems of the list under key. It never quotes
// the command: its arguments may hold credentials, and configuration
// problems are shown on /readyz and the dashboard.
func (a Argv) Validate(s Scope, key string) {
	switch {
	case a.Shell != "":
		s.Errorf(key, "must be a list (program, then arguments), never a shell string: write [prog, arg, ...], or [sh, -c, \"...\"] if a shell is really needed")
	case len(a.Args) == 0:
		s.Required(key, true)
	case strings.TrimSpace(a.Args[0]) == "":
		s.Index(key, 0).Errorf("", "the program must not be empty")
	case len(a.Args) == 1 && strings.ContainsAny(a.Args[0], " |;&$<>"):
		s.Index(key, 0).Errorf("", "looks like a shell command line: list the program and its arguments separately, e.g. [curl, -fsS, http://x], or use [sh, -c, \"...\"]")
	}
}

// Runnable reports whether the list names a program (what Validate
// refuses otherwise): a builder's last guard.
func (a Argv) Runnable() bool { return a.Shell == "" && len(a.Args) > 0 && a.Args[0] != "" }
