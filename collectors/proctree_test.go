package collectors

import (
	"os"
	"slices"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseStat(t *testing.T) {
	tail := " 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 777 8000000 200"
	tests := []struct {
		name, stat string
		want       procInfo
		wantErr    bool
	}{
		{"plain", "42 (sleep) S 7 42 42" + tail, procInfo{pid: 42, ppid: 7, pgid: 42, sid: 42, state: 'S', start: 777}, false},
		{"name with spaces and parens", "43 (a b) c) Z 1 5 6" + tail, procInfo{pid: 43, ppid: 1, pgid: 5, sid: 6, state: 'Z', start: 777}, false},
		{"no name", "44 sleep S 1 1 1" + tail, procInfo{}, true},
		{"too short", "45 (sleep) S 1 1 1 0", procInfo{}, true},
		{"bad ppid", "46 (sleep) S x 1 1" + tail, procInfo{}, true},
		{"bad pid", "x (sleep) S 1 1 1" + tail, procInfo{}, true},
		{"empty", "", procInfo{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.stat))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("parseStat = %+v, %v; want %+v, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

// The real /proc agrees with what the process knows about itself.
func TestProcReader_Self(t *testing.T) {
	p, err := newProcReader("/proc").one(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if p.pid != os.Getpid() || p.ppid != os.Getppid() || p.pgid != unix.Getpgrp() || p.start == 0 || p.exited() {
		t.Errorf("own stat = %+v", p)
	}
	if _, err := newProcReader("/proc").one(1 << 30); err != errGone {
		t.Errorf("one(no such pid) error = %v, want errGone", err)
	}
}

// descendants follows ppid links across sessions and groups, includes
// zombies (the caller skips them), and does not follow a root whose pid
// now belongs to another process (different start time).
func TestDescendants(t *testing.T) {
	procs, err := newProcReader("testdata/proctree").all()
	if err != nil {
		t.Fatal(err)
	}
	if len(procs) != 8 {
		t.Fatalf("read %d processes from the fixture, want 8", len(procs))
	}
	tests := []struct {
		name  string
		roots map[int]procInfo
		want  []int
	}{
		{"command tree", map[int]procInfo{100: {start: 1000}}, []int{101, 102, 103}},
		{"from dashd", map[int]procInfo{50: {start: 900}}, []int{100, 101, 102, 103}},
		{"two roots, one below the other", map[int]procInfo{100: {start: 1000}, 101: {start: 1001}}, []int{102, 103}},
		{"root pid reused", map[int]procInfo{100: {start: 999}}, nil},
		{"root gone", map[int]procInfo{400: {start: 1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int
			for _, p := range descendants(procs, tt.roots) {
				got = append(got, p.pid)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("descendants = %v, want %v", got, tt.want)
			}
		})
	}
}
