package system

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/shirou/gopsutil/v3/common"
	"github.com/shirou/gopsutil/v3/load"
	"github.com/shirou/gopsutil/v3/mem"
	"github.com/shirou/gopsutil/v3/net"
)

func TestListPIDs(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"1", "42", "4194304", "self", "net", "0", "12a", "99999999999"} {
		if err := os.Mkdir(filepath.Join(dir, n), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var buf []byte
	got, err := listPIDs(dir, &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []int32{1, 42, 4194304}; !slices.Equal(got, want) {
		t.Errorf("= %v, want %v", got, want)
	}
	// Many entries: more than one getdents64 call.
	many := t.TempDir()
	for i := 1; i <= 2000; i++ {
		if err := os.Mkdir(filepath.Join(many, strconv.Itoa(i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := listPIDs(many, &buf, got[:0]); err != nil || len(got) != 2000 {
		t.Errorf("%d pids, %v", len(got), err)
	}
	if _, err := listPIDs(filepath.Join(dir, "missing"), &buf, nil); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing: %v", err)
	}
	self, err := listPIDs("/proc", &buf, nil)
	if err != nil || !slices.Contains(self, int32(os.Getpid())) {
		t.Errorf("/proc: %d pids, own PID missing: %v", len(self), err)
	}
}

// TestParsers_MatchGopsutil checks that the parsers that replaced gopsutil on
// the per-tick path give gopsutil's values for the fixture trees.
func TestParsers_MatchGopsutil(t *testing.T) {
	for _, tick := range []string{"tick1", "tick2"} {
		t.Run(tick, func(t *testing.T) {
			proc, _ := filepath.Abs(filepath.Join("testdata", tick, "proc"))
			ctx := context.WithValue(context.Background(), common.EnvKey, common.EnvMap{common.HostProcEnvKey: proc})
			read := func(name string) []byte {
				b, err := os.ReadFile(filepath.Join(proc, name))
				if err != nil {
					t.Fatal(err)
				}
				return b
			}

			vm, err := mem.VirtualMemoryWithContext(ctx)
			if err != nil {
				t.Fatal(err)
			}
			m, err := parseMeminfo(read("meminfo"))
			if err != nil {
				t.Fatal(err)
			}
			if want := (meminfo{Total: vm.Total, Free: vm.Free, Available: vm.Available, Buffers: vm.Buffers,
				Cached: vm.Cached, SwapTotal: vm.SwapTotal, SwapFree: vm.SwapFree, HasAvailable: true}); m != want {
				t.Errorf("meminfo = %+v, gopsutil %+v", m, want)
			}

			la, err := load.AvgWithContext(ctx)
			if err != nil {
				t.Fatal(err)
			}
			l, err := parseLoadavg(read("loadavg"))
			if err != nil || l != (Load{la.Load1, la.Load5, la.Load15}) {
				t.Errorf("load = %+v, %v; gopsutil %+v", l, err, la)
			}

			io, err := net.IOCountersWithContext(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			var want []NetInterface
			for _, c := range io {
				want = append(want, NetInterface{Name: c.Name, RxBytes: c.BytesRecv, TxBytes: c.BytesSent,
					RxPackets: c.PacketsRecv, TxPackets: c.PacketsSent, RxErrors: c.Errin, TxErrors: c.Errout,
					RxDropped: c.Dropin, TxDropped: c.Dropout})
			}
			got, err := parseNetDev(read("net/dev"), nil, func(b []byte) (string, bool) { return string(b), true })
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("net/dev = %+v, %v\ngopsutil %+v", got, err, want)
			}
		})
	}
}
