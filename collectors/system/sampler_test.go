package system

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/shirou/gopsutil/v3/disk"
	"go.uber.org/goleak"
)

// fixtureHost is a copy of a fixture tree (testdata/tick1, testdata/tick2)
// that the test rewrites in place between ticks, so the real code reads two
// consecutive states of a made-up machine. In place, because the Sampler
// keeps its per-tick files open and re-reads them, as it does /proc.
type fixtureHost struct {
	t    *testing.T
	root string
}

func newFixtureHost(t *testing.T, tick string) *fixtureHost {
	t.Helper()
	f := &fixtureHost{t: t, root: t.TempDir()}
	f.use(tick)
	return f
}

// use rewrites the host's files with those of testdata/<tick>.
func (f *fixtureHost) use(tick string) {
	f.t.Helper()
	src := filepath.Join("testdata", tick)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(f.root, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644) // truncates: same inode, new content
	})
	if err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixtureHost) env() map[string]string {
	return map[string]string{
		"HOST_PROC": filepath.Join(f.root, "proc"),
		"HOST_SYS":  filepath.Join(f.root, "sys"),
		"HOST_ETC":  filepath.Join(f.root, "etc"),
		"HOST_DEV":  filepath.Join(f.root, "dev"),
		"HOST_RUN":  filepath.Join(f.root, "run"),
		"HOST_VAR":  filepath.Join(f.root, "var"),
	}
}

// fakeClock returns start, then start+step, start+2*step...
func fakeClock(start time.Time, step time.Duration) func() time.Time {
	n := 0
	return func() time.Time {
		t := start.Add(time.Duration(n) * step)
		n++
		return t
	}
}

// fixtureUsage answers statfs for the fixture's mount points, which do not
// exist on the test machine.
var fixtureUsage = map[string]disk.UsageStat{
	"/":            {Total: 100 << 30, Used: 40 << 30, Free: 50 << 30, UsedPercent: 40.0 / 90 * 100, InodesTotal: 1000, InodesFree: 400},
	"/home":        {Total: 500 << 30, Used: 100 << 30, Free: 400 << 30, UsedPercent: 20, InodesTotal: 2000, InodesFree: 1500},
	"/boot/efi":    {Total: 512 << 20, Used: 6 << 20, Free: 506 << 20, UsedPercent: 6.0 / 512 * 100},
	"/mnt/my disk": {Total: 10 << 30, Used: 5 << 30, Free: 5 << 30, UsedPercent: 50},
	"/mnt/nfs":     {Total: 2 << 40, Used: 3 << 39, Free: 1 << 39, UsedPercent: 75},
}

// newFixtureSampler returns a Sampler reading f; the files it keeps open are
// closed when the test ends (tests that call sample rather than Run).
func newFixtureSampler(f *fixtureHost, opts Options) *Sampler {
	f.t.Helper()
	opts.Env = f.env()
	opts.Logger = slog.New(slog.DiscardHandler)
	if opts.Now == nil {
		opts.Now = fakeClock(time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC), 2*time.Second)
	}
	s := New(opts)
	s.usage = func(_ context.Context, path string) (*disk.UsageStat, error) {
		u, ok := fixtureUsage[path]
		if !ok {
			return nil, errors.New("no such fixture mount")
		}
		return &u, nil
	}
	f.t.Cleanup(func() {
		if err := s.close(); err != nil {
			f.t.Error(err)
		}
	})
	return s
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9*math.Max(1, math.Abs(b)) }

// nearStruct compares two values field by field with float tolerance, by
// rounding floats through reflection.
func nearStruct(t *testing.T, what string, got, want any) {
	t.Helper()
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Type() != w.Type() {
		t.Fatalf("%s: type %v vs %v", what, g.Type(), w.Type())
	}
	for i := 0; i < g.NumField(); i++ {
		gf, wf := g.Field(i), w.Field(i)
		name := g.Type().Field(i).Name
		switch gf.Kind() {
		case reflect.Float64:
			if !near(gf.Float(), wf.Float()) {
				t.Errorf("%s.%s = %v, want %v", what, name, gf.Float(), wf.Float())
			}
		default:
			if !reflect.DeepEqual(gf.Interface(), wf.Interface()) {
				t.Errorf("%s.%s = %v, want %v", what, name, gf.Interface(), wf.Interface())
			}
		}
	}
}

