package system

// The I/O side: one reader per part, each a thin layer over one /proc file
// kept open between ticks (or gopsutil, for what is read once or on the slow
// cadence) that hands counters to the pure functions in derive.go.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/shirou/gopsutil/v3/cpu"
	"github.com/shirou/gopsutil/v3/disk"
	"github.com/shirou/gopsutil/v3/host"
	"github.com/shirou/gopsutil/v3/mem"
)

// readHost reads the identity once (host.Info costs milliseconds: never per
// tick). What cannot be read stays empty and is logged; it never stops sampling.
func (s *Sampler) readHost(ctx context.Context) *Host {
	h := &Host{}
	info, err := host.InfoWithContext(ctx)
	if info != nil {
		h.Hostname = info.Hostname
		h.OS = info.OS
		h.Platform = info.Platform
		h.PlatformFamily = info.PlatformFamily
		h.PlatformVersion = info.PlatformVersion
		h.Kernel = info.KernelVersion
		h.Arch = info.KernelArch
		h.Virtualization = info.VirtualizationSystem
		h.VirtualizationRole = info.VirtualizationRole
		if info.BootTime > 0 {
			h.BootTime = time.Unix(int64(info.BootTime), 0).UTC()
		}
	}
	if err != nil {
		// host.Info returns nothing at all when any one lookup fails.
		s.log.Warn("system host identity incomplete", "err", err)
	}
	if h.Hostname == "" {
		h.Hostname, _ = os.Hostname()
	}
	if h.OS == "" {
		h.OS = runtime.GOOS
	}
	if n, err := cpu.CountsWithContext(ctx, true); err == nil {
		h.CPUs = n
	} else {
		s.log.Warn("system cpu count", "err", err)
	}
	if ci, err := cpu.InfoWithContext(ctx); err == nil && len(ci) > 0 {
		h.CPUModel = strings.TrimSpace(ci[0].ModelName)
	} else if err != nil {
		s.log.Warn("system cpu model", "err", err)
	}
	return h
}

// readStat reads /proc/stat once per tick (see procfs.go for why not
// cpu.Times): per-core times, the machine total summed from them, and the
// run-queue counts.
func (s *Sampler) readStat(_ context.Context, snap *Snapshot, _ tick) error {
	b, err := s.files.stat.Read()
	if err != nil {
		return err
	}
	st, err := parseStat(b, cpu.ClocksPerSec)
	if err != nil {
		return fmt.Errorf("/proc/stat: %w", err)
	}
	cores := st.Cores
	snap.Node.Stat, snap.Node.HasStat = st.Kernel, true
	total := sumCPUTimes(cores)
	snap.CPUSeconds = cores
	snap.Processes.Running, snap.Processes.Blocked = st.Running, st.Blocked
	if s.prevCores != nil {
		if p, ok := cpuPercent(s.prevTotal, total); ok {
			snap.CPU = &p
		}
		pcs := make([]CPUPercent, 0, len(cores))
		for i, c := range cores {
			// Match by core number: an offline CPU drops out of /proc/stat and
			// shifts the positions of the ones after it.
			j := i
			if j >= len(s.prevCores) || s.prevCores[j].Core != c.Core {
				j = slices.IndexFunc(s.prevCores, func(p CPUTimes) bool { return p.Core == c.Core })
			}
			if j >= 0 {
				if p, ok := cpuPercent(s.prevCores[j], c); ok {
					pcs = append(pcs, p)
				}
			}
		}
		if len(pcs) > 0 {
			snap.Cores = pcs
		}
	}
	s.prevCores, s.prevTotal = cores, total
	return nil
}

