package system

// Pure derivation: everything here turns two readings into rates and
// percentages without touching the OS, so it is table-tested on its own.
//
// The one rule for counters: a counter that went backwards was reset (device
// re-created, driver reloaded, CPU hot-plugged) or wrapped (32-bit counters on
// 32-bit kernels). Both look the same from outside, so the item gets no rate
// for that tick and the new reading becomes the baseline. That trades one
// missing point for never drawing a negative or 2^64-sized spike.

import (
	"time"
)

// counterDelta returns cur-prev, or false when the counter went backwards.
func counterDelta(prev, cur uint64) (uint64, bool) {
	if cur < prev {
		return 0, false
	}
	return cur - prev, true
}

// perSecond turns a counter delta over dt into a rate.
func perSecond(delta uint64, dt time.Duration) float64 {
	return float64(delta) / dt.Seconds()
}

// total is the sum of the modes that partition a CPU's time. Guest time is
// already included in User and Nice by the kernel, so it is left out.
func (t CPUTimes) total() float64 {
	return t.User + t.Nice + t.System + t.Idle + t.IOWait + t.IRQ + t.SoftIRQ + t.Steal
}

// cpuPercent derives the mode percentages between two readings of one CPU.
//
// It reports false when the CPU's total went backwards (reset, hot-plug) or did
// not move (two reads within one clock tick). A single mode going backwards
// while the total grows is a known kernel quirk (iowait on NOHZ kernels, see
// proc(5)): that mode counts as zero for the interval instead of voiding it.
func cpuPercent(prev, cur CPUTimes) (CPUPercent, bool) {
	if cur.total() < prev.total() {
		return CPUPercent{}, false
	}
	d := func(a, b float64) float64 {
		if b < a {
			return 0
		}
		return b - a
	}
	p := CPUPercent{
		Core:    cur.Core,
		User:    d(prev.User, cur.User),
		Nice:    d(prev.Nice, cur.Nice),
		System:  d(prev.System, cur.System),
		IOWait:  d(prev.IOWait, cur.IOWait),
		IRQ:     d(prev.IRQ, cur.IRQ),
		SoftIRQ: d(prev.SoftIRQ, cur.SoftIRQ),
		Steal:   d(prev.Steal, cur.Steal),
		Idle:    d(prev.Idle, cur.Idle),
	}
	sum := p.User + p.Nice + p.System + p.IOWait + p.IRQ + p.SoftIRQ + p.Steal + p.Idle
	if sum <= 0 {
		return CPUPercent{}, false
	}
	// Clamped: a mode that had the whole interval comes out as
	// 100.00000000000001 after the division.
	scale := 100 / sum
	p.User = clampPct(p.User * scale)
	p.Nice = clampPct(p.Nice * scale)
	p.System = clampPct(p.System * scale)
	p.IOWait = clampPct(p.IOWait * scale)
	p.IRQ = clampPct(p.IRQ * scale)
	p.SoftIRQ = clampPct(p.SoftIRQ * scale)
	p.Steal = clampPct(p.Steal * scale)
	p.Idle = clampPct(p.Idle * scale)
	p.Busy = clampPct(100 - p.Idle - p.IOWait)
	return p, true
}

// sumCPUTimes adds per-core readings into the machine total (Core -1). The
// total comes from the cores rather than /proc/stat's first line so one read of
// the file serves both.
func sumCPUTimes(cores []CPUTimes) CPUTimes {
	t := CPUTimes{Core: -1}
	for _, c := range cores {
		t.User += c.User
		t.Nice += c.Nice
		t.System += c.System
		t.Idle += c.Idle
		t.IOWait += c.IOWait
		t.IRQ += c.IRQ
		t.SoftIRQ += c.SoftIRQ
		t.Steal += c.Steal
		t.Guest += c.Guest
		t.GuestNice += c.GuestNice
	}
	return t
}

// diskRate derives a disk's rates between two readings; nil when dt is not
// positive or any counter went backwards.
func diskRate(prev, cur Disk, dt time.Duration) *DiskRate {
	if dt <= 0 {
		return nil
	}
	rb, ok1 := counterDelta(prev.ReadBytes, cur.ReadBytes)
	wb, ok2 := counterDelta(prev.WrittenBytes, cur.WrittenBytes)
	r, ok3 := counterDelta(prev.Reads, cur.Reads)
	w, ok4 := counterDelta(prev.Writes, cur.Writes)
	io, ok5 := counterDelta(prev.IOTimeMs, cur.IOTimeMs)
	rt, ok6 := counterDelta(prev.ReadTimeMs, cur.ReadTimeMs)
	wt, ok7 := counterDelta(prev.WriteTimeMs, cur.WriteTimeMs)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !ok6 || !ok7 {
		return nil
	}
	return &DiskRate{
		ReadBytesPerSec:  perSecond(rb, dt),
		WriteBytesPerSec: perSecond(wb, dt),
		ReadsPerSec:      perSecond(r, dt),
		WritesPerSec:     perSecond(w, dt),
		UtilPercent:      clampPct(float64(io) / float64(dt.Milliseconds()) * 100),
		ReadAwaitMs:      await(rt, r),
		WriteAwaitMs:     await(wt, w),
	}
}

// await is the mean milliseconds per completed request: the time all
// requests took over how many completed (0 when none did).
func await(ms, n uint64) float64 {
	if n == 0 {
		return 0
	}
	return float64(ms) / float64(n)
}

// netRate derives an interface's rates between two readings; nil when dt is not
// positive or any counter went backwards.
func netRate(prev, cur NetInterface, dt time.Duration) *NetRate {
	if dt <= 0 {
		return nil
	}
	var d [8]uint64
	pairs := [8][2]uint64{
		{prev.RxBytes, cur.RxBytes}, {prev.TxBytes, cur.TxBytes},
		{prev.RxPackets, cur.RxPackets}, {prev.TxPackets, cur.TxPackets},
		{prev.RxErrors, cur.RxErrors}, {prev.TxErrors, cur.TxErrors},
		{prev.RxDropped, cur.RxDropped}, {prev.TxDropped, cur.TxDropped},
	}
	for i, p := range pairs {
		v, ok := counterDelta(p[0], p[1])
		if !ok {
			return nil
		}
		d[i] = v
	}
	return &NetRate{
		RxBytesPerSec:   perSecond(d[0], dt),
		TxBytesPerSec:   perSecond(d[1], dt),
		RxPacketsPerSec: perSecond(d[2], dt),
		TxPacketsPerSec: perSecond(d[3], dt),
		RxErrorsPerSec:  perSecond(d[4], dt),
		TxErrorsPerSec:  perSecond(d[5], dt),
		RxDroppedPerSec: perSecond(d[6], dt),
		TxDroppedPerSec: perSecond(d[7], dt),
	}
}

// processCPUPercent is the CPU a process used between two readings of its
// cumulative user+system seconds, in percent of one core; false when the
// reading went backwards (the PID was reused) or dt is not positive.
func processCPUPercent(prevSec, curSec float64, dt time.Duration) (float64, bool) {
	if dt <= 0 || curSec < prevSec {
		return 0, false
	}
	return (curSec - prevSec) / dt.Seconds() * 100, true
}

// pct is part/whole in percent, 0 when whole is 0.
func pct(part, whole uint64) float64 {
	if whole == 0 {
		return 0
	}
	return float64(part) / float64(whole) * 100
}

// clampPct keeps float noise and counter quirks inside 0-100.
func clampPct(v float64) float64 {
	switch {
	case v < 0:
		return 0
	case v > 100:
		return 100
	}
	return v
}
