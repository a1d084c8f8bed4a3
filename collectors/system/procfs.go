package system

// Hot-path /proc parsers. gopsutil stays the reader for everything read once or
// cheaply; these three files are read here instead because the gopsutil calls
// cost several times more per tick (measured, see BenchmarkSample):
//
//   - /proc/stat: cpu.Times plus load.Misc read it three times per tick
//     (Misc also lists /proc), and the kernel regenerates its long intr line
//     on every read. One read here serves CPU times and run-queue counts.
//   - /proc/diskstats: disk.IOCounters looks up serial number and label
//     (about six syscalls) for every device on every call.
//   - /proc/PID/stat: a process refresh through gopsutil reads stat and statm
//     per process and re-reads /proc/stat for the boot time each time; one
//     read of stat gives CPU time, RSS and start time (which also tells a
//     reused PID apart).
//
// The parsers are pure and allocation-light; they work on a buffer the
// Sampler reuses between reads.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// readInto reads a whole (small, generated) file into *buf, growing it as
// needed, and returns the filled part: no allocation once the buffer has
// grown to the file's size. The result is only valid until the next call with
// the same buffer.
//
// oneShot is for files the kernel generates in a single read (single_open:
// /proc/stat, /proc/PID/stat): there a short read is the end, as procps
// assumes, which saves the read(2) that would return EOF. Record-by-record
// files (/proc/diskstats, /proc/net/dev) can return short reads mid-file and
// are read to EOF.
func readInto(path string, buf *[]byte, oneShot bool) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := (*buf)[:0]
	if cap(b) < 4096 {
		b = make([]byte, 0, 4096)
	}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := f.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		if oneShot && len(b) < cap(b) {
			break
		}
	}
	*buf = b
	return b, nil
}

// atou parses an unsigned decimal number.
func atou(b []byte) (uint64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// fields splits b on spaces and tabs into dst (reused), without allocating
// when dst has room.
func fields(b []byte, dst [][]byte) [][]byte {
	dst = dst[:0]
	i := 0
	for i < len(b) {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
			i++
		}
		j := i
		for j < len(b) && b[j] != ' ' && b[j] != '\t' {
			j++
		}
		if j > i {
			dst = append(dst, b[i:j])
		}
		i = j
	}
	return dst
}

// lines calls fn for each line of b.
func lines(b []byte, fn func(line []byte)) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			fn(b)
			return
		}
		fn(b[:i])
		b = b[i+1:]
	}
}

// statCounts is what the tick needs from /proc/stat.
type statCounts struct {
	Cores   []CPUTimes
	Running int // procs_running (runnable tasks)
	Blocked int // procs_blocked (tasks in uninterruptible sleep)
}

// parseStat reads the per-CPU lines ("cpuN user nice system idle iowait irq
// softirq steal guest guest_nice", in clock ticks) and the run-queue counts
// from /proc/stat. Older kernels print fewer CPU columns; missing ones are 0.
func parseStat(b []byte, ticksPerSec float64) (statCounts, error) {
	var st statCounts
	var fs [][]byte
	var bad error
	lines(b, func(l []byte) {
		if bad != nil {
			return
		}
		switch {
		case len(l) > 3 && bytes.HasPrefix(l, []byte("cpu")) && l[3] >= '0' && l[3] <= '9':
			fs = fields(l, fs[:0])
			if len(fs) < 5 {
				bad = fmt.Errorf("short cpu line %q", l)
				return
			}
			core, ok := atou(fs[0][3:])
			if !ok {
				bad = fmt.Errorf("bad cpu line %q", l)
				return
			}
			var v [10]float64
			for i := 1; i < len(fs) && i <= 10; i++ {
				n, ok := atou(fs[i])
				if !ok {
					bad = fmt.Errorf("bad cpu line %q", l)
					return
				}
				v[i-1] = float64(n) / ticksPerSec
			}
			st.Cores = append(st.Cores, CPUTimes{
				Core: int(core), User: v[0], Nice: v[1], System: v[2], Idle: v[3], IOWait: v[4],
				IRQ: v[5], SoftIRQ: v[6], Steal: v[7], Guest: v[8], GuestNice: v[9],
			})
		case bytes.HasPrefix(l, []byte("procs_running ")):
			n, _ := atou(bytes.TrimSpace(l[len("procs_running "):]))
			st.Running = int(n)
		case bytes.HasPrefix(l, []byte("procs_blocked ")):
			n, _ := atou(bytes.TrimSpace(l[len("procs_blocked "):]))
			st.Blocked = int(n)
		}
	})
	if bad != nil {
		return statCounts{}, bad
	}
	if len(st.Cores) == 0 {
		return statCounts{}, errors.New("no per-cpu lines")
	}
	return st, nil
}

// diskstatsSector is the unit of /proc/diskstats' sector columns, whatever
// the device's real sector size.
const diskstatsSector = 512

// parseDiskstats reads the devices for which keep is true from
// /proc/diskstats ("major minor name reads merged sectors ms writes merged
// sectors ms in_flight io_ms weighted_ms ...").
func parseDiskstats(b []byte, keep func(name string) bool) ([]Disk, error) {
	var out []Disk
	var fs [][]byte
	var bad error
	lines(b, func(l []byte) {
		if bad != nil {
			return
		}
		fs = fields(l, fs[:0])
		if len(fs) < 14 || !keep(string(fs[2])) {
			return
		}
		var v [5]uint64
		for i, col := range [5]int{3, 5, 7, 9, 12} {
			n, ok := atou(fs[col])
			if !ok {
				bad = fmt.Errorf("bad diskstats line %q", l)
				return
			}
			v[i] = n
		}
		out = append(out, Disk{
			Device: string(fs[2]), Reads: v[0], ReadBytes: v[1] * diskstatsSector,
			Writes: v[2], WrittenBytes: v[3] * diskstatsSector, IOTimeMs: v[4],
		})
	})
	return out, bad
}

// pidStat is what a process refresh needs from /proc/PID/stat.
type pidStat struct {
	Comm      []byte // aliases the input: copy to keep
	CPUTicks  uint64 // utime + stime
	StartTime uint64 // clock ticks after boot: with the PID, identifies a process
	RSSPages  uint64
}

// parsePidStat reads /proc/PID/stat. The command name sits in parentheses and
// may itself contain spaces and parentheses, so the fields are counted from
// the last ')'.
func parsePidStat(b []byte, fs [][]byte) (pidStat, [][]byte, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open {
		return pidStat{}, fs, errors.New("no command name")
	}
	fs = fields(bytes.TrimSpace(b[end+1:]), fs[:0])
	// fs[0] is field 3 (state); utime is field 14, stime 15, starttime 22, rss 24.
	if len(fs) < 22 {
		return pidStat{}, fs, fmt.Errorf("%d fields after the name", len(fs))
	}
	ut, ok1 := atou(fs[11])
	st, ok2 := atou(fs[12])
	start, ok3 := atou(fs[19])
	rss, ok4 := atou(fs[21])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return pidStat{}, fs, errors.New("bad number")
	}
	return pidStat{Comm: b[open+1 : end], CPUTicks: ut + st, StartTime: start, RSSPages: rss}, fs, nil
}
