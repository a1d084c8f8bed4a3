package system

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestSampler_Live samples the real host twice and checks that values are in
// plausible ranges; exact values are the fixture test's job.
func TestSampler_Live(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s := New(Options{Logger: slog.New(slog.DiscardHandler)})
	defer s.close()
	first := s.sample(ctx)
	time.Sleep(300 * time.Millisecond)
	snap := s.sample(ctx)
	if testing.Verbose() {
		b, _ := json.MarshalIndent(snap, "", "  ")
		t.Logf("snapshot: %s", b)
	}
	if first.CPU != nil {
		t.Errorf("first tick has CPU percentages: %+v", first.CPU)
	}
	for _, e := range snap.Errors {
		t.Errorf("part failed: %s", e)
	}
	h := snap.Host
	if h == nil || h.Hostname == "" || h.OS != "linux" || h.Kernel == "" || h.CPUs < 1 {
		t.Errorf("host identity = %+v", h)
	}
	if snap.CPU == nil {
		t.Fatal("no CPU percentages on the second tick")
	}
	for _, c := range append([]CPUPercent{*snap.CPU}, snap.Cores...) {
		if c.Busy < 0 || c.Busy > 100 || c.Idle < 0 || c.Idle > 100 {
			t.Errorf("cpu %d out of range: %+v", c.Core, c)
		}
		sum := c.User + c.Nice + c.System + c.IOWait + c.IRQ + c.SoftIRQ + c.Steal + c.Idle
		if sum < 99.9 || sum > 100.1 {
			t.Errorf("cpu %d modes sum to %.3f", c.Core, sum)
		}
	}
	if len(snap.CPUSeconds) != h.CPUs {
		t.Errorf("%d per-core CPU seconds for %d CPUs", len(snap.CPUSeconds), h.CPUs)
	}
	m := snap.Memory
	if m.Total < 64<<20 || m.Used > m.Total || m.Available > m.Total || m.UsedPercent <= 0 || m.UsedPercent > 100 {
		t.Errorf("memory = %+v", m)
	}
	if snap.Swap.Used > snap.Swap.Total {
		t.Errorf("swap = %+v", snap.Swap)
	}
	if snap.Load.Load1 < 0 || snap.Load.Load15 < 0 {
		t.Errorf("load = %+v", snap.Load)
	}
	if snap.UptimeSeconds <= 0 {
		t.Errorf("uptime = %v", snap.UptimeSeconds)
	}
	if p := snap.Processes; p.Total < 2 || p.Running < 1 || p.Blocked < 0 {
		t.Errorf("processes = %+v", p)
	}
	if f := snap.FileDescriptors; f.Open == 0 || f.Max < f.Open {
		t.Errorf("fds = %+v", f)
	}
	if len(snap.Filesystems) == 0 {
		t.Error("no filesystems")
	}
	for _, f := range snap.Filesystems {
		if f.Total == 0 || f.Used > f.Total || f.UsedPercent < 0 || f.UsedPercent > 100 {
			t.Errorf("filesystem %+v", f)
		}
	}
	for _, d := range snap.Disks {
		if strings.HasPrefix(d.Device, "loop") || strings.HasPrefix(d.Device, "ram") {
			t.Errorf("disk %s should be excluded", d.Device)
		}
		if d.Rate != nil && (d.Rate.ReadBytesPerSec < 0 || d.Rate.UtilPercent > 100) {
			t.Errorf("disk %+v", d)
		}
	}
	for _, n := range snap.Interfaces {
		if n.Name == "lo" {
			t.Error("lo should be excluded")
		}
		if n.Rate != nil && (n.Rate.RxBytesPerSec < 0 || n.Rate.TxBytesPerSec < 0) {
			t.Errorf("interface %+v", n)
		}
	}
	top := snap.Top
	if top == nil || len(top.ByMemory) == 0 || len(top.ByMemory) > DefaultTopN {
		t.Fatalf("top = %+v", top)
	}
	if top.Interval <= 0 {
		t.Errorf("second refresh has no interval: %+v", top)
	}
	for _, p := range append(top.ByCPU, top.ByMemory...) {
		if p.PID <= 0 || p.Name == "" || p.CPUPercent < 0 || p.CPUPercent > 100*float64(h.CPUs)+1 || p.MemPercent > 100 {
			t.Errorf("top process %+v", p)
		}
	}
	pts := snap.Points()
	seen := map[string]bool{}
	for _, p := range pts {
		if seen[p.Series] {
			t.Errorf("duplicate series %s", p.Series)
		}
		seen[p.Series] = true
	}
	for _, want := range []string{"cpu.total", "cpu.core{core=0}", "load.1", "mem.used_pct", "proc.count", "fd.open"} {
		if !seen[want] {
			t.Errorf("series %s missing", want)
		}
	}
}
