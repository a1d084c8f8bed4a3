package view

import (
	"slices"
	"strings"

	"github.com/dashd/dashd/collectors/system"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/storage"
)

// SnapshotOf rebuilds the system.Snapshot an agent flattened into the
// sample s (system.Snapshot.Points), so a fleet host's page is built by
// the same card and header builders as the local host's. What the points
// do not carry (top processes, raw counters, filesystem types) stays
// empty; the host identity comes from the hello in info, its CPU count
// from the per-core series.
func SnapshotOf(info storage.HostInfo, s model.Sample) system.Snapshot {
	snap := system.Snapshot{Time: s.Time}
	var cpu system.CPUPercent
	haveCPU := false
	fss := map[string]*system.Filesystem{}
	disks := map[string]*system.DiskRate{}
	nets := map[string]*system.NetRate{}
	cores := 0
	for _, p := range s.Points {
		metric, label := splitSeries(p.Series)
		v := p.Value
		switch metric {
		case series.CPUTotal:
			cpu.Busy, haveCPU = v, true
		case series.CPUUser:
			cpu.User = v
		case series.CPUNice:
			cpu.Nice = v
		case series.CPUSystem:
			cpu.System = v
		case series.CPUIOWait:
			cpu.IOWait = v
		case series.CPUIRQ:
			cpu.IRQ = v
		case series.CPUSoftIRQ:
			cpu.SoftIRQ = v
		case series.CPUSteal:
			cpu.Steal = v
		case series.CPUIdle:
			cpu.Idle = v
		case series.CPUCore:
			cores++
		case series.Load1:
			snap.Load.Load1 = v
		case series.Load5:
			snap.Load.Load5 = v
		case series.Load15:
			snap.Load.Load15 = v
		case series.MemTotal:
			snap.Memory.Total = uint64(v)
		case series.MemUsed:
			snap.Memory.Used = uint64(v)
		case series.MemAvailable:
			snap.Memory.Available = uint64(v)
		case series.MemCached:
			snap.Memory.Cached = uint64(v)
		case series.MemUsedPct:
			snap.Memory.UsedPercent = v
		case series.SwapTotal:
			snap.Swap.Total = uint64(v)
		case series.SwapUsed:
			snap.Swap.Used = uint64(v)
		case series.SwapUsedPct:
			snap.Swap.UsedPercent = v
		case series.ProcCount:
			snap.Processes.Total = int(v)
		case series.ProcRunning:
			snap.Processes.Running = int(v)
		case series.ProcBlocked:
			snap.Processes.Blocked = int(v)
		case series.HostUptime:
			snap.UptimeSeconds = v
		}
		if label == "" {
			continue
		}
		fsm, dm, nm := series.FSMetrics(), series.DiskMetrics(), series.NetMetrics()
		switch {
		case slices.Contains(fsm[:], metric):
			f := fss[label]
			if f == nil {
				f = &system.Filesystem{Mount: label}
				fss[label] = f
			}
			switch metric {
			case fsm[0]:
				f.Total = uint64(v)
			case fsm[1]:
				f.Used = uint64(v)
			case fsm[2]:
				f.Avail = uint64(v)
			case fsm[3]:
				f.UsedPercent = v
			}
		case slices.Contains(dm[:], metric):
			d := disks[label]
			if d == nil {
				d = &system.DiskRate{}
				disks[label] = d
			}
			switch metric {
			case dm[0]:
				d.ReadBytesPerSec = v
			case dm[1]:
				d.WriteBytesPerSec = v
			case dm[2]:
				d.ReadsPerSec = v
			case dm[3]:
				d.WritesPerSec = v
			case dm[4]:
				d.UtilPercent = v
			}
		case slices.Contains(nm[:], metric):
			n := nets[label]
			if n == nil {
				n = &system.NetRate{}
				nets[label] = n
			}
			switch metric {
			case nm[0]:
				n.RxBytesPerSec = v
			case nm[1]:
				n.TxBytesPerSec = v
			}
		}
	}
	if haveCPU {
		cpu.Core = -1
		snap.CPU = &cpu
	}
	for _, k := range sortedKeys(fss) {
		snap.Filesystems = append(snap.Filesystems, *fss[k])
	}
	for _, k := range sortedKeys(disks) {
		snap.Disks = append(snap.Disks, system.Disk{Device: k, Rate: disks[k]})
	}
	for _, k := range sortedKeys(nets) {
		snap.Interfaces = append(snap.Interfaces, system.NetInterface{Name: k, Rate: nets[k]})
	}
	snap.Host = &system.Host{Hostname: info.Name, OS: info.OS, Kernel: info.Kernel, CPUs: cores}
	return snap
}

// splitSeries splits "fs.used_pct{mount=/}" into the metric and the value
// of its one label ("" when it has none). The label value is everything
// up to the closing brace: mount points may hold '=' and ','.
func splitSeries(name string) (metric, label string) {
	i := strings.IndexByte(name, '{')
	if i < 0 || !strings.HasSuffix(name, "}") {
		return name, ""
	}
	metric, inner := name[:i], name[i+1:len(name)-1]
	if j := strings.IndexByte(inner, '='); j >= 0 {
		return metric, inner[j+1:]
	}
	return metric, ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
