package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dashd/dashd/selfstat"
)

// alertFootprintConfig is the alerting the footprint phase adds: a
// webhook channel taking every alert and the host rules config.yaml ships
// (none of which should fire on a healthy machine), so that the cost
// measured includes routing and the rules' evaluation on every sample.
const alertFootprintConfig = `alerts:
  channels:
    - name: ops
      type: webhook
      url: %s
  routes:
    - checks: ["*"]
      channels: [ops]
    - rules: ["*"]
      channels: [ops]
  rules:
    - {name: cpu-busy, metric: cpu, above: 90, for: 5m, severity: warning}
    - {name: memory-low, metric: memory_available, below: 5, for: 5m, severity: critical}
    - {name: swap-used, metric: swap_used, above: 50, for: 10m, severity: warning}
    - {name: load-high, metric: load_per_core, above: 2, for: 10m, severity: warning}
    - {name: disk-full, metric: fs_used, above: 90, clear: 85, for: 5m, severity: critical}
    - {name: inodes-full, metric: fs_inodes_used, above: 90, for: 5m, severity: critical}
    - {name: disk-fills-soon, metric: fs_full_in, within: 24h, window: 6h, severity: warning}
    - {name: net-errors, metric: net_errors, above: 10, for: 5m, severity: warning}
`

// alertFootprintRun is one run's CPU share (% of one core, from the
// threads' scheduler statistics) and RSS.
type alertFootprintRun struct {
	cpuPct         float64
	rssAvg, rssMax uint64
	messages       int // alert messages received (a rule that fired)
}

// runAlertFootprint measures the daemon with and without alerting configured:
// 20 checks every 10s, host sampling at the default 1s, one dashboard
// stream open, like `make bench-footprint`.
func (b *alertsBench) runAlertFootprint() error {
	fmt.Fprintf(b.out, "footprint: 20 checks every 10s, one dashboard stream; %s window after %s warm-up; %d round(s) alternating; CPU from /proc/PID/task/*/schedstat\n",
		b.footprint, b.warmup, b.rounds)
	var without, with []alertFootprintRun
	for r := range b.rounds {
		order := []bool{false, true}
		if r%2 == 1 {
			order = []bool{true, false}
		}
		for _, alerting := range order {
			run, err := b.footprintOnce(fmt.Sprintf("footprint-%d-%v", r, alerting), alerting)
			if err != nil {
				return err
			}
			label := "without alerting"
			if alerting {
				label = "with alerting   "
				with = append(with, run)
			} else {
				without = append(without, run)
			}
			fmt.Fprintf(b.out, "  %s  CPU %.3f %% of a core, RSS avg %.1f MB, max %.1f MB\n", label, run.cpuPct,
				float64(run.rssAvg)/1e6, float64(run.rssMax)/1e6)
		}
	}
	w0, w1 := meanAlertFootprint(without), meanAlertFootprint(with)
	fmt.Fprintf(b.out, "  difference             CPU %+.1f %%, RSS avg %+.1f %%   (goal: within 5 %%)\n",
		(w1.cpuPct/w0.cpuPct-1)*100, (float64(w1.rssAvg)/float64(w0.rssAvg)-1)*100)
	return nil
}

// taskCPU is the CPU time the process's threads have run, summed from
// /proc/PID/task/*/schedstat (nanoseconds). /proc/PID/stat counts in
// 10 ms ticks: at dashd's idle share (~0.4 % of a core, 24 ticks a
// minute) one tick is 4 %, too coarse for a 5 % goal. Threads that exit
// take their time along; Go's rarely do.
func taskCPU(proc string) (time.Duration, error) {
	paths, err := filepath.Glob(filepath.Join(proc, "task", "*", "schedstat"))
	if err != nil || len(paths) == 0 {
		return 0, fmt.Errorf("footprint: no %s/task/*/schedstat: %v", proc, err)
	}
	var total time.Duration
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // the thread ended
		}
		f := strings.Fields(string(b))
		if len(f) < 1 {
			return 0, fmt.Errorf("footprint: %s: %q", p, b)
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("footprint: %s: %w", p, err)
		}
		total += time.Duration(ns)
	}
	return total, nil
}

func meanAlertFootprint(runs []alertFootprintRun) alertFootprintRun {
	var m alertFootprintRun
	for _, r := range runs {
		m.cpuPct += r.cpuPct / float64(len(runs))
		m.rssAvg += r.rssAvg / uint64(len(runs))
		m.rssMax = max(m.rssMax, r.rssMax)
	}
	return m
}

// footprintOnce starts one daemon, opens a dashboard stream, waits the
// warm-up and samples /proc/PID once a second over the window.
func (b *alertsBench) footprintOnce(phase string, alerting bool) (alertFootprintRun, error) {
	names := alertCheckNames("fp-", 20)
	s, err := b.start(phase, names, 10*time.Second, func(h *alertHook) string {
		if !alerting {
			return ""
		}
		return fmt.Sprintf(alertFootprintConfig, h.url("/ops"))
	})
	if err != nil {
		return alertFootprintRun{}, err
	}
	defer s.close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.d.base+"/api/events", nil)
	if err != nil {
		return alertFootprintRun{}, err
	}
	req.Header.Set("Datastar-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return alertFootprintRun{}, err
	}
	defer resp.Body.Close()
	go func() {
		r := bufio.NewReader(resp.Body)
		buf := make([]byte, 32<<10)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
		}
	}()
	time.Sleep(b.warmup)
	proc := filepath.Join("/proc", fmt.Sprint(s.d.cmd.Process.Pid))
	c0, err := taskCPU(proc)
	if err != nil {
		return alertFootprintRun{}, err
	}
	t0 := time.Now()
	var run alertFootprintRun
	var rssSum, n uint64
	for time.Since(t0) < b.footprint {
		time.Sleep(time.Second)
		u, err := selfstat.ReadProc(proc)
		if err != nil {
			return alertFootprintRun{}, err
		}
		rssSum += u.RSSBytes
		n++
		run.rssMax = max(run.rssMax, u.RSSBytes)
	}
	c1, err := taskCPU(proc)
	if err != nil {
		return alertFootprintRun{}, err
	}
	run.cpuPct = (c1 - c0).Seconds() / time.Since(t0).Seconds() * 100
	run.rssAvg = rssSum / max(n, 1)
	run.messages = len(s.hook.accepted("/ops"))
	if run.messages > 0 {
		fmt.Fprintf(os.Stderr, "dashd-bench: %s: %d alert messages during the footprint run (a rule fired?)\n", phase, run.messages)
	}
	cancel()
	return run, s.stop()
}
