package system

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// TestPoints_Golden pins the series names and values the fixture host
// produces: a renamed or dropped series is a breaking change for stored
// history, dashboards and alerts, so it must show up in review.
//
//	go test ./collectors/system/ -run Golden -update
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
	golden := filepath.Join("testdata", "points.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if b.String() != string(want) {
		t.Errorf("points differ from %s (run with -update if intended):\n%s", golden, b.String())
	}
}
