package system

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"

	"github.com/dashd/dashd/internal/procfile"
)

// BenchmarkSample is the cost of one steady-state tick on the real host
// (everything but the process refresh, which has its own cadence).
// At the 1 s default, ns/op divided by 1e7 is the percent of one core.
func BenchmarkSample(b *testing.B) {
	ctx := context.Background()
	s := New(Options{ProcessInterval: time.Hour, Logger: slog.New(slog.DiscardHandler)})
	defer s.close()
	s.sample(ctx) // host identity, baselines
	s.sample(ctx) // second process refresh
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		s.sample(ctx)
	}
}

// BenchmarkTopRefresh is the cost of one process refresh on the real host
// (every ProcessInterval, 5 s by default).
func BenchmarkTopRefresh(b *testing.B) {
	ctx := context.Background()
	s := New(Options{Logger: slog.New(slog.DiscardHandler)})
	defer s.close()
	s.sample(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := s.refreshProcs(ctx, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.procs)), "procs")
}

// BenchmarkPoints is the cost of flattening one live Snapshot.
func BenchmarkPoints(b *testing.B) {
	ctx := context.Background()
	s := New(Options{Logger: slog.New(slog.DiscardHandler)})
	defer s.close()
	s.sample(ctx)
	snap := s.sample(ctx)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		_ = snap.Points()
	}
	b.ReportMetric(float64(len(snap.Points())), "points")
}

// TestMeasureRun runs the Sampler at the defaults (1 s ticks, 5 s process
// refresh, Points on every tick) for DASHD_MEASURE (e.g. "60s") and prints the
// CPU time and RSS of the test process from /proc/self: a load tool, skipped
// unless asked for, never asserting.
//
//	DASHD_MEASURE=60s go test -run MeasureRun -v ./collectors/system/
func TestMeasureRun(t *testing.T) {
	d, err := time.ParseDuration(os.Getenv("DASHD_MEASURE"))
	if err != nil {
		t.Skip("set DASHD_MEASURE=60s to measure the sampler's own CPU and memory")
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	cpu0 := selfCPU(t)
	start := time.Now()
	ticks, points := 0, 0
	var cpu1 time.Duration
	var start1 time.Time
	opts := Options{Logger: slog.New(slog.DiscardHandler)}
	if os.Getenv("DASHD_MEASURE_NOTOP") != "" {
		opts.TopN = -1 // to see the process refresh's share
	}
	s := New(opts)
	if err := s.Run(ctx, func(sn Snapshot) {
		ticks++
		points += len(sn.Points())
		if ticks == 2 { // after host identity and the two quick process refreshes
			cpu1, start1 = selfCPU(t), time.Now()
		}
	}); err != nil {
		t.Fatal(err)
	}
	cpu2, wall := selfCPU(t), time.Since(start)
	t.Logf("%d ticks, %d points in %v: CPU %v = %.3f%% of one core (first two ticks %v; steady state %.3f%%); %s",
		ticks, points, wall.Round(time.Millisecond), cpu2-cpu0, 100*(cpu2-cpu0).Seconds()/wall.Seconds(),
		cpu1-cpu0, 100*(cpu2-cpu1).Seconds()/time.Since(start1).Seconds(), selfRSS(t))
}

// selfCPU is the CPU time of this process: the nanosecond run time summed
// over its threads' schedstat where available (utime+stime in
// /proc/self/stat is sampled in 10 ms ticks, too coarse for a minute of a
// cheap loop). Threads that exited are missed; Go keeps its threads.
func selfCPU(t *testing.T) time.Duration {
	if tasks, err := filepath.Glob("/proc/self/task/*/schedstat"); err == nil && len(tasks) > 0 {
		var sum time.Duration
		for _, p := range tasks {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			if f := strings.Fields(string(b)); len(f) > 0 {
				if ns, ok := procfile.ParseUint([]byte(f[0])); ok {
					sum += time.Duration(ns)
				}
			}
		}
		return sum
	}
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	st, _, err := parsePidStat(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(float64(st.CPUTicks) / cpu.ClocksPerSec * float64(time.Second))
}

func selfRSS(t *testing.T) string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			return strings.Join(strings.Fields(l), " ")
		}
	}
	return "VmRSS unknown"
}
