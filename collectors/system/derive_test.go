package system

import (
	"math"
	"reflect"
	"testing"
	"time"
)

func TestCounterDelta(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur uint64
		want      uint64
		ok        bool
	}{
		{"grows", 100, 250, 150, true},
		{"unchanged", 7, 7, 0, true},
		{"reset", 1000, 10, 0, false},
		{"32-bit wrap", math.MaxUint32 - 5, 20, 0, false},
		{"64-bit wrap", math.MaxUint64, 0, 0, false},
		{"from zero", 0, math.MaxUint64, math.MaxUint64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := counterDelta(tt.prev, tt.cur)
			if got != tt.want || ok != tt.ok {
				t.Errorf("counterDelta(%d, %d) = %d, %v; want %d, %v", tt.prev, tt.cur, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCPUPercent(t *testing.T) {
	base := CPUTimes{Core: 3, User: 100, Nice: 1, System: 50, Idle: 800, IOWait: 10, IRQ: 1, SoftIRQ: 2, Steal: 3}
	add := func(f func(*CPUTimes)) CPUTimes { c := base; f(&c); return c }
	tests := []struct {
		name string
		cur  CPUTimes
		want CPUPercent
		ok   bool
	}{
		{"all modes", add(func(c *CPUTimes) {
			c.User += 4
			c.Nice += 1
			c.System += 2
			c.Idle += 10
			c.IOWait += 1
			c.IRQ += 0.5
			c.SoftIRQ += 0.5
			c.Steal += 1
		}), CPUPercent{Core: 3, Busy: 45, User: 20, Nice: 5, System: 10, IOWait: 5, IRQ: 2.5, SoftIRQ: 2.5, Steal: 5, Idle: 50}, true},
		{"idle only", add(func(c *CPUTimes) { c.Idle += 1 }), CPUPercent{Core: 3, Idle: 100}, true},
		{"busy only", add(func(c *CPUTimes) { c.User += 1 }), CPUPercent{Core: 3, Busy: 100, User: 100}, true},
		{"guest is inside user, not added", add(func(c *CPUTimes) { c.User += 1; c.Guest += 1; c.Idle += 1 }),
			CPUPercent{Core: 3, Busy: 50, User: 50, Idle: 50}, true},
		{"iowait goes backwards: counts as zero", add(func(c *CPUTimes) { c.IOWait -= 2; c.User += 3; c.Idle += 3 }),
			CPUPercent{Core: 3, Busy: 50, User: 50, Idle: 50}, true},
		{"no time passed", base, CPUPercent{}, false},
		{"reset (hot-plug)", CPUTimes{Core: 3, User: 1, Idle: 2}, CPUPercent{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cpuPercent(base, tt.cur)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			nearStruct(t, "percent", got, tt.want)
		})
	}
}

func TestSumCPUTimes(t *testing.T) {
	got := sumCPUTimes([]CPUTimes{{Core: 0, User: 1, Idle: 2, Guest: 0.5}, {Core: 1, User: 3, Steal: 4}})
	want := CPUTimes{Core: -1, User: 4, Idle: 2, Steal: 4, Guest: 0.5}
	if got != want {
		t.Errorf("sum = %+v, want %+v", got, want)
	}
	if got.total() != 10 {
		t.Errorf("total = %v, want 10 (guest excluded)", got.total())
	}
}

func TestDiskRate(t *testing.T) {
	prev := Disk{Device: "sda", ReadBytes: 1000, WrittenBytes: 2000, Reads: 10, Writes: 20, IOTimeMs: 100}
	tests := []struct {
		name string
		cur  Disk
		dt   time.Duration
		want *DiskRate
	}{
		{"steady", Disk{ReadBytes: 5000, WrittenBytes: 2000, Reads: 14, Writes: 22, IOTimeMs: 600}, 2 * time.Second,
			&DiskRate{ReadBytesPerSec: 2000, ReadsPerSec: 2, WritesPerSec: 1, UtilPercent: 25}},
		{"idle", prev, time.Second, &DiskRate{}},
		{"util capped at 100", Disk{ReadBytes: 1000, WrittenBytes: 2000, Reads: 10, Writes: 20, IOTimeMs: 1300}, time.Second,
			&DiskRate{UtilPercent: 100}},
		{"one counter reset", Disk{ReadBytes: 5000, WrittenBytes: 10, Reads: 14, Writes: 22, IOTimeMs: 600}, time.Second, nil},
		{"no elapsed time", Disk{ReadBytes: 5000, WrittenBytes: 2000, Reads: 14, Writes: 22, IOTimeMs: 600}, 0, nil},
		{"clock went back", Disk{ReadBytes: 5000, WrittenBytes: 2000, Reads: 14, Writes: 22, IOTimeMs: 600}, -time.Second, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := diskRate(prev, tt.cur, tt.dt)
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("rate = %+v, want %+v", got, tt.want)
			}
			if got != nil {
				nearStruct(t, "rate", *got, *tt.want)
			}
		})
	}
}

func TestNetRate(t *testing.T) {
	prev := NetInterface{RxBytes: 1000, TxBytes: 1000, RxPackets: 10, TxPackets: 10, RxErrors: 1, TxErrors: 1, RxDropped: 1, TxDropped: 1}
	tests := []struct {
		name string
		cur  NetInterface
		dt   time.Duration
		want *NetRate
	}{
		{"traffic", NetInterface{RxBytes: 3000, TxBytes: 1500, RxPackets: 30, TxPackets: 15, RxErrors: 3, TxErrors: 1, RxDropped: 2, TxDropped: 5},
			500 * time.Millisecond,
			&NetRate{RxBytesPerSec: 4000, TxBytesPerSec: 1000, RxPacketsPerSec: 40, TxPacketsPerSec: 10, RxErrorsPerSec: 4, RxDroppedPerSec: 2, TxDroppedPerSec: 8}},
		{"32-bit rx wrap", NetInterface{RxBytes: 5, TxBytes: 1500, RxPackets: 30, TxPackets: 15, RxErrors: 3, TxErrors: 1, RxDropped: 2, TxDropped: 5},
			time.Second, nil},
		{"interface re-created", NetInterface{}, time.Second, nil},
		{"errors counter reset", NetInterface{RxBytes: 3000, TxBytes: 1500, RxPackets: 30, TxPackets: 15, RxErrors: 0, TxErrors: 1, RxDropped: 2, TxDropped: 5},
			time.Second, nil},
		{"no elapsed time", prev, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := netRate(prev, tt.cur, tt.dt)
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("rate = %+v, want %+v", got, tt.want)
			}
			if got != nil {
				nearStruct(t, "rate", *got, *tt.want)
			}
		})
	}
}

