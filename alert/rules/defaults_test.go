package rules

import (
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
)

// TestDefaults_MatchYAML keeps Defaults and the YAML handed to config.yaml
// (testdata/defaults.yaml) the same, and proves the YAML validates.
func TestDefaults_MatchYAML(t *testing.T) {
	data, err := os.ReadFile("testdata/defaults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("testdata/defaults.yaml", data, config.Options{
		LookupEnv: func(string) (string, bool) { return "", false },
	})
	if err != nil {
		t.Fatalf("config.Parse: %v", err)
	}
	got, want := cfg.Alerts.Rules, Defaults()
	if len(got) != len(want) {
		t.Fatalf("YAML has %d rules, Defaults %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("rule %d:\n yaml     %+v\n Defaults %+v", i, got[i], want[i])
		}
	}
}

func TestDefaults_Evaluate(t *testing.T) {
	e := New(Defaults())
	if err := e.Problems(); err != nil {
		t.Fatalf("New(Defaults()): %v", err)
	}
	if len(e.rules) != 8 {
		t.Fatalf("%d rules compiled, want 8", len(e.rules))
	}
	seen := map[string]bool{}
	for _, r := range Defaults() {
		seen[r.Metric] = true
	}
	for _, m := range config.RuleMetrics() {
		if !seen[m.Name] {
			t.Errorf("no default rule watches %s", m.Name)
		}
	}
	// A healthy host raises nothing; a sick one everything but the
	// prediction (no history here), each after its For.
	healthy := []fill{cpu(20), memAvail(50), swap(1), load(1), fs("/", 40, 10), iface("eth0", 0, 0)}
	sick := []fill{cpu(99), memAvail(1), swap(90), load(40), fs("/", 97, 97), iface("eth0", 50, 0)}
	for d := time.Duration(0); d <= 30*mn; d += mn {
		if got := e.Observe(sample(d, healthy...), nil); len(got) != 0 {
			t.Fatalf("healthy host at %s: %v", d, brief(got))
		}
	}
	var fired []string
	for d := 31 * mn; d <= 45*mn; d += mn {
		fired = append(fired, brief(e.Observe(sample(d, sick...), nil))...)
	}
	want := []string{
		"firing rule:cpu-busy", "firing rule:memory-low", "firing rule:disk-full:/", "firing rule:inodes-full:/", "firing rule:net-errors:eth0",
		"firing rule:swap-used", "firing rule:load-high",
	}
	if !equal(fired, want) {
		t.Errorf("fired %v, want %v", fired, want)
	}
}
