// Package selfstat measures dashd's own footprint (CPU, RSS, goroutines, history
// size, live clients, event rate) so the dashboard can show it next to the
// host's figures. We publish these numbers, so they come from /proc/self, not
// from estimates.
package selfstat

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

// clockTicks is USER_HZ, the unit of utime/stime in /proc/PID/stat. It is 100
// on every Linux architecture Go supports; the kernel keeps it fixed for ABI.
const clockTicks = 100

// Footprint is one reading of dashd's own cost.
type Footprint struct {
	Time time.Time `json:"time"`
	// CPUPercent is the share of one core used since the previous reading.
	CPUPercent   float64 `json:"cpu_percent"`
	RSSBytes     uint64  `json:"rss_bytes"`
	Goroutines   int     `json:"goroutines"`
	DBBytes      int64   `json:"db_bytes"`
	SSEClients   int     `json:"sse_clients"`
	EventsPerSec float64 `json:"events_per_sec"`
}

// Sources supplies the figures that belong to other parts.
type Sources struct {
	// DBSize returns the history file's size.
	DBSize func() (int64, error)
	// Hub returns the connected SSE clients and the events sent so far.
	Hub func() (clients int, eventsSent uint64)
}

// Meter turns successive readings into rates. It is not safe for concurrent
// use: one goroutine (the sampling loop) owns it.
type Meter struct {
	proc       string // /proc/self, replaceable in tests
	src        Sources
	have       bool
	lastTime   time.Time
	lastTicks  uint64
	lastEvents uint64
}

// New returns a Meter reading /proc/self.
func New(src Sources) *Meter { return &Meter{proc: "/proc/self", src: src} }

// Sample reads the footprint now. The first reading has no rates.
func (m *Meter) Sample(now time.Time) (Footprint, error) {
	f := Footprint{Time: now, Goroutines: runtime.NumGoroutine()}
	u, err := ReadProc(m.proc)
	if err != nil {
		return f, err
	}
	ticks := u.CPUTicks
	f.RSSBytes = u.RSSBytes
	if m.src.DBSize != nil {
		f.DBBytes, _ = m.src.DBSize()
	}
	var events uint64
	if m.src.Hub != nil {
		f.SSEClients, events = m.src.Hub()
	}
	if m.have {
		if dt := now.Sub(m.lastTime).Seconds(); dt > 0 {
			f.CPUPercent = Rate(m.lastTicks, ticks, dt) * 100 / clockTicks
			f.EventsPerSec = Rate(m.lastEvents, events, dt)
		}
	}
	m.have, m.lastTime, m.lastTicks, m.lastEvents = true, now, ticks, events
	return f, nil
}

// Usage is what the kernel says a process has used so far.
type Usage struct {
	// CPUTicks is utime+stime in USER_HZ ticks (see CPUSeconds).
	CPUTicks uint64
	// RSSBytes is the resident set (VmRSS).
	RSSBytes uint64
}

// CPUSeconds converts CPUTicks to seconds.
func (u Usage) CPUSeconds() float64 { return float64(u.CPUTicks) / clockTicks }

// ReadProc reads a process's usage from its /proc directory ("/proc/self",
// "/proc/4242"). The load tools measure dashd from outside with it, the same
// reading the dashboard shows from inside.
func ReadProc(dir string) (Usage, error) {
	var u Usage
	stat, err := os.ReadFile(dir + "/stat")
	if err != nil {
		return u, fmt.Errorf("selfstat: %w", err)
	}
	if u.CPUTicks, err = parseStatTicks(stat); err != nil {
		return u, err
	}
	status, err := os.ReadFile(dir + "/status")
	if err != nil {
		return u, fmt.Errorf("selfstat: %w", err)
	}
	if u.RSSBytes, err = parseVmRSS(status); err != nil {
		return u, err
	}
	return u, nil
}

// Rate is the per-second increase of a counter; a counter that went
// backwards (a restart of its source) gives 0, not a negative spike.
func Rate(prev, cur uint64, seconds float64) float64 {
	if cur < prev || seconds <= 0 {
		return 0
	}
	return float64(cur-prev) / seconds
}

// parseStatTicks returns utime+stime from /proc/PID/stat. The command name
// may contain spaces and parentheses, so fields are counted after the last ')'.
func parseStatTicks(b []byte) (uint64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("selfstat: malformed stat %q", b)
	}
	fields := bytes.Fields(b[i+1:])
	// After ')': state(0) ppid(1) ... utime is field 14 of the full line,
	// index 11 here; stime index 12.
	if len(fields) < 13 {
		return 0, fmt.Errorf("selfstat: stat has %d fields after the name, want at least 13", len(fields))
	}
	u, err1 := strconv.ParseUint(string(fields[11]), 10, 64)
	s, err2 := strconv.ParseUint(string(fields[12]), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("selfstat: bad utime/stime %q %q", fields[11], fields[12])
	}
	return u + s, nil
}

// parseVmRSS returns VmRSS from /proc/PID/status in bytes.
func parseVmRSS(b []byte) (uint64, error) {
	for _, line := range bytes.Split(b, []byte("\n")) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("selfstat: malformed VmRSS line %q", line)
		}
		kb, err := strconv.ParseUint(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("selfstat: malformed VmRSS line %q", line)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("selfstat: no VmRSS in status")
}