// readMemory takes memory and swap both from /proc/meminfo: mem.SwapMemory
// would add a sysinfo call and a read of the much larger /proc/vmstat. On a
// kernel without MemAvailable (before 3.14) it leaves the estimate to
// gopsutil, which reads /proc/zoneinfo for it.
func (s *Sampler) readMemory(ctx context.Context, snap *Snapshot, _ tick) error {
	b, err := s.files.meminfo.Read()
	if err != nil {
		return err
	}
	v, all, err := parseMeminfoAll(b, make([]NamedValue, 0, 64), &s.nnames.meminfo)
	if err != nil {
		return err
	}
	snap.Node.Meminfo = all
	if !v.HasAvailable {
		vm, err := mem.VirtualMemoryWithContext(ctx)
		if err != nil {
			return fmt.Errorf("meminfo without MemAvailable: %w", err)
		}
		v.Available = vm.Available
	}
	used := uint64(0)
	if v.Available < v.Total {
		used = v.Total - v.Available
	}
	snap.Memory = Memory{
		Total: v.Total, Used: used, Available: v.Available, Free: v.Free,
		Buffers: v.Buffers, Cached: v.Cached, UsedPercent: pct(used, v.Total),
	}
	swapUsed := uint64(0)
	if v.SwapFree < v.SwapTotal {
		swapUsed = v.SwapTotal - v.SwapFree
	}
	snap.Swap = Swap{Total: v.SwapTotal, Used: swapUsed, Free: v.SwapFree, UsedPercent: pct(swapUsed, v.SwapTotal)}
	s.memTotal = v.Total
	return nil
}

// readLoad reads /proc/loadavg; where it cannot be read or parsed (a
// container or unit that hides it) it asks sysinfo(2), as gopsutil's
// load.Avg does.
func (s *Sampler) readLoad(_ context.Context, snap *Snapshot, _ tick) error {
	b, err := s.files.loadavg.Read()
	if err == nil {
		var l Load
		if l, err = parseLoadavg(b); err == nil {
			snap.Load = l
			return nil
		}
	}
	var info syscall.Sysinfo_t
	if serr := syscall.Sysinfo(&info); serr != nil {
		return fmt.Errorf("%w; sysinfo: %w", err, serr)
	}
	const shift = 1 << 16 // SI_LOAD_SHIFT
	snap.Load = Load{
		Load1:  float64(info.Loads[0]) / shift,
		Load5:  float64(info.Loads[1]) / shift,
		Load15: float64(info.Loads[2]) / shift,
	}
	return nil
}

// readUptime reads /proc/uptime itself: gopsutil's host.Uptime asks sysinfo(2),
// which no fixture can answer, and truncates to whole seconds.
func (s *Sampler) readUptime(_ context.Context, snap *Snapshot, _ tick) error {
	b, err := s.files.uptime.Read()
	if err != nil {
		return err
	}
	v, err := parseUptime(b)
	if err != nil {
		return err
	}
	snap.UptimeSeconds = v
	return nil
}

func (s *Sampler) readFileNr(_ context.Context, snap *Snapshot, _ tick) error {
	b, err := s.files.fileNr.Read()
	if err != nil {
		return err
	}
	fd, err := parseFileNr(b)
	if err != nil {
		return err
	}
	snap.FileDescriptors = fd
	return nil
}

// readFilesystems statfs()es the selected mounts every tick; the mount table
// itself is re-read on the slow cadence. It lists every mount (all=true:
// gopsutil's own filter drops every "nodev" type, NFS and overlay included)
// and applies ours.
func (s *Sampler) readFilesystems(ctx context.Context, snap *Snapshot, tk tick) error {
	if tk.slow || s.mounts == nil {
		parts, err := disk.PartitionsWithContext(ctx, true)
		if err != nil {
			return err
		}
		all := make([]mount, len(parts))
		for i, p := range parts {
			all[i] = mount{Device: p.Device, Mount: p.Mountpoint, FSType: p.Fstype, Bind: slices.Contains(p.Opts, "bind"), ReadOnly: slices.Contains(p.Opts, "ro")}
		}
		s.mounts = selectMounts(all, s.mntF, s.typeF)
	}
	var errs []error
	fss := make([]Filesystem, 0, len(s.mounts))
	for _, m := range s.mounts {
		u, err := s.fsUsage(ctx, m)
		if err != nil {
			errs = append(errs, err)
			snap.FilesystemErrors = append(snap.FilesystemErrors, Filesystem{
				Mount: m.Mount, Device: m.Device, FSType: m.FSType, ReadOnly: m.ReadOnly,
			})
			continue
		}
		fss = append(fss, Filesystem{
			Mount: m.Mount, Device: m.Device, FSType: m.FSType,
			Total: u.Total, Used: u.Used, Avail: u.Free, UsedPercent: u.UsedPercent,
			InodesTotal: u.InodesTotal, InodesFree: u.InodesFree, ReadOnly: m.ReadOnly,
		})
	}
	snap.Filesystems = fss
	return errors.Join(errs...)
}

