package config

import (
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// checkTags walks the whole tree once before decoding. It accepts !secret
// (returning the tagged nodes and clearing the tag, so they decode exactly as
// if it were not written), refuses other local tags (a typo such as !secrets
// would otherwise show the secret), and refuses an anchor defined twice (YAML
// lets the later one win silently, so an alias would pick up a value nobody
// meant).
func (d *decoder) checkTags(root *yaml.Node) map[*yaml.Node]bool {
	tagged := map[*yaml.Node]bool{}
	anchors := map[string]int{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Anchor != "" {
			if first, dup := anchors[n.Anchor]; dup {
				d.add(n, path, "anchor &%s is already defined at line %d: give each anchor its own name", n.Anchor, first)
			} else {
				anchors[n.Anchor] = n.Line
			}
		}
		switch {
		case n.Tag == secretTag:
			tagged[n] = true
			n.Tag = ""
		case n.Kind != yaml.AliasNode && strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!"):
			msg := "unknown tag %s (dashd knows only !secret, which hides a value wherever dashd shows configuration)"
			if suggest(n.Tag, []string{secretTag}) != "" {
				msg = "unknown tag %s (did you mean !secret?)"
			}
			d.add(n, path, msg, n.Tag)
		}
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, path+"["+strconv.Itoa(i)+"]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				walk(k, joinPath(path, k.Value))
				walk(n.Content[i+1], joinPath(path, k.Value))
			}
		}
	}
	walk(root, "")
	return tagged
}
