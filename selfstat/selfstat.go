// Package selfstat measures dashd's own footprint (CPU, RSS, goroutines, history
// size, live clients, event rate) so the dashboard can show it next to the
// host's figures. We publish these numbers, so they come from /proc/self, not
// from estimates.
package selfstat

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/dashd/dashd/internal/procfile"
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
// use: one goroutine (the sampling loop) owns it. It keeps /proc/self/stat
// and /proc/self/statm open between readings (see ProcReader); Close
// releases them.
type Meter struct {
	proc       *ProcReader // /proc/self, replaceable in tests
	src        Sources
	have       bool
	lastTime   time.Time
	lastTicks  uint64
	lastEvents uint64
}

// New returns a Meter reading /proc/self.
func New(src Sources) *Meter { return &Meter{proc: NewProcReader("/proc/self"), src: src} }

// Close closes the files the Meter keeps open. A Sample after Close opens
// them again.
func (m *Meter) Close() error { return m.proc.Close() }

// Sample reads the footprint now. The first reading has no rates.
func (m *Meter) Sample(now time.Time) (Footprint, error) {
	f := Footprint{Time: now, Goroutines: runtime.NumGoroutine()}
	u, err := m.proc.Read()
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
	// RSSBytes is the resident set: the resident pages of /proc/PID/statm
	// times the page size, the same count the kernel shows as VmRSS in
	// /proc/PID/status.
	RSSBytes uint64
}

// CPUSeconds converts CPUTicks to seconds.
func (u Usage) CPUSeconds() float64 { return float64(u.CPUTicks) / clockTicks }

// ReadProc reads a process's usage from its /proc directory ("/proc/self",
// "/proc/4242"). The load tools measure dashd from outside with it, the same
// reading the dashboard shows from inside. Each file costs an open, a read
// and a close; a caller that reads the same process again and again should
// keep a ProcReader instead.
//
// The resident set comes from statm rather than status: the same figure
// (VmRSS is that count of pages in kB), and the kernel generates statm's
// one line several times faster than status's fifty-odd.
func ReadProc(dir string) (Usage, error) {
	var buf []byte
	stat, err := procfile.ReadOnce(dir+"/stat", &buf)
	if err != nil {
		return Usage{}, fmt.Errorf("selfstat: %w", err)
	}
	var u Usage
	if u.CPUTicks, err = parseStatTicks(stat); err != nil {
		return Usage{}, err
	}
	statm, err := procfile.ReadOnce(dir+"/statm", &buf)
	if err != nil {
		return Usage{}, fmt.Errorf("selfstat: %w", err)
	}
	if u.RSSBytes, err = parseStatmRSS(statm, pageSize()); err != nil {
		return Usage{}, err
	}
	return u, nil
}

// ProcReader reads a process's usage like ReadProc, but keeps the process's
// stat and statm files open and re-reads them in place with pread (the
// kernel regenerates their content on a read at offset 0): one system call
// per file and reading instead of about seven. It is not safe for concurrent
// use. A file that fails to read is reopened once; Close releases both.
type ProcReader struct {
	stat, statm *procfile.File
	page        uint64
}

// NewProcReader returns a ProcReader for a /proc directory ("/proc/self",
// "/proc/4242"). Nothing is opened until the first Read.
func NewProcReader(dir string) *ProcReader {
	return &ProcReader{
		stat:  procfile.New(dir+"/stat", true),
		statm: procfile.New(dir+"/statm", true),
		page:  pageSize(),
	}
}

// Read returns the process's usage now.
func (r *ProcReader) Read() (Usage, error) {
	stat, err := r.stat.Read()
	if err != nil {
		return Usage{}, fmt.Errorf("selfstat: %w", err)
	}
	var u Usage
	if u.CPUTicks, err = parseStatTicks(stat); err != nil {
		return Usage{}, err
	}
	statm, err := r.statm.Read()
	if err != nil {
		return Usage{}, fmt.Errorf("selfstat: %w", err)
	}
	if u.RSSBytes, err = parseStatmRSS(statm, r.page); err != nil {
		return Usage{}, err
	}
	return u, nil
}

// Close closes the files; a later Read opens them again.
func (r *ProcReader) Close() error {
	return errors.Join(closeErr(r.stat.Close()), closeErr(r.statm.Close()))
}

// closeErr adds the package prefix to a Close error, keeping nil nil.
func closeErr(err error) error {
	if err != nil {
		return fmt.Errorf("selfstat: %w", err)
	}
	return nil
}

// pageSize is the unit of /proc/PID/statm.
func pageSize() uint64 { return uint64(os.Getpagesize()) }

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
	// After ')': state(0) ppid(1) ... utime is field 14 of the full line,
	// index 11 here; stime index 12.
	var fa [16][]byte
	fields := fa[:0]
	for f := range bytes.FieldsSeq(b[i+1:]) {
		if fields = append(fields, f); len(fields) == 13 {
			break
		}
	}
	if len(fields) < 13 {
		return 0, fmt.Errorf("selfstat: stat has %d fields after the name, want at least 13", len(fields))
	}
	u, ok1 := procfile.ParseUint(fields[11])
	s, ok2 := procfile.ParseUint(fields[12])
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("selfstat: bad utime/stime %q %q", fields[11], fields[12])
	}
	return u + s, nil
}

// parseStatmRSS returns the resident set in bytes from /proc/PID/statm
// ("size resident shared text lib data dt", in pages of page bytes). A
// process without an address space (a kernel thread) shows all zeros there,
// and has no VmRSS in status: that is an error, as it was when the figure
// came from status.
func parseStatmRSS(b []byte, page uint64) (uint64, error) {
	var fa [3][]byte
	f := fa[:0]
	for x := range bytes.FieldsSeq(b) {
		if f = append(f, x); len(f) == 2 {
			break
		}
	}
	if len(f) < 2 {
		return 0, fmt.Errorf("selfstat: malformed statm %q", bytes.TrimSpace(b))
	}
	size, ok1 := procfile.ParseUint(f[0])
	resident, ok2 := procfile.ParseUint(f[1])
	if !ok1 || !ok2 {
		return 0, fmt.Errorf("selfstat: malformed statm %q", bytes.TrimSpace(b))
	}
	if size == 0 {
		return 0, errors.New("selfstat: no address space in statm (kernel thread)")
	}
	return resident * page, nil
}
