package system

// The readers of the node_exporter figures (NodeStats): the same kept-open
// /proc files and pure parsers as the rest of the tick.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/dashd/dashd/internal/procfile"
)

// maxNetClass bounds the interfaces read from /sys/class/net: a container
// host may have thousands of veth links, and each costs eight small reads.
const maxNetClass = 512

// nodeFiles are the per-tick /proc files of the node figures, kept open
// like tickFiles.
type nodeFiles struct {
	vmstat, psiCPU, psiIO, psiMemory *procfile.File
	sockstat, sockstat6              *procfile.File
	snmp, netstat, snmp6             *procfile.File
	conntrackCount, conntrackMax     *procfile.File
}

// all lists the files, for close.
func (n *nodeFiles) all() []*procfile.File {
	return []*procfile.File{n.vmstat, n.psiCPU, n.psiIO, n.psiMemory, n.sockstat, n.sockstat6,
		n.snmp, n.netstat, n.snmp6, n.conntrackCount, n.conntrackMax}
}

// nodeNames are the name interners of the node figures (see interner).
type nodeNames struct {
	meminfo, vmstat, sockstat, netstat interner
}

// absent reports whether err means the file is not there on this kernel
// (no PSI, no nf_conntrack, IPv6 disabled) or is switched off (psi=0
// answers EOPNOTSUPP): node_exporter leaves those families out, and so
// does dashd, without counting a failed part.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.EOPNOTSUPP)
}

// readOptional reads f and reports ok false, without an error, when the
// file is absent.
func readOptional(f *procfile.File) (b []byte, ok bool, err error) {
	b, err = f.Read()
	if err != nil {
		if absent(err) {
			return nil, false, nil
		}
		return nil, false, err
	}
	return b, true, nil
}

// readVMStat reads the default node_exporter fields of /proc/vmstat on the
// slow cadence: the kernel sums every per-CPU counter on each read and
// the file takes two page-sized reads (about 45 us a tick, measured),
// while its counters feed rate() over minutes. Between refreshes every
// Snapshot shares the latest list.
func (s *Sampler) readVMStat(_ context.Context, snap *Snapshot, tk tick) error {
	if !tk.slow && s.vmstat != nil {
		snap.Node.VMStat = s.vmstat
		return nil
	}
	b, ok, err := readOptional(s.nfiles.vmstat)
	if !ok {
		return err
	}
	vs, err := parseVMStat(b, make([]NamedValue, 0, 16), &s.nnames.vmstat)
	if err != nil {
		return err
	}
	s.vmstat = vs
	snap.Node.VMStat = vs
	return nil
}

