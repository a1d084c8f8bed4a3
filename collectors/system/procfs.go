package system

// Hot-path /proc parsers. gopsutil stays the reader for what is read once
// (host identity, top-process details) or on the slow cadence (the mount
// table); every file read per tick or per process is parsed here, from a
// buffer kept between reads (see internal/procfile), because the gopsutil calls
// cost several times more (measured, see BenchmarkSample):
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
//   - /proc/meminfo, /proc/loadavg, /proc/net/dev: gopsutil's ReadLines
//     allocates a string per line on every tick; the parsers here give the
//     same values (same fields, same arithmetic) without it.
//
// The parsers are pure and allocation-light; they work on a buffer the
// Sampler reuses between reads.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"syscall"

	"github.com/dashd/dashd/internal/procfile"
)

// maxFields is the most columns a per-tick file has per line
// (/proc/diskstats has 20 since Linux 5.5).
const maxFields = 24

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
	Kernel  KernelCounters
}

// parseStat reads the per-CPU lines ("cpuN user nice system idle iowait irq
// softirq steal guest guest_nice", in clock ticks) and the run-queue counts
// from /proc/stat. Older kernels print fewer CPU columns; missing ones are 0.
func parseStat(b []byte, ticksPerSec float64) (statCounts, error) {
	var st statCounts
	var fa [maxFields][]byte // room for every column: fields does not allocate
	fs := fa[:0]
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
			core, ok := procfile.ParseUint(fs[0][3:])
			if !ok {
				bad = fmt.Errorf("bad cpu line %q", l)
				return
			}
			var v [10]float64
			for i := 1; i < len(fs) && i <= 10; i++ {
				n, ok := procfile.ParseUint(fs[i])
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
			n, _ := procfile.ParseUint(bytes.TrimSpace(l[len("procs_running "):]))
			st.Running = int(n)
		case bytes.HasPrefix(l, []byte("procs_blocked ")):
			n, _ := procfile.ParseUint(bytes.TrimSpace(l[len("procs_blocked "):]))
			st.Blocked = int(n)
		case bytes.HasPrefix(l, []byte("ctxt ")):
			st.Kernel.ContextSwitches, _ = procfile.ParseUint(bytes.TrimSpace(l[len("ctxt "):]))
		case bytes.HasPrefix(l, []byte("processes ")):
			st.Kernel.Forks, _ = procfile.ParseUint(bytes.TrimSpace(l[len("processes "):]))
		case bytes.HasPrefix(l, []byte("intr ")):
			// Only the total: the per-interrupt columns that follow are
			// node_exporter's opt-in interrupts collector.
			total := l[len("intr "):]
			if i := bytes.IndexByte(total, ' '); i >= 0 {
				total = total[:i]
			}
			st.Kernel.Interrupts, _ = procfile.ParseUint(total)
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

// parseDiskstats reads the devices for which keep reports true from
// /proc/diskstats ("major minor name reads merged sectors ms writes merged
// sectors ms in_flight io_ms weighted_ms ..."). keep also returns the name as
// a string, so a caller that knows the name already does not allocate it
// again on every read.
func parseDiskstats(b []byte, keep func(name []byte) (string, bool)) ([]Disk, error) {
	var out []Disk
	var fa [maxFields][]byte // room for every column: fields does not allocate
	fs := fa[:0]
	var bad error
	lines(b, func(l []byte) {
		if bad != nil {
			return
		}
		fs = fields(l, fs[:0])
		if len(fs) < 14 {
			return
		}
		name, ok := keep(fs[2])
		if !ok {
			return
		}
		var v [9]uint64
		for i, col := range [9]int{3, 5, 7, 9, 12, 6, 10, 11, 13} {
			n, ok := procfile.ParseUint(fs[col])
			if !ok {
				bad = fmt.Errorf("bad diskstats line %q", l)
				return
			}
			v[i] = n
		}
		out = append(out, Disk{
			Device: name, Reads: v[0], ReadBytes: v[1] * diskstatsSector,
			Writes: v[2], WrittenBytes: v[3] * diskstatsSector, IOTimeMs: v[4],
			ReadTimeMs: v[5], WriteTimeMs: v[6], IOsInProgress: v[7], WeightedIOTimeMs: v[8],
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
	ut, ok1 := procfile.ParseUint(fs[11])
	st, ok2 := procfile.ParseUint(fs[12])
	start, ok3 := procfile.ParseUint(fs[19])
	rss, ok4 := procfile.ParseUint(fs[21])
	if !ok1 || !ok2 || !ok3 || !ok4 {
		return pidStat{}, fs, errors.New("bad number")
	}
	return pidStat{Comm: b[open+1 : end], CPUTicks: ut + st, StartTime: start, RSSPages: rss}, fs, nil
}

// meminfo is what the tick needs from /proc/meminfo, in bytes.
type meminfo struct {
	Total, Free, Available, Buffers, Cached, SwapTotal, SwapFree uint64
	// HasAvailable is false on kernels before 3.14 (no MemAvailable line).
	HasAvailable bool
}

// parseMeminfo reads /proc/meminfo ("MemTotal:       16384000 kB"). It
// gives the values gopsutil's mem.VirtualMemory gives for the same fields:
// every value times 1024, and Cached including SReclaimable (reclaimable
// slab is cache as far as memory pressure goes).
func parseMeminfo(b []byte) (meminfo, error) {
	m, _, err := parseMeminfoAll(b, nil, nil)
	return m, err
}

// parseMeminfoAll is parseMeminfo that also appends every field to all
// under node_exporter's name and value (Cached there is the file's
// Cached, without SReclaimable). in interns the names; with a nil in no
// field is appended.
func parseMeminfoAll(b []byte, all []NamedValue, in *interner) (meminfo, []NamedValue, error) {
	var m meminfo
	var sreclaimable uint64
	var bad error
	var fa [4][]byte
	lines(b, func(l []byte) {
		if bad != nil {
			return
		}
		key, rest, ok := bytes.Cut(l, []byte(":"))
		if !ok || bytes.IndexByte(rest, ':') >= 0 {
			return
		}
		var dst *uint64
		switch string(key) {
		case "MemTotal":
			dst = &m.Total
		case "MemFree":
			dst = &m.Free
		case "MemAvailable":
			dst = &m.Available
			m.HasAvailable = true
		case "Buffers":
			dst = &m.Buffers
		case "Cached":
			dst = &m.Cached
		case "SReclaimable":
			dst = &sreclaimable
		case "SwapTotal":
			dst = &m.SwapTotal
		case "SwapFree":
			dst = &m.SwapFree
		default:
			if in == nil {
				return
			}
		}
		fs := fields(rest, fa[:0])
		if len(fs) == 0 || len(fs) > 2 || (len(fs) == 2 && string(fs[1]) != "kB") {
			bad = fmt.Errorf("meminfo: bad line %q", l)
			return
		}
		n, ok := procfile.ParseUint(fs[0])
		if !ok {
			bad = fmt.Errorf("meminfo: bad line %q", l)
			return
		}
		kb := len(fs) == 2
		v := n
		if kb {
			v = n * 1024
		}
		if dst != nil {
			*dst = n * 1024
		}
		if in != nil {
			name, _ := in.name(key, func(k []byte) string { return meminfoName(k, kb) })
			all = append(all, NamedValue{Name: name, Value: float64(v)})
		}
	})
	if bad != nil {
		return meminfo{}, all[:0], bad
	}
	if m.Total == 0 {
		return meminfo{}, all[:0], errors.New("meminfo: no MemTotal")
	}
	m.Cached += sreclaimable
	return m, all, nil
}

// parseLoadavg reads the three load averages from /proc/loadavg
// ("0.50 0.75 1.00 2/345 6789").
func parseLoadavg(b []byte) (Load, error) {
	var fa [6][]byte
	fs := fields(bytes.TrimSpace(b), fa[:0])
	if len(fs) < 3 {
		return Load{}, fmt.Errorf("loadavg: %d fields, want at least 3", len(fs))
	}
	var v [3]float64
	for i := range v {
		f, err := strconv.ParseFloat(string(fs[i]), 64)
		if err != nil {
			return Load{}, fmt.Errorf("loadavg: %w", err)
		}
		v[i] = f
	}
	return Load{Load1: v[0], Load5: v[1], Load15: v[2]}, nil
}

// parseNetDev reads the per-interface counters of /proc/net/dev (two header
// lines, then "  name: rx_bytes rx_packets rx_errs rx_drop rx_fifo rx_frame
// rx_compressed rx_multicast tx_bytes tx_packets tx_errs tx_drop tx_fifo ...")
// into dst, which it returns extended. name turns an interface name into a
// string (the caller interns them) and reports whether to keep it. The name
// is what precedes the last ':' on the line, as gopsutil reads it.
func parseNetDev(b []byte, dst []NetInterface, name func([]byte) (string, bool)) ([]NetInterface, error) {
	var fa [maxFields][]byte // room for every column: fields does not allocate
	fs := fa[:0]
	var bad error
	line := 0
	lines(b, func(l []byte) {
		line++
		if bad != nil || line <= 2 {
			return
		}
		i := bytes.LastIndexByte(l, ':')
		if i < 0 {
			return
		}
		raw := bytes.TrimSpace(l[:i])
		if len(raw) == 0 {
			return
		}
		fs = fields(l[i+1:], fs[:0])
		if len(fs) < 13 {
			bad = fmt.Errorf("net/dev: short line %q", l)
			return
		}
		var v [13]uint64
		for _, col := range [...]int{0, 1, 2, 3, 4, 8, 9, 10, 11, 12} {
			n, ok := procfile.ParseUint(fs[col])
			if !ok {
				bad = fmt.Errorf("net/dev: bad line %q", l)
				return
			}
			v[col] = n
		}
		n, keep := name(raw)
		if !keep {
			return
		}
		dst = append(dst, NetInterface{
			Name: n, RxBytes: v[0], RxPackets: v[1], RxErrors: v[2], RxDropped: v[3],
			TxBytes: v[8], TxPackets: v[9], TxErrors: v[10], TxDropped: v[11],
		})
	})
	return dst, bad
}

// dirent64 header layout (struct linux_dirent64): d_ino u64, d_off s64,
// d_reclen u16, d_type u8, then the NUL-terminated name.
const (
	direntInoOff    = 0
	direntReclenOff = 16
	direntNameOff   = 19
)

// appendPIDs appends the numeric entries of a getdents64 buffer to pids.
func appendPIDs(b []byte, pids []int32) []int32 {
	for len(b) >= direntNameOff {
		reclen := int(binary.NativeEndian.Uint16(b[direntReclenOff:]))
		if reclen < direntNameOff || reclen > len(b) {
			break
		}
		rec := b[:reclen]
		b = b[reclen:]
		if binary.NativeEndian.Uint64(rec[direntInoOff:]) == 0 {
			continue // deleted entry
		}
		name := rec[direntNameOff:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if v, ok := procfile.ParseUint(name); ok && v > 0 && v <= 1<<31-1 {
			pids = append(pids, int32(v))
		}
	}
	return pids
}

// listPIDs appends the numeric entries of a /proc directory to pids, with a
// raw open, getdents64 and close (buf is the reused dirent buffer): no
// os.File and no string per entry.
func listPIDs(root string, buf *[]byte, pids []int32) ([]int32, error) {
	fd, err := procfile.OpenRead(root)
	if err != nil {
		return pids, fmt.Errorf("list processes: %w", err)
	}
	defer syscall.Close(fd)
	if cap(*buf) < 8192 {
		*buf = make([]byte, 8192)
	}
	b := (*buf)[:cap(*buf)]
	for {
		n, err := syscall.ReadDirent(fd, b)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return pids, fmt.Errorf("list processes: %w", err)
		}
		if n <= 0 {
			return pids, nil
		}
		pids = appendPIDs(b[:n], pids)
	}
}
