package collectors

import (
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func parseStates(t *testing.T, s string) []model.State {
	t.Helper()
	var out []model.State
	for _, f := range strings.Fields(s) {
		st, err := model.ParseState(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st)
	}
	return out
}

func TestTracker_Damping(t *testing.T) {
	tests := []struct {
		name                    string
		failAfter, recoverAfter int
		results                 string
		want                    string // state after each result
	}{
		{"first result applies at once, even down", 2, 1, "down up", "down up"},
		{"two failures to go down, one success back", 2, 1, "up down down up", "up up down up"},
		{"single blips are damped", 2, 1, "up down up down up", "up up up up up"},
		{"degraded then down: degraded first", 2, 1, "up degraded down down", "up up degraded down"},
		{"degraded counts towards degraded only", 2, 1, "up degraded degraded down", "up up degraded degraded"},
		{"fail_after 1 is immediate", 1, 1, "up down up", "up down up"},
		{"recover_after 2 needs two good results", 2, 2, "down up down up up", "down down down down up"},
		{"partial recovery through degraded", 2, 2, "down degraded up degraded up up", "down down degraded degraded degraded up"},
		{"down to degraded with recover_after 1", 2, 1, "down degraded", "down degraded"},
		{"unknown results count as down", 1, 1, "up unknown", "up down"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker(tt.failAfter, tt.recoverAfter, 10*time.Minute, 5)
			now := time.Unix(1_700_000_000, 0)
			var got []string
			for _, r := range parseStates(t, tt.results) {
				now = now.Add(time.Second)
				tr.observe(r, now)
				got = append(got, tr.state.String())
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("states = %q, want %q", strings.Join(got, " "), tt.want)
			}
		})
	}
}

func TestTracker_EventsAndLastChange(t *testing.T) {
	tr := newTracker(2, 1, 10*time.Minute, 5)
	t0 := time.Unix(1_700_000_000, 0)
	type change struct{ from, to model.State }
	var changes []change
	for i, r := range parseStates(t, "up up down down down up") {
		from, to, changed := tr.observe(r, t0.Add(time.Duration(i)*time.Minute))
		if changed {
			changes = append(changes, change{from, to})
		}
	}
	want := []change{{model.StateUnknown, model.StateUp}, {model.StateUp, model.StateDown}, {model.StateDown, model.StateUp}}
	if len(changes) != len(want) {
		t.Fatalf("changes = %v, want %v", changes, want)
	}
	for i := range want {
		if changes[i] != want[i] {
			t.Errorf("change %d = %v, want %v", i, changes[i], want[i])
		}
	}
	if !tr.lastChange.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("lastChange = %v", tr.lastChange)
	}
}

func TestTracker_Flapping(t *testing.T) {
	tr := newTracker(1, 1, 10*time.Minute, 5)
	t0 := time.Unix(1_700_000_000, 0)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	// Leaving unknown (minute 0) is not a flap; then a change every minute.
	steps := []struct {
		min      int
		result   string
		flapping bool
	}{
		{0, "up", false},
		{1, "down", false},
		{2, "up", false},
		{3, "down", false},
		{4, "up", false},
		{5, "down", true}, // 5 changes within 10 minutes
		{6, "down", true},
		{12, "down", false}, // window (2m, 12m]: changes at 3, 4, 5 remain
		{14, "down", false},
		{30, "up", false},
	}
	for _, s := range steps {
		tr.observe(parseStates(t, s.result)[0], at(s.min))
		if tr.flapping != s.flapping {
			t.Errorf("minute %d: flapping = %v, want %v (changes in window: %d)", s.min, tr.flapping, s.flapping, len(tr.changes))
		}
	}
}

func TestTracker_RestartKeepsStateForgetsStreaks(t *testing.T) {
	tr := newTracker(3, 3, 10*time.Minute, 5)
	now := time.Unix(1_700_000_000, 0)
	tr.observe(model.StateDown, now)
	tr.observe(model.StateUp, now) // 1 of 3 towards up
	tr = tr.restart(2, 1)
	if tr.state != model.StateDown {
		t.Fatalf("restart lost the state: %s", tr.state)
	}
	if _, to, changed := tr.observe(model.StateUp, now); !changed || to != model.StateUp {
		t.Errorf("first result after a config change must apply at once, got %s", to)
	}
	if tr.failAfter != 2 || tr.recoverAfter != 1 {
		t.Errorf("new thresholds not applied: %+v", tr)
	}
}
