package system

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/dashd/dashd/internal/golden"
)

// TestPoints_Golden pins the series names and values the fixture host
// produces: a renamed or dropped series is a breaking change for stored
// history, dashboards and alerts, so it must show up in review.
//
//	DASHD_UPDATE_GOLDEN=1 go test ./collectors/system/ -run Golden
func TestPoints_Golden(t *testing.T) {
	f := newFixtureHost(t, "tick1")
	s := newFixtureSampler(f, Options{})
	s.sample(context.Background())
	f.use("tick2")
	snap := s.sample(context.Background())

	var b strings.Builder
	for _, p := range snap.Points() {
		if p.Series == "sampler.duration_ms" {
			continue // wall time of the tick: not reproducible
		}
		fmt.Fprintf(&b, "%s %s\n", p.Series, strconv.FormatFloat(p.Value, 'g', 10, 64))
	}
	golden.Assert(t, "points.golden", []byte(b.String()))
}
