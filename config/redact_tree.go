package config

import (
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// secretTag marks a value the operator wants hidden wherever dashd shows
// configuration: `body: !secret '{"k":"v"}'`. It decodes as if it were not
// there.
const secretTag = "!secret"

// treeRedactor applies the redaction rules to a YAML tree, where the context
// of each value is known: the key it sits under, a headers mapping, a command
// list, a !secret tag or a secret-looking key above it (at any depth).
type treeRedactor struct {
	h *hider
	// apply rewrites the scalars it redacts (on a copy, to render Source).
	apply bool
	// tagged holds the nodes written with !secret whose tag was cleared
	// before decoding.
	tagged map[*yaml.Node]bool
	// seen bounds alias following (a secret used through an alias) to one
	// visit per node and context, whatever the alias nesting.
	seen map[aliasVisit]bool
}

type redactCtx struct {
	key    string // the mapping key the value sits under
	secret bool   // under a secret-looking key or a !secret tag
	header bool   // a value in a headers mapping: key is the header name
}

type aliasVisit struct {
	n   *yaml.Node
	ctx redactCtx
}

func (r *treeRedactor) walk(n *yaml.Node, c redactCtx) {
	if n.Tag == secretTag || r.tagged[n] {
		c.secret = true
	}
	switch n.Kind {
	case yaml.DocumentNode:
		for _, ch := range n.Content {
			r.walk(ch, c)
		}
	case yaml.MappingNode:
		headers := c.key == "headers" && !c.header
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			cc := redactCtx{key: k.Value, secret: c.secret, header: headers}
			if !headers && LooksSecret(k.Value) {
				cc.secret = true
			}
			r.walk(n.Content[i+1], cc)
		}
	case yaml.SequenceNode:
		if c.key == "command" && !c.secret && !c.header {
			r.argv(n, c)
			return
		}
		for _, ch := range n.Content {
			r.walk(ch, c)
		}
	case yaml.AliasNode:
		// Source shows an alias as *name: only the anchor's own place can
		// reveal its value. Messages quote values, so collect through it.
		v := aliasVisit{n.Alias, c}
		if r.apply || n.Alias == nil || r.seen[v] {
			return
		}
		r.seen[v] = true
		r.walk(n.Alias, c)
	case yaml.ScalarNode:
		r.set(n, r.scalar(n.Value, c))
	}
}

func (r *treeRedactor) scalar(v string, c redactCtx) string {
	switch {
	case c.secret:
		return r.h.whole(v, c.key)
	case c.header:
		return r.h.urls(r.h.header(c.key, v))
	case bodyKeys[c.key]:
		return r.h.whole(v, c.key)
	}
	return r.h.urls(v)
}

// argv redacts a command list as a whole: a flag's value is the next item.
func (r *treeRedactor) argv(n *yaml.Node, c redactCtx) {
	var items []*yaml.Node
	var args []string
	for _, ch := range n.Content {
		if ch.Kind == yaml.ScalarNode && ch.Tag != secretTag && !r.tagged[ch] {
			items = append(items, ch)
			args = append(args, ch.Value)
			continue
		}
		r.walk(ch, c)
	}
	for i, v := range r.h.argv(args) {
		r.set(items[i], v)
	}
}

func (r *treeRedactor) set(n *yaml.Node, v string) {
	if !r.apply || v == n.Value {
		return
	}
	n.Value = v
	if n.Tag != secretTag {
		n.Tag = "!!str" // "***" in place of a number is a string
	}
}

// checkSources renders each item of the checks list back to YAML as written
// (before ${VAR} expansion), with credentials redacted. data is the file:
// only comments written between the check's first and last lines are its
// own (the parser hands the documentation block above a check, and the
// commented-out examples after it, to the check's nodes).
func checkSources(root *yaml.Node, data []byte) []string {
	list := Scope{node: root}.value("checks")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	lines := strings.Split(string(data), "\n")
	out := make([]string, len(list.Content))
	for i, item := range list.Content {
		cp := copyNode(item)
		keepOwnComments(cp, lines, item.Line, lastLine(item))
		(&treeRedactor{apply: true}).walk(cp, redactCtx{})
		if b, err := yaml.Marshal(cp); err == nil {
			out[i] = string(b)
		}
	}
	return out
}

// lastLine is the last line a node's content starts on.
func lastLine(n *yaml.Node) int {
	l := n.Line
	for _, c := range n.Content {
		l = max(l, lastLine(c))
	}
	return l
}

// keepOwnComments drops, in the tree n, every comment not written within
// lines first..last (1-based) of the file.
func keepOwnComments(n *yaml.Node, lines []string, first, last int) {
	own := func(c string) string {
		if c == "" {
			return ""
		}
		for _, cl := range strings.Split(c, "\n") {
			cl = strings.TrimSpace(cl)
			if cl == "" {
				continue
			}
			found := false
			for l := max(first, 1); l <= last && l <= len(lines); l++ {
				if strings.Contains(lines[l-1], cl) {
					found = true
					break
				}
			}
			if !found {
				return ""
			}
		}
		return c
	}
	n.HeadComment, n.LineComment, n.FootComment = own(n.HeadComment), own(n.LineComment), own(n.FootComment)
	for _, c := range n.Content {
		keepOwnComments(c, lines, first, last)
	}
}

// copyNode copies a tree deeply; aliases keep pointing at their anchors.
func copyNode(n *yaml.Node) *yaml.Node {
	cp := *n
	if len(n.Content) > 0 {
		cp.Content = make([]*yaml.Node, len(n.Content))
		for i, ch := range n.Content {
			cp.Content[i] = copyNode(ch)
		}
	}
	return &cp
}

// minScrub is the shortest secret scrubbed from messages: shorter ones would
// mangle ordinary words, and reveal next to nothing.
const minScrub = 3

// yamlWords are never scrubbed: "auth: true" hides the value in Source, but
// scrubbing "true" would only garble messages ("expected *** or false").
var yamlWords = map[string]bool{"true": true, "false": true, "yes": true, "null": true, "off": true}

// collectSecrets returns the credentials in the expanded tree (what the
// redaction rules hide, with ${VAR} values substituted), longest first.
func collectSecrets(root *yaml.Node, tagged map[*yaml.Node]bool) []string {
	r := &treeRedactor{h: &hider{}, tagged: tagged, seen: map[aliasVisit]bool{}}
	r.walk(root, redactCtx{})
	seen := map[string]bool{}
	var out []string
	for _, s := range r.h.found {
		if len(s) >= minScrub && !seen[s] && !yamlWords[strings.ToLower(s)] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// scrub replaces every known secret in s, raw or as it appears inside a Go
// quoted string (%q), with ***.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
		q := strconv.Quote(sec)
		if inner := q[1 : len(q)-1]; inner != sec && strings.Contains(s, inner) {
			s = strings.ReplaceAll(s, inner, Redacted)
		}
	}
	return s
}

// Redact removes the configuration's credentials from text shown at run time
// (a check's error that quotes its URL or request, a log line): every secret
// the redaction rules hide in Source, as expanded from ${VAR}, and any URL
// credentials.
func (c *Config) Redact(s string) string {
	return RedactURLs(scrub(s, c.secrets))
}
