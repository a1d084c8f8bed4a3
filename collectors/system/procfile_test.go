package system

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/shirou/gopsutil/v3/common"
	"github.com/shirou/gopsutil/v3/load"
	"github.com/shirou/gopsutil/v3/mem"
	"github.com/shirou/gopsutil/v3/net"
)

// TestProcFile re-reads regular files the way the Sampler re-reads /proc:
// content rewritten in place shows on the next read, buffers grow, a file
// that vanishes fails and is picked up again once it is back.
func TestProcFile(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1000) // 16000 bytes: grows the 4 KiB buffer
	tests := []struct {
		name  string
		whole bool
	}{
		{"whole (single_open)", true},
		{"record by record", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			write := func(s string) {
				t.Helper()
				if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f := newProcFile(path, tt.whole)
			defer f.close()
			if _, err := f.read(); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("missing file: %v", err)
			}
			for i, content := range []string{"hello\n", big, "bye\n", "", big + big} {
				write(content)
				got, err := f.read()
				if err != nil || string(got) != content {
					t.Fatalf("read %d: %d bytes (want %d), %v", i, len(got), len(content), err)
				}
			}
			fd := f.fd
			if _, err := f.read(); err != nil || f.fd != fd {
				t.Errorf("a second read reopened the file (fd %d -> %d): %v", fd, f.fd, err)
			}
			// A descriptor that fails is replaced by a fresh one.
			f.close()
			f.fd = 1 << 20 // not an open descriptor: pread fails with EBADF
			write("again\n")
			if got, err := f.read(); err != nil || string(got) != "again\n" {
				t.Errorf("after a failing descriptor: %q, %v", got, err)
			}
			if err := f.close(); err != nil || f.fd != -1 {
				t.Errorf("close: %v (fd %d)", err, f.fd)
			}
			if err := f.close(); err != nil {
				t.Errorf("second close: %v", err)
			}
		})
	}
}

// TestProcFile_Proc reads real seq files, including one larger than a page
// where the kernel returns a page at a time.
func TestProcFile_Proc(t *testing.T) {
	for _, tt := range []struct {
		path  string
		whole bool
	}{
		{"/proc/stat", true}, {"/proc/meminfo", true}, {"/proc/self/mountinfo", false}, {"/proc/net/dev", false},
	} {
		t.Run(tt.path, func(t *testing.T) {
			want, err := os.ReadFile(tt.path)
			if err != nil {
				t.Skip(err)
			}
			f := newProcFile(tt.path, tt.whole)
			defer f.close()
			for range 2 {
				got, err := f.read()
				if err != nil {
					t.Fatal(err)
				}
				// Counters move between reads: compare the line structure.
				if g, w := strings.Count(string(got), "\n"), strings.Count(string(want), "\n"); g != w {
					t.Errorf("%d lines, os.ReadFile gave %d", g, w)
				}
			}
		})
	}
}

// TestOpenAndRead reads files of several sizes through openAndRead, then
// re-reads the returned descriptor in place with preadWhole, as a process
// refresh does with a kept /proc/PID/stat.
func TestOpenAndRead(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 9000) // grows the 4 KiB buffer
	tests := []struct {
		name, first, then string
	}{
		{"small", "42 (a) S\n", "42 (a) R\n"},
		{"big", big, big + "y"},
		{"small after big", "1 (b) S\n", ""},
	}
	var buf []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, []byte(tt.first), 0o600); err != nil {
				t.Fatal(err)
			}
			got, fd, err := openAndRead([]byte(path), &buf)
			if err != nil || string(got) != tt.first {
				t.Fatalf("openAndRead: %d bytes (want %d), %v", len(got), len(tt.first), err)
			}
			defer syscall.Close(fd)
			if err := os.WriteFile(path, []byte(tt.then), 0o600); err != nil { // truncates: same inode
				t.Fatal(err)
			}
			if got, err := preadWhole(fd, &buf); err != nil || string(got) != tt.then {
				t.Errorf("pread again: %d bytes (want %d), %v", len(got), len(tt.then), err)
			}
		})
	}
	if _, fd, err := openAndRead([]byte(filepath.Join(dir, "missing")), &buf); !errors.Is(err, fs.ErrNotExist) || fd != -1 {
		t.Errorf("missing: fd %d, %v", fd, err)
	}
	if _, fd, err := openAndRead(nil, &buf); err == nil || fd != -1 {
		t.Errorf("empty path: fd %d, %v", fd, err)
	}
}

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