func TestProcessCPUPercent(t *testing.T) {
	tests := []struct {
		name      string
		prev, cur float64
		dt        time.Duration
		want      float64
		ok        bool
	}{
		{"half a core", 10, 12.5, 5 * time.Second, 50, true},
		{"two cores", 10, 30, 10 * time.Second, 200, true},
		{"idle", 3, 3, time.Second, 0, true},
		{"pid reused", 100, 1, time.Second, 0, false},
		{"no elapsed time", 1, 2, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := processCPUPercent(tt.prev, tt.cur, tt.dt)
			if !near(got, tt.want) || ok != tt.ok {
				t.Errorf("= %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestPctAndClamp(t *testing.T) {
	if pct(1, 0) != 0 || pct(1, 4) != 25 {
		t.Error("pct")
	}
	if clampPct(-1e-12) != 0 || clampPct(100.0000001) != 100 || clampPct(42) != 42 {
		t.Error("clampPct")
	}
}

func TestRankTop(t *testing.T) {
	all := []procSample{
		{Process{PID: 5, CPUPercent: 10, RSS: 100}, true},
		{Process{PID: 3, CPUPercent: 10, RSS: 300}, true},
		{Process{PID: 9, CPUPercent: 99, RSS: 50}, false}, // new: no CPU figure yet
		{Process{PID: 1, CPUPercent: 30, RSS: 300}, true},
	}
	pids := func(ps []Process) []int32 {
		out := []int32{}
		for _, p := range ps {
			out = append(out, p.PID)
		}
		return out
	}
	tests := []struct {
		name string
		n    int
		key  func(procSample) (float64, bool)
		want []int32
	}{
		{"cpu, ties by pid, new process skipped", 3, byCPU, []int32{1, 3, 5}},
		{"cpu, n larger than list", 10, byCPU, []int32{1, 3, 5}},
		{"memory includes new processes", 4, byMemory, []int32{1, 3, 5, 9}},
		{"memory top 1", 1, byMemory, []int32{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := pids(rankTop(all, tt.n, tt.key)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("= %v, want %v", got, tt.want)
			}
		})
	}
	if rankTop(all, 0, byCPU) != nil {
		t.Error("n=0 returned entries")
	}
}