func TestSampler_Fixture(t *testing.T) {
	f := newFixtureHost(t, "tick1")
	s := newFixtureSampler(f, Options{TopN: 2})
	ctx := context.Background()

	first := s.sample(ctx)
	f.use("tick2")
	snap := s.sample(ctx)

	for _, sn := range []Snapshot{first, snap} {
		if len(sn.Errors) > 0 {
			t.Fatalf("errors: %v", sn.Errors)
		}
	}

	t.Run("first tick has counters but no rates", func(t *testing.T) {
		if first.CPU != nil || first.Cores != nil {
			t.Errorf("CPU = %+v, Cores = %+v", first.CPU, first.Cores)
		}
		if len(first.CPUSeconds) != 2 {
			t.Fatalf("CPUSeconds = %+v", first.CPUSeconds)
		}
		nearStruct(t, "cpu0 seconds", first.CPUSeconds[0], CPUTimes{Core: 0, User: 10, System: 5, Idle: 80, IOWait: 1, SoftIRQ: 0.5, Steal: 0.1})
		for _, d := range first.Disks {
			if d.Rate != nil {
				t.Errorf("disk %s has a rate on the first tick", d.Device)
			}
		}
		for _, n := range first.Interfaces {
			if n.Rate != nil {
				t.Errorf("interface %s has a rate on the first tick", n.Name)
			}
		}
		if first.Top == nil || len(first.Top.ByCPU) != 0 || first.Top.Interval != 0 || len(first.Top.ByMemory) != 2 {
			t.Errorf("first top = %+v", first.Top)
		}
		if pts := first.Points(); slices.ContainsFunc(pts, func(p model.Point) bool { return p.Series == "cpu.total" }) {
			t.Error("cpu.total on the first tick")
		}
	})

	t.Run("host", func(t *testing.T) {
		h := snap.Host
		if h != first.Host {
			t.Error("host identity was read again")
		}
		// Hostname, kernel and virtualisation come from syscalls or gopsutil's
		// process-wide cache, not from the fixture.
		if h.Platform != "debian" || h.PlatformFamily != "debian" || h.PlatformVersion != "12.5" ||
			h.CPUs != 2 || h.CPUModel != "Fixture CPU @ 2.00GHz" || h.OS != "linux" {
			t.Errorf("host = %+v", h)
		}
	})

	t.Run("cpu", func(t *testing.T) {
		if snap.CPU == nil || len(snap.Cores) != 2 {
			t.Fatalf("CPU = %+v, Cores = %+v", snap.CPU, snap.Cores)
		}
		// 400 ticks in all: user 120, system 70, idle 190, iowait 5, softirq 5, steal 10.
		nearStruct(t, "cpu", *snap.CPU, CPUPercent{Core: -1, Busy: 51.25, User: 30, System: 17.5, IOWait: 1.25, SoftIRQ: 1.25, Steal: 2.5, Idle: 47.5})
		nearStruct(t, "cpu0", snap.Cores[0], CPUPercent{Core: 0, Busy: 77.5, User: 50, System: 25, IOWait: 2.5, SoftIRQ: 2.5, Idle: 20})
		nearStruct(t, "cpu1", snap.Cores[1], CPUPercent{Core: 1, Busy: 25, User: 10, System: 10, Steal: 5, Idle: 75})
		nearStruct(t, "cpu1 seconds", snap.CPUSeconds[1], CPUTimes{Core: 1, User: 20.2, Nice: 0.1, System: 7.2, Idle: 91.5, IOWait: 2, SoftIRQ: 0.3, Steal: 0.3})
	})

	t.Run("memory, load, counts", func(t *testing.T) {
		if want := (Memory{Total: 16384000 << 10, Used: 4096000 << 10, Available: 12288000 << 10, Free: 8000000 << 10,
			Buffers: 100000 << 10, Cached: 2048000 << 10, UsedPercent: 25}); snap.Memory != want {
			t.Errorf("memory = %+v, want %+v", snap.Memory, want)
		}
		if want := (Swap{Total: 2097152 << 10, Used: 524288 << 10, Free: 1572864 << 10, UsedPercent: 25}); snap.Swap != want {
			t.Errorf("swap = %+v, want %+v", snap.Swap, want)
		}
		if want := (Load{0.6, 0.8, 1.1}); snap.Load != want {
			t.Errorf("load = %+v, want %+v", snap.Load, want)
		}
		if snap.UptimeSeconds != 12347.67 {
			t.Errorf("uptime = %v", snap.UptimeSeconds)
		}
		if want := (ProcessCounts{Total: 3, Running: 2, Blocked: 0}); snap.Processes != want {
			t.Errorf("processes = %+v, want %+v", snap.Processes, want)
		}
		if want := (ProcessCounts{Total: 3, Running: 3, Blocked: 1}); first.Processes != want {
			t.Errorf("first processes = %+v, want %+v", first.Processes, want)
		}
		if want := (FileDescriptors{Open: 2112, Max: 100000}); snap.FileDescriptors != want {
			t.Errorf("fds = %+v, want %+v", snap.FileDescriptors, want)
		}
	})

	t.Run("filesystems", func(t *testing.T) {
		// Dropped: pseudo and tmpfs types, the docker overlay, the squashfs
		// snap, the bind mount /data and the second mount /home2 of sda2.
		want := []Filesystem{
			{Mount: "/", Device: "/dev/sda1", FSType: "ext4"},
			{Mount: "/boot/efi", Device: "/dev/nvme0n1p1", FSType: "vfat"},
			{Mount: "/home", Device: "/dev/sda2", FSType: "xfs"},
			{Mount: "/mnt/my disk", Device: "/dev/mapper/vg-data", FSType: "ext4"},
			{Mount: "/mnt/nfs", Device: "server:/export", FSType: "nfs4"},
		}
		for i := range want {
			u := fixtureUsage[want[i].Mount]
			want[i].Total, want[i].Used, want[i].Avail, want[i].UsedPercent = u.Total, u.Used, u.Free, u.UsedPercent
			want[i].InodesTotal, want[i].InodesFree = u.InodesTotal, u.InodesFree
		}
		if !reflect.DeepEqual(snap.Filesystems, want) {
			t.Errorf("filesystems:\n got %+v\nwant %+v", snap.Filesystems, want)
		}
	})

	t.Run("disks", func(t *testing.T) {
		// sda: exact rates; nvme0n1: counters went backwards, no rate;
		// dm-0: idle on tick 1, some reads on tick 2;
		// sda1 (partition) and loop0 (excluded) never appear.
		names := []string{}
		for _, d := range first.Disks {
			names = append(names, d.Device)
		}
		if !slices.Equal(names, []string{"dm-0", "nvme0n1", "sda"}) {
			t.Errorf("first tick disks = %v", names)
		}
		if len(snap.Disks) != 3 {
			t.Fatalf("disks = %+v", snap.Disks)
		}
		dm, nvme, sda := snap.Disks[0], snap.Disks[1], snap.Disks[2]
		if dm.Device != "dm-0" || dm.Rate == nil || dm.Reads != 20 || dm.ReadBytes != 400*512 {
			t.Fatalf("dm-0 = %+v", dm)
		}
		nearStruct(t, "dm-0 rate", *dm.Rate, DiskRate{ReadBytesPerSec: 400 * 512 / 2, ReadsPerSec: 10, UtilPercent: 0.2, ReadAwaitMs: 0.1})
		if nvme.Device != "nvme0n1" || nvme.Rate != nil || nvme.Reads != 10 {
			t.Errorf("nvme0n1 = %+v (rate %+v)", nvme, nvme.Rate)
		}
		if sda.Device != "sda" || sda.Rate == nil {
			t.Fatalf("sda = %+v", sda)
		}
		if sda.ReadBytes != 6096*512 || sda.WrittenBytes != 6048*512 || sda.Reads != 1100 || sda.Writes != 560 || sda.IOTimeMs != 800 {
			t.Errorf("sda counters = %+v", sda)
		}
		nearStruct(t, "sda rate", *sda.Rate, DiskRate{ReadBytesPerSec: 1 << 20, WriteBytesPerSec: 512 << 10, ReadsPerSec: 50, WritesPerSec: 30, UtilPercent: 25,
			ReadAwaitMs: 10.0 / 100, WriteAwaitMs: 5.0 / 60})
	})

	t.Run("network", func(t *testing.T) {
		// lo excluded; wlan0's 32-bit rx counter wrapped: no rate.
		if len(snap.Interfaces) != 2 {
			t.Fatalf("interfaces = %+v", snap.Interfaces)
		}
		eth, wlan := snap.Interfaces[0], snap.Interfaces[1]
		if want := (NetInterface{Name: "eth0", RxBytes: 3000000, TxBytes: 900000, RxPackets: 12000, TxPackets: 5000,
			RxErrors: 9, TxErrors: 1, RxDropped: 2, TxDropped: 4, Rate: eth.Rate}); eth != want {
			t.Errorf("eth0 = %+v", eth)
		}
		if eth.Rate == nil {
			t.Fatal("eth0 has no rate")
		}
		nearStruct(t, "eth0 rate", *eth.Rate, NetRate{RxBytesPerSec: 1e6, TxBytesPerSec: 2e5, RxPacketsPerSec: 1000, TxPacketsPerSec: 500,
			RxErrorsPerSec: 2, TxDroppedPerSec: 2})
		if wlan.Name != "wlan0" || wlan.Rate != nil || wlan.RxBytes != 200 {
			t.Errorf("wlan0 = %+v (rate %+v)", wlan, wlan.Rate)
		}
	})

	t.Run("top processes", func(t *testing.T) {
		top := snap.Top
		if top == nil || top.Interval != 2*time.Second {
			t.Fatalf("top = %+v", top)
		}
		memTotal := float64(16384000 << 10)
		page := uint64(os.Getpagesize())
		// worker: 150 ticks in 2 s; logger: 40 ticks; init: 2 ticks (not in top 2).
		wantCPU := []Process{
			{PID: 100, Name: "worker", User: "root", Cmdline: "/usr/bin/worker --fast", CPUPercent: 75, RSS: 50000 * page},
			{PID: 200, Name: "logger", User: "root", Cmdline: "/usr/sbin/logger", CPUPercent: 20, RSS: 2500 * page},
		}
		wantMem := []Process{wantCPU[0], wantCPU[1]}
		for _, l := range [][]Process{wantCPU, wantMem} {
			for i := range l {
				l[i].MemPercent = float64(l[i].RSS) / memTotal * 100
			}
		}
		for i, l := range [][2][]Process{{top.ByCPU, wantCPU}, {top.ByMemory, wantMem}} {
			if len(l[0]) != len(l[1]) {
				t.Fatalf("list %d = %+v", i, l[0])
			}
			for j := range l[0] {
				nearStruct(t, "top", l[0][j], l[1][j])
			}
		}
	})

	t.Run("points", func(t *testing.T) {
		got := map[string]float64{}
		for _, p := range snap.Points() {
			if _, dup := got[p.Series]; dup {
				t.Errorf("duplicate series %s", p.Series)
			}
			got[p.Series] = p.Value
		}
		want := map[string]float64{
			"cpu.total": 51.25, "cpu.user": 30, "cpu.iowait": 1.25, "cpu.steal": 2.5, "cpu.idle": 47.5,
			"cpu.core{core=0}": 77.5, "cpu.core{core=1}": 25,
			"load.1": 0.6, "load.15": 1.1,
			"mem.used_pct": 25, "mem.available": 12288000 << 10, "swap.used_pct": 25,
			"fs.used_pct{mount=/}": 40.0 / 90 * 100, "fs.avail{mount=/home}": 400 << 30,
			"disk.read_bps{device=sda}": 1 << 20, "disk.write_iops{device=sda}": 30, "disk.util_pct{device=sda}": 25,
			"net.rx_bps{iface=eth0}": 1e6, "net.tx_pps{iface=eth0}": 500, "net.rx_errors_ps{iface=eth0}": 2,
			"proc.count": 3, "proc.running": 2, "fd.open": 2112, "fd.max": 100000, "host.uptime": 12347.67,
			"sampler.errors": 0,
		}
		for k, v := range want {
			g, ok := got[k]
			if !ok {
				t.Errorf("series %s missing", k)
			} else if !near(g, v) {
				t.Errorf("%s = %v, want %v", k, g, v)
			}
		}
		for _, absent := range []string{"disk.read_bps{device=nvme0n1}", "disk.read_bps{device=sda1}", "disk.read_bps{device=loop0}", "net.rx_bps{iface=wlan0}", "net.rx_bps{iface=lo}"} {
			if _, ok := got[absent]; ok {
				t.Errorf("series %s present; its counters reset or it is excluded", absent)
			}
		}
	})
}