// readDisks reads whole disks only: the devices listed in /sys/block
// (partitions live below them, so they are not listed), filtered by name.
// The list is re-read on the slow cadence, /proc/diskstats every tick.
func (s *Sampler) readDisks(_ context.Context, snap *Snapshot, tk tick) error {
	if tk.slow || s.wholeDisks == nil {
		entries, err := os.ReadDir(s.hostPath("HOST_SYS", "/sys", "block"))
		if err != nil {
			return fmt.Errorf("list block devices: %w", err)
		}
		s.wholeDisks = make(map[string]string, len(entries))
		for _, e := range entries {
			if s.diskF.keep(e.Name()) {
				s.wholeDisks[e.Name()] = e.Name()
			}
		}
	}
	b, err := s.files.diskstats.Read()
	if err != nil {
		return err
	}
	disks, err := parseDiskstats(b, func(name []byte) (string, bool) {
		n, ok := s.wholeDisks[string(name)]
		return n, ok
	})
	if err != nil {
		return err
	}
	slices.SortFunc(disks, func(a, b Disk) int { return strings.Compare(a.Device, b.Device) })
	for i := range disks {
		if p, ok := s.prevDisks[disks[i].Device]; ok {
			disks[i].Rate = diskRate(p, disks[i], tk.dt)
		}
	}
	clear(s.prevDisks) // devices that vanished must not leave stale baselines
	for _, d := range disks {
		s.prevDisks[d.Device] = d
	}
	if disks == nil {
		disks = []Disk{}
	}
	snap.Disks = disks
	return nil
}

// readNetwork reads /proc/net/dev and keeps the interfaces that pass the
// filter.
func (s *Sampler) readNetwork(_ context.Context, snap *Snapshot, tk tick) error {
	b, err := s.files.netDev.Read()
	if err != nil {
		return err
	}
	if s.ifNames == nil || (tk.slow && len(s.ifNames) > 4*len(s.prevNets)+64) {
		// Container hosts create and drop veth interfaces all day: forget
		// the names now and then rather than keep every one ever seen.
		s.ifNames = map[string]ifName{}
	}
	nets, err := parseNetDev(b, make([]NetInterface, 0, len(s.prevNets)), s.ifName)
	if err != nil {
		return err
	}
	slices.SortFunc(nets, func(a, b NetInterface) int { return strings.Compare(a.Name, b.Name) })
	for i := range nets {
		if p, ok := s.prevNets[nets[i].Name]; ok {
			nets[i].Rate = netRate(p, nets[i], tk.dt)
		}
	}
	clear(s.prevNets)
	for _, n := range nets {
		s.prevNets[n.Name] = n
	}
	snap.Interfaces = nets
	return nil
}

// ifName is an interface name seen before and whether the filter keeps it.
type ifName struct {
	name string
	keep bool
}

// ifName interns an interface name and applies the filter once per name.
func (s *Sampler) ifName(b []byte) (string, bool) {
	if n, ok := s.ifNames[string(b)]; ok {
		return n.name, n.keep
	}
	n := ifName{name: string(b)}
	n.keep = s.netF.keep(n.name)
	s.ifNames[n.name] = n
	return n.name, n.keep
}
