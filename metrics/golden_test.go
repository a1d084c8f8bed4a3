package metrics

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dashd/dashd/internal/golden"
)

// familyShapes lists, one line a family, the name, the type and the label
// names of every family dashd itself exports: what dashboards and alerts
// depend on. The go_* and process_* families are client_golang's and
// change with its version and the platform; they are left out.
func familyShapes(fs families) []byte {
	var lines []string
	for name, f := range fs {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			continue
		}
		labels := map[string]bool{}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = true
			}
		}
		var ls []string
		for l := range labels {
			ls = append(ls, l)
		}
		slices.Sort(ls)
		lines = append(lines, fmt.Sprintf("%s %s {%s}", name, strings.ToLower(f.GetType().String()), strings.Join(ls, ",")))
	}
	slices.Sort(lines)
	return []byte(strings.Join(lines, "\n") + "\n")
}

// TestFamilies_Golden pins every family's name, type and label names.
// The families exported before the split into parts are byte-for-byte
// those of the old server collector; the only new ones are
// dashd_scrape_collector_duration_seconds and dashd_scrape_collector_success.
func TestFamilies_Golden(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, body := e.scrape(t, "")
	golden.Assert(t, "families.golden", familyShapes(parseText(t, body)))
}