// TestSampler_PartFailure removes files from a fixture: the failing parts are
// reported, their points vanish, the rest of the tick stands.
func TestSampler_PartFailure(t *testing.T) {
	root := t.TempDir()
	src, _ := filepath.Abs("testdata/tick1")
	if err := os.CopyFS(root, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	// Not loadavg: gopsutil falls back to sysinfo(2) (the real host) without it.
	for _, p := range []string{"proc/meminfo", "proc/sys/fs/file-nr", "proc/diskstats"} {
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
	f := &fixtureHost{t: t, root: root}
	s := newFixtureSampler(f, Options{TopN: -1})
	snap := s.sample(context.Background())
	if len(snap.Errors) != 3 {
		t.Errorf("errors = %q, want memory, fds and disks", snap.Errors)
	}
	got := map[string]bool{}
	for _, p := range snap.Points() {
		got[p.Series] = true
	}
	for _, absent := range []string{"mem.used_pct", "swap.used_pct", "fd.open"} {
		if got[absent] {
			t.Errorf("%s present although its part failed", absent)
		}
	}
	for _, present := range []string{"load.1", "proc.count", "fs.used_pct{mount=/}", "sampler.errors"} {
		if !got[present] {
			t.Errorf("%s missing", present)
		}
	}
	if snap.Top != nil {
		t.Errorf("top with TopN -1: %+v", snap.Top)
	}
}

// TestSampler_BadPart feeds the parts bad input: a /proc/net/dev line
// without counters fails the network part with an error, a panic inside a
// part (here a statfs) fails that part with the panic text; either way the
// tick survives.
func TestSampler_BadPart(t *testing.T) {
	root := t.TempDir()
	src, _ := filepath.Abs("testdata/tick1")
	if err := os.CopyFS(root, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	bad := "Inter-|\n face |\n  eth0:\n"
	if err := os.WriteFile(filepath.Join(root, "proc/net/dev"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newFixtureSampler(&fixtureHost{t: t, root: root}, Options{TopN: -1})
	s.usage = func(context.Context, string) (*disk.UsageStat, error) {
		panic("boom")
	}
	snap := s.sample(context.Background())
	want := []string{"filesystems: panic:", "network: net/dev: short line"}
	if len(snap.Errors) != len(want) {
		t.Fatalf("errors = %q, want prefixes %q", snap.Errors, want)
	}
	for i, w := range want {
		if !strings.HasPrefix(snap.Errors[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, snap.Errors[i], w)
		}
	}
	if snap.Memory.Total == 0 || snap.Load.Load1 == 0 {
		t.Error("other parts lost")
	}
}

// TestSampler_Run checks the lifecycle: a snapshot at once, more on the
// interval, nil on cancel, no goroutine left behind.
func TestSampler_Run(t *testing.T) {
	defer goleak.VerifyNone(t)
	f := newFixtureHost(t, "tick1")
	s := newFixtureSampler(f, Options{Interval: 20 * time.Millisecond, Now: time.Now})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []Snapshot
	var again error
	err := s.Run(ctx, func(sn Snapshot) {
		got = append(got, sn)
		if len(got) == 1 {
			again = s.Run(ctx, func(Snapshot) {})
		}
		if len(got) == 3 {
			cancel()
		}
	})
	if err != nil {
		t.Fatalf("Run = %v, want nil on cancel", err)
	}
	if len(got) != 3 {
		t.Fatalf("%d snapshots", len(got))
	}
	if again == nil {
		t.Error("a second Run while the first runs succeeded")
	}
	if got[0].CPU != nil || got[2].CPU != nil {
		// The fixture does not change, so the CPU total does not move and the
		// percentages stay unknown rather than dividing by zero.
		t.Errorf("CPU = %+v / %+v", got[0].CPU, got[2].CPU)
	}
	if !got[1].Time.After(got[0].Time) {
		t.Error("times do not advance")
	}
	if err := New(Options{}).Run(ctx, nil); err == nil {
		t.Error("Run with a nil callback succeeded")
	}
}

// TestSampler_StuckNetworkMount: a statfs on an NFS mount that never answers
// costs the tick at most the timeout, is skipped while still pending, and the
// mount comes back once the call returns.
func TestSampler_StuckNetworkMount(t *testing.T) {
	f := newFixtureHost(t, "tick1")
	s := newFixtureSampler(f, Options{TopN: -1})
	s.statfsTimeout = 20 * time.Millisecond
	release := make(chan struct{})
	calls := 0
	local := s.usage
	s.usage = func(ctx context.Context, path string) (*disk.UsageStat, error) {
		if path == "/mnt/nfs" {
			calls++ // only ever one call in flight, by design
			<-release
		}
		return local(ctx, path)
	}
	ctx := context.Background()
	hasNFS := func(sn Snapshot) bool {
		return slices.ContainsFunc(sn.Filesystems, func(fs Filesystem) bool { return fs.Mount == "/mnt/nfs" })
	}

	start := time.Now()
	first := s.sample(ctx)
	if hasNFS(first) || len(first.Errors) != 1 || len(first.Filesystems) != 4 {
		t.Errorf("first tick: %d filesystems, errors %q", len(first.Filesystems), first.Errors)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("tick took %v", d)
	}
	second := s.sample(ctx)
	if hasNFS(second) || len(second.Errors) != 1 {
		t.Errorf("second tick: errors %q", second.Errors)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		sn := s.sample(ctx)
		if hasNFS(sn) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("NFS mount never came back: %q", sn.Errors)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if calls < 2 {
		t.Errorf("%d statfs calls on the NFS mount", calls)
	}
}
