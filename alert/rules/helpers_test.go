package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/config"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// t0 is a Monday, midnight UTC.
var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

func ptr(v float64) *float64 { return &v }

func dur(d time.Duration) config.Duration { return config.Duration(d) }

func durp(d time.Duration) *config.Duration { v := config.Duration(d); return &v }

// fill sets one part of a synthetic sample.
type fill func(s *system.Snapshot)

// sample builds a Snapshot at t0+at: 4 CPUs, half the memory available,
// no swap, no CPU figure, no filesystems or interfaces, unless fills say
// otherwise.
func sample(at time.Duration, fills ...fill) system.Snapshot {
	s := system.Snapshot{
		Time:   t0.Add(at),
		Host:   &system.Host{Hostname: "test", CPUs: 4},
		Memory: system.Memory{Total: 1000, Available: 500},
	}
	for _, f := range fills {
		f(&s)
	}
	return s
}

func cpu(v float64) fill {
	return func(s *system.Snapshot) { s.CPU = &system.CPUPercent{Core: -1, Busy: v, Idle: 100 - v} }
}

func memAvail(pct float64) fill {
	return func(s *system.Snapshot) { s.Memory.Available = uint64(pct * 10) }
}

func swap(pct float64) fill {
	return func(s *system.Snapshot) { s.Swap = system.Swap{Total: 1000, UsedPercent: pct} }
}

func load(l1 float64) fill { return func(s *system.Snapshot) { s.Load.Load1 = l1 } }

func cpus(n int) fill {
	return func(s *system.Snapshot) { h := *s.Host; h.CPUs = n; s.Host = &h }
}

// fs adds a filesystem usedPct full with 1000 inodes, inodesPct used.
func fs(mount string, usedPct, inodesPct float64) fill {
	return func(s *system.Snapshot) {
		s.Filesystems = append(s.Filesystems, system.Filesystem{
			Mount: mount, Total: 100 << 30, Used: uint64(usedPct) << 30, Avail: uint64(100-usedPct) << 30,
			UsedPercent: usedPct, InodesTotal: 1000, InodesFree: uint64(1000 - inodesPct*10),
		})
	}
}

// noInodes adds a filesystem without inode counts.
func noInodes(mount string) fill {
	return func(s *system.Snapshot) {
		s.Filesystems = append(s.Filesystems, system.Filesystem{Mount: mount, Total: 1, Used: 1, UsedPercent: 100})
	}
}

func iface(name string, rx, tx float64) fill {
	return func(s *system.Snapshot) {
		s.Interfaces = append(s.Interfaces, system.NetInterface{Name: name, Rate: &system.NetRate{RxErrorsPerSec: rx, TxErrorsPerSec: tx}})
	}
}

func ifaceNoRate(name string) fill {
	return func(s *system.Snapshot) { s.Interfaces = append(s.Interfaces, system.NetInterface{Name: name}) }
}

// failed records a failed part as the Sampler does ("part: error").
func failed(part string) fill {
	return func(s *system.Snapshot) { s.Errors = append(s.Errors, part+": read failed") }
}

// step is one sample of a scenario and the transitions it must cause,
// written "firing rule:cpu-busy".
type step struct {
	at    time.Duration
	fills []fill
	want  []string
	// apply, when set, replaces the rules before the sample.
	apply []config.Rule
	check func(t *testing.T, got []Transition)
}

// at is a step with no transitions expected.
func at(d time.Duration, fills ...fill) step { return step{at: d, fills: fills} }

// every repeats a quiet step from from to to (inclusive) every dt.
func every(from, to, dt time.Duration, fills ...fill) []step {
	var out []step
	for d := from; d <= to; d += dt {
		out = append(out, at(d, fills...))
	}
	return out
}

// then is a step expecting transitions.
func then(d time.Duration, want []string, fills ...fill) step {
	return step{at: d, fills: fills, want: want}
}

// seq joins steps.
func seq(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch v := p.(type) {
		case step:
			out = append(out, v)
		case []step:
			out = append(out, v...)
		default:
			panic(fmt.Sprintf("seq: %T", p))
		}
	}
	return out
}

func brief(trs []Transition) []string {
	var out []string
	for _, tr := range trs {
		out = append(out, string(tr.State)+" "+tr.Key)
	}
	return out
}

// run feeds the steps to an engine and checks every step's transitions
// (those Apply returned, then Observe's).
func run(t *testing.T, e *Engine, steps []step) {
	t.Helper()
	for _, st := range steps {
		var got []Transition
		if st.apply != nil {
			got = e.Apply(st.apply)
			if err := e.Problems(); err != nil {
				t.Fatalf("at %s: Apply: %v", st.at, err)
			}
		}
		got = append(got, e.Observe(sample(st.at, st.fills...), nil)...)
		if b := brief(got); !slices.Equal(b, st.want) {
			t.Fatalf("at %s: transitions %s, want %s", st.at, show(b), show(st.want))
		}
		if st.check != nil {
			st.check(t, got)
		}
	}
}

func show(s []string) string {
	if len(s) == 0 {
		return "[none]"
	}
	return "[" + strings.Join(s, ", ") + "]"
}

func mustNew(t testing.TB, rules ...config.Rule) *Engine {
	t.Helper()
	e := New(rules)
	if err := e.Problems(); err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}
