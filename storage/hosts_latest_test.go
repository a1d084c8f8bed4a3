package storage

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestHostLatestState_StopsOnceChecksFound: given the host's checks, the
// scan for their newest results stops once each has perCheck of them,
// so an older result of a check nobody asked about, further back than
// the known checks' newest, is not reached; without checks the scan goes
// on to its bound and finds it.
func TestHostLatestState_StopsOnceChecksFound(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "hub.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.UnixMilli(1_700_000_000_000)
	b := HostBatch{Seen: map[string]time.Time{"web-1": t0}}
	add := func(check string, at time.Duration, st model.State) {
		b.Results = append(b.Results, HostResult{Host: "web-1", Result: model.Result{Check: check, Time: t0.Add(at), State: st}})
	}
	add("retired", 0, model.StateDown) // a check the agent no longer runs
	for i := range 100 {
		add("nginx", time.Duration(10+i)*time.Second, model.StateUp)
		add("pg", time.Duration(10+i)*time.Second+time.Millisecond, model.StateUp)
	}
	add("nginx", 200*time.Second, model.StateDegraded) // the newest of all
	if err := db.IngestHosts(b); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		checks   []string
		perCheck int
		want     map[string]int         // results per check
		newest   map[string]model.State // the newest result's state per check
	}{
		{"no checks: the whole scan", nil, 1, map[string]int{"nginx": 1, "pg": 1, "retired": 1},
			map[string]model.State{"nginx": model.StateDegraded, "pg": model.StateUp, "retired": model.StateDown}},
		{"known checks: stops", []string{"nginx", "pg"}, 1, map[string]int{"nginx": 1, "pg": 1},
			map[string]model.State{"nginx": model.StateDegraded, "pg": model.StateUp}},
		{"known checks, three each", []string{"nginx", "pg"}, 3, map[string]int{"nginx": 3, "pg": 3},
			map[string]model.State{"nginx": model.StateDegraded, "pg": model.StateUp}},
		{"one check known: others met on the way kept", []string{"pg"}, 1, map[string]int{"nginx": 1, "pg": 1},
			map[string]model.State{"nginx": model.StateDegraded, "pg": model.StateUp}},
		{"a retired check known: scan to the bound", []string{"nginx", "pg", "retired"}, 1, map[string]int{"nginx": 1, "pg": 1, "retired": 1},
			map[string]model.State{"nginx": model.StateDegraded, "pg": model.StateUp, "retired": model.StateDown}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, ok, err := db.HostLatestState("web-1", 4000, tt.perCheck, tt.checks...)
			if err != nil || !ok {
				t.Fatalf("HostLatestState: ok %v, err %v", ok, err)
			}
			got := map[string]int{}
			for c, rs := range l.Results {
				got[c] = len(rs)
				if !slices.IsSortedFunc(rs, func(a, b model.Result) int { return b.Time.Compare(a.Time) }) {
					t.Errorf("%s results not newest first", c)
				}
				if rs[0].State != tt.newest[c] {
					t.Errorf("%s newest state %v, want %v", c, rs[0].State, tt.newest[c])
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("results per check %v, want %v", got, tt.want)
			}
			for c, n := range tt.want {
				if got[c] != n {
					t.Fatalf("results per check %v, want %v", got, tt.want)
				}
			}
		})
	}
}
