package metrics

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/state"
)

func TestSnapshotFailures(t *testing.T) {
	tests := []struct {
		name string
		errs []string
		want []string
	}{
		{"none", nil, nil},
		{"one", []string{"load: open /proc/loadavg: permission denied"}, []string{"load"}},
		{"several", []string{"memory: x", "processes: y: z", "load: w"}, []string{"load", "memory", "processes"}},
		{"no part name", []string{"something odd"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := slices.Sorted(maps.Keys(snapshotFailures(tt.errs)))
			if !slices.Equal(got, tt.want) {
				t.Errorf("snapshotFailures(%q) = %v, want %v", tt.errs, got, tt.want)
			}
		})
	}
}

// TestHostPart_Snapshots: what the host part exports for unusual samples.
// Failed parts are left out instead of exported as zeros, repeated items
// are exported once, a stale sample is still exported, and none of it is
// a failed scrape.
func TestHostPart_Snapshots(t *testing.T) {
	e := newEnv(t, envOptions{})
	now := time.Now()

	failed := testSnapshot(now)
	failed.Errors = []string{"load: open /proc/loadavg: permission denied", "memory: open /proc/meminfo: permission denied"}

	repeated := testSnapshot(now)
	repeated.CPUSeconds = append(repeated.CPUSeconds, repeated.CPUSeconds[0], system.CPUTimes{Core: -1, User: 1})
	repeated.Filesystems = append(repeated.Filesystems, repeated.Filesystems[0])
	repeated.Interfaces = append(repeated.Interfaces, repeated.Interfaces[0])
	repeated.Disks = append(repeated.Disks, repeated.Disks[0])

	stale := testSnapshot(now.Add(-time.Hour))

	tests := []struct {
		name    string
		snap    system.Snapshot
		absent  []string
		present map[string]float64 // family (unlabelled series) -> value, -1 any
		series  map[string]int     // family -> number of series
	}{
		{
			name:    "failed parts",
			snap:    failed,
			absent:  []string{"node_load1", "node_load5", "node_load15", "node_memory_MemTotal_bytes", "node_memory_SwapTotal_bytes"},
			present: map[string]float64{"dashd_sample_errors": 2, "node_procs_running": 2, "dashd_host_processes": 120},
		},
		{
			name:   "repeated items",
			snap:   repeated,
			series: map[string]int{"node_cpu_seconds_total": 16, "node_cpu_guest_seconds_total": 4, "node_filesystem_size_bytes": 1, "node_network_receive_bytes_total": 1, "node_disk_read_bytes_total": 1},
		},
		{
			name:    "stale sample",
			snap:    stale,
			present: map[string]float64{"dashd_sample_timestamp_seconds": float64(stale.Time.UnixNano()) / 1e9, "node_load1": 0.5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			latest := state.New(e.latest.Config(), now)
			latest.SetSystem(tt.snap)
			src := e.src
			src.Host = latest
			m, err := New(src)
			if err != nil {
				t.Fatal(err)
			}
			fams := gather(t, m)
			noDuplicates(t, fams)
			if got := successOf(fams, partHost); got != 1 {
				t.Errorf("host success = %v, want 1", got)
			}
			for _, name := range tt.absent {
				if _, ok := fams[name]; ok {
					t.Errorf("%s exported", name)
				}
			}
			for name, want := range tt.present {
				m := fams.find(name)
				if m == nil {
					t.Errorf("%s missing", name)
					continue
				}
				if want >= 0 && value(m) != want {
					t.Errorf("%s = %v, want %v", name, value(m), want)
				}
			}
			for name, want := range tt.series {
				if got := len(fams[name].GetMetric()); got != want {
					t.Errorf("%s has %d series, want %d", name, got, want)
				}
			}
		})
	}
}