// readPressure reads /proc/pressure/{cpu,io,memory} on the slow cadence
// (see the package documentation, "Node figures").
func (s *Sampler) readPressure(_ context.Context, snap *Snapshot, tk tick) error {
	if !tk.slow {
		snap.Node.Pressure = s.slowNode.Pressure
		return nil
	}
	s.slowNode.Pressure = nil
	var p Pressure
	var errs []error
	for _, f := range [...]struct {
		file       *procfile.File
		some, full *float64
		has        *bool
	}{
		{s.nfiles.psiCPU, &p.CPUWaiting, nil, &p.HasCPU},
		{s.nfiles.psiIO, &p.IOWaiting, &p.IOStalled, &p.HasIO},
		{s.nfiles.psiMemory, &p.MemoryWaiting, &p.MemoryStalled, &p.HasMemory},
	} {
		b, ok, err := readOptional(f.file)
		if !ok {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		some, full, _, err := parsePressureTotals(b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		*f.some, *f.has = some, true
		if f.full != nil {
			*f.full = full
		}
	}
	if p.HasCPU || p.HasIO || p.HasMemory {
		snap.Node.Pressure = &p
		s.slowNode.Pressure = &p
	}
	return errors.Join(errs...)
}

// readSockstat reads /proc/net/sockstat and sockstat6 on the slow cadence.
func (s *Sampler) readSockstat(_ context.Context, snap *Snapshot, tk tick) error {
	if !tk.slow {
		snap.Node.Sockstat = s.slowNode.Sockstat
		return nil
	}
	s.slowNode.Sockstat = nil
	vs := make([]NamedValue, 0, 32)
	for _, f := range [...]*procfile.File{s.nfiles.sockstat, s.nfiles.sockstat6} {
		b, ok, err := readOptional(f)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if vs, err = parseSockstat(b, vs, &s.nnames.sockstat, s.pageSize); err != nil {
			return err
		}
	}
	if len(vs) > 0 {
		snap.Node.Sockstat = vs
		s.slowNode.Sockstat = vs
	}
	return nil
}

// readNetstat reads /proc/net/snmp, netstat and snmp6 on the slow cadence
// (about 75 us together per read, measured: the kernel sums per-CPU MIB
// counters for every field), keeping node_exporter's default fields.
func (s *Sampler) readNetstat(_ context.Context, snap *Snapshot, tk tick) error {
	if !tk.slow {
		snap.Node.Netstat = s.slowNode.Netstat
		return nil
	}
	s.slowNode.Netstat = nil
	vs := make([]NamedValue, 0, 48)
	for i, f := range [...]*procfile.File{s.nfiles.snmp, s.nfiles.netstat, s.nfiles.snmp6} {
		b, ok, err := readOptional(f)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if i == 2 {
			vs, err = parseSNMP6(b, vs, &s.nnames.netstat)
		} else {
			vs, err = parseNetstat(b, vs, &s.nnames.netstat)
		}
		if err != nil {
			return err
		}
	}
	if len(vs) > 0 {
		snap.Node.Netstat = vs
		s.slowNode.Netstat = vs
	}
	return nil
}

// readConntrack reads nf_conntrack_count and nf_conntrack_max on the slow
// cadence.
func (s *Sampler) readConntrack(_ context.Context, snap *Snapshot, tk tick) error {
	if !tk.slow {
		snap.Node.Conntrack = s.slowNode.Conntrack
		return nil
	}
	s.slowNode.Conntrack = nil
	b, ok, err := readOptional(s.nfiles.conntrackCount)
	if !ok {
		return err
	}
	count, err := parseSingleUint(b)
	if err != nil {
		return fmt.Errorf("nf_conntrack_count: %w", err)
	}
	var limit uint64
	if b, ok, err := readOptional(s.nfiles.conntrackMax); err != nil {
		return err
	} else if ok {
		if limit, err = parseSingleUint(b); err != nil {
			return fmt.Errorf("nf_conntrack_max: %w", err)
		}
	}
	snap.Node.Conntrack = &Conntrack{Entries: count, Limit: limit}
	s.slowNode.Conntrack = snap.Node.Conntrack
	return nil
}

// parseSingleUint parses a file holding one number and a newline.
func parseSingleUint(b []byte) (uint64, error) {
	v, ok := procfile.ParseUint(bytes.TrimSpace(b))
	if !ok {
		return 0, fmt.Errorf("bad number %q", b)
	}
	return v, nil
}

// netClassFullEvery is how many slow-cadence refreshes of /sys/class/net
// read only operstate and carrier before one reads every attribute again:
// address, broadcast, duplex, ifalias, mtu and speed change rarely, and
// reading them costs a sysfs open, read and close each (about 400 us for
// four interfaces, measured), so they are re-read every minute at the
// defaults, and at once when the interface list changes.
const netClassFullEvery = 12

// readNetClass re-reads /sys/class/net on the slow cadence (operstate and
// carrier; everything every netClassFullEvery refreshes); between
// refreshes every Snapshot shares the latest list.
func (s *Sampler) readNetClass(_ context.Context, snap *Snapshot, tk tick) error {
	if !tk.slow && s.netClass != nil {
		snap.Node.NetClass = s.netClass
		return nil
	}
	dir := s.hostPath("HOST_SYS", "/sys", "class", "net")
	entries, err := os.ReadDir(dir)
	if err != nil {
		if absent(err) {
			s.netClass = []NetClass{}
			return nil
		}
		return fmt.Errorf("list interfaces: %w", err)
	}
	if len(entries) > maxNetClass {
		entries = entries[:maxNetClass]
	}
	full := s.netClassGen%netClassFullEvery == 0 || len(entries) != len(s.netClass)
	s.netClassGen++
	out := make([]NetClass, 0, len(entries))
	for i, e := range entries {
		if !full && s.netClass[i].Name == e.Name() {
			nc := s.netClass[i] // the shared list is read-only: copy, then refresh the state
			nc.OperState, _ = s.readNetAttr(dir, nc.Name, "operstate")
			nc.Carrier, nc.HasCarrier = 0, false
			if v, ok := s.readNetAttr(dir, nc.Name, "carrier"); ok {
				nc.Carrier, nc.HasCarrier = procfile.ParseUint([]byte(v))
			}
			out = append(out, nc)
			continue
		}
		out = append(out, s.readOneNetClass(dir, e.Name()))
	}
	slices.SortFunc(out, func(a, b NetClass) int { return strings.Compare(a.Name, b.Name) })
	s.netClass = out
	snap.Node.NetClass = out
	return nil
}

// readNetAttr reads one /sys/class/net attribute, trimmed; false when the
// kernel refuses it (EINVAL for the speed of a down link).
func (s *Sampler) readNetAttr(dir, name, attr string) (string, bool) {
	b, err := procfile.ReadOnce(dir+"/"+name+"/"+attr, &s.buf)
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(b)), true
}

// readOneNetClass reads one interface's attributes; an attribute the
// kernel refuses (EINVAL for the speed of a down link) stays unset.
func (s *Sampler) readOneNetClass(dir, name string) NetClass {
	nc := NetClass{Name: name}
	read := func(attr string) (string, bool) { return s.readNetAttr(dir, name, attr) }
	nc.OperState, _ = read("operstate")
	nc.Address, _ = read("address")
	nc.Broadcast, _ = read("broadcast")
	nc.Duplex, _ = read("duplex")
	nc.IfAlias, _ = read("ifalias")
	if v, ok := read("carrier"); ok {
		if n, ok := procfile.ParseUint([]byte(v)); ok {
			nc.Carrier, nc.HasCarrier = n, true
		}
	}
	if v, ok := read("mtu"); ok {
		if n, ok := parseSigned([]byte(v)); ok {
			nc.MTU, nc.HasMTU = int64(n), true
		}
	}
	if v, ok := read("speed"); ok {
		if n, ok := parseSigned([]byte(v)); ok {
			nc.SpeedMbps, nc.HasSpeed = int64(n), true
		}
	}
	return nc
}

// Constants of adjtimex(2) node_exporter converts with.
const (
	timexStaNano   = 0x2000 // STA_NANO: offset and jitter in nanoseconds
	timexTimeError = 5      // TIME_ERROR: the clock is not synchronised
	timexPPM16     = 65536 * 1e6
)

// readTimex asks adjtimex(2) (a read-only query: modes 0) for the clock
// discipline, converted the way node_exporter's timex collector does.
func (s *Sampler) readTimex(_ context.Context, snap *Snapshot, _ tick) error {
	var tx unix.Timex
	state, err := unix.Adjtimex(&tx)
	if err != nil {
		return fmt.Errorf("adjtimex: %w", err)
	}
	snap.Node.Timex = timexFrom(&tx, state)
	return nil
}

// timexFrom converts adjtimex(2)'s answer to node_exporter's units.
func timexFrom(tx *unix.Timex, state int) *Timex {
	div := 1e6
	if tx.Status&timexStaNano != 0 {
		div = 1e9
	}
	sync := 1.0
	if state == timexTimeError {
		sync = 0
	}
	return &Timex{
		OffsetSeconds:         float64(tx.Offset) / div,
		FrequencyRatio:        1 + float64(tx.Freq)/timexPPM16,
		MaxErrorSeconds:       float64(tx.Maxerror) / 1e6,
		EstimatedErrorSeconds: float64(tx.Esterror) / 1e6,
		Status:                float64(tx.Status),
		LoopTimeConstant:      float64(tx.Constant),
		TickSeconds:           float64(tx.Tick) / 1e6,
		PPSFrequencyHertz:     float64(tx.Ppsfreq) / timexPPM16,
		PPSJitterSeconds:      float64(tx.Jitter) / div,
		PPSShiftSeconds:       float64(tx.Shift),
		PPSStabilityHertz:     float64(tx.Stabil) / timexPPM16,
		PPSJitterTotal:        float64(tx.Jitcnt),
		PPSCalibrationTotal:   float64(tx.Calcnt),
		PPSErrorTotal:         float64(tx.Errcnt),
		PPSStabilityExceeded:  float64(tx.Stbcnt),
		TAIOffsetSeconds:      float64(tx.Tai),
		SyncStatus:            sync,
	}
}

// readUname asks uname(2) (on the slow cadence: a renamed host shows
// within ProcessInterval, as node_exporter shows it at the next scrape).
func readUname() (*Uname, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, fmt.Errorf("uname: %w", err)
	}
	return &Uname{
		Sysname: unix.ByteSliceToString(u.Sysname[:]), Release: unix.ByteSliceToString(u.Release[:]),
		Version: unix.ByteSliceToString(u.Version[:]), Machine: unix.ByteSliceToString(u.Machine[:]),
		Nodename: unix.ByteSliceToString(u.Nodename[:]), Domainname: unix.ByteSliceToString(u.Domainname[:]),
	}, nil
}

// readOSRelease reads /etc/os-release, else /usr/lib/os-release (under
// HOST_ETC and HOST_ROOT), once at start: node_os_info. nil when neither
// can be read.
func (s *Sampler) readOSRelease() map[string]string {
	for _, p := range []string{
		s.hostPath("HOST_ETC", "/etc", "os-release"),
		s.hostPath("HOST_ROOT", "/", "usr", "lib", "os-release"),
	} {
		b, err := os.ReadFile(p)
		if err == nil {
			return parseOSRelease(b)
		}
		if !absent(err) {
			s.log.Warn("system os-release", "path", p, "err", err)
		}
	}
	return nil
}
