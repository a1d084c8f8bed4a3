package selfstat

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/procfile"
)

func TestParseStatTicks(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
		ok   bool
	}{
		{"plain", "4242 (dashd) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 25 0 0 20 0 9 0 100 0 0", 175, true},
		{"name with spaces and parens", "7 (we (ird) name) R 1 7 7 0 -1 0 0 0 0 0 3 4 0 0 20 0 1 0 5 0 0", 7, true},
		{"truncated", "7 (x) R 1 2", 0, false},
		{"no name", "garbage", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatTicks([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseStatTicks = %d, %v; want %d (ok=%v)", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestParseStatmRSS(t *testing.T) {
	tests := []struct {
		name string
		in   string
		page uint64
		want uint64
		ok   bool
	}{
		{"4 KiB pages", "765 403 375 5 0 123 0\n", 4096, 403 * 4096, true},
		{"64 KiB pages", "765 403 375 5 0 123 0\n", 65536, 403 * 65536, true},
		{"no trailing newline", "10 0 0 1 0 1 0", 4096, 0, true},
		{"kernel thread", "0 0 0 0 0 0 0\n", 4096, 0, false},
		{"one field", "765\n", 4096, 0, false},
		{"not a number", "765 x 1 1 0 1 0\n", 4096, 0, false},
		{"empty", "", 4096, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatmRSS([]byte(tt.in), tt.page)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseStatmRSS = %d, %v; want %d (ok=%v)", got, err, tt.want, tt.ok)
			}
		})
	}
}

// parseVmRSS returns VmRSS from /proc/PID/status in bytes: the reference
// the statm reading is checked against.
func parseVmRSS(b []byte) (uint64, error) {
	for line := range bytes.Lines(b) {
		rest, ok := bytes.CutPrefix(line, []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("malformed VmRSS line %q", bytes.TrimSpace(line))
		}
		kb, ok := procfile.ParseUint(f[0])
		if !ok {
			return 0, fmt.Errorf("malformed VmRSS line %q", bytes.TrimSpace(line))
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no VmRSS in status")
}

// readVmRSS reads VmRSS from dir/status.
func readVmRSS(t *testing.T, dir string) uint64 {
	t.Helper()
	b, err := os.ReadFile(dir + "/status")
	if err != nil {
		t.Fatal(err)
	}
	v, err := parseVmRSS(b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestRSS_MatchesVmRSS: the resident set read from statm is the VmRSS of
// status, for this process (whose memory moves between the two reads: the
// statm reading must lie between two VmRSS readings taken around it, give
// or take the kernel's per-CPU counter slack) and for a sleeping child
// (whose memory does not move).
func TestRSS_MatchesVmRSS(t *testing.T) {
	const slack = 512 << 10
	kid := exec.Command("sleep", "30")
	if err := kid.Start(); err != nil {
		t.Fatalf("start a child process: %v", err)
	}
	defer func() {
		_ = kid.Process.Kill()
		_ = kid.Wait()
	}()
	tests := []struct {
		name string
		dir  string
	}{
		{"self", "/proc/self"},
		{"sleeping child", fmt.Sprintf("/proc/%d", kid.Process.Pid)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewProcReader(tt.dir)
			defer r.Close()
			for i := range 3 {
				before := readVmRSS(t, tt.dir)
				u, err := r.Read()
				if err != nil {
					t.Fatal(err)
				}
				v, err := ReadProc(tt.dir)
				if err != nil {
					t.Fatal(err)
				}
				after := readVmRSS(t, tt.dir)
				lo, hi := min(before, after), max(before, after)
				for _, got := range []uint64{u.RSSBytes, v.RSSBytes} {
					if got+slack < lo || got > hi+slack {
						t.Errorf("read %d: statm RSS %d bytes, VmRSS %d then %d", i, got, before, after)
					}
				}
				t.Logf("read %d: ProcReader %d, ReadProc %d, VmRSS %d then %d", i, u.RSSBytes, v.RSSBytes, before, after)
			}
		})
	}
}

func TestParseVmRSS(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want uint64
		ok   bool
	}{
		{"present", "Name:\tdashd\nVmPeak:\t 9000 kB\nVmRSS:\t   20480 kB\nThreads: 9\n", 20480 * 1024, true},
		{"missing (kernel thread)", "Name:\tkthreadd\nThreads: 1\n", 0, false},
		{"bad unit", "VmRSS:\t20 MB\n", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseVmRSS([]byte(tt.in))
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("parseVmRSS = %d, %v; want %d (ok=%v)", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestRate(t *testing.T) {
	tests := []struct {
		prev, cur uint64
		secs      float64
		want      float64
	}{
		{100, 150, 1, 50},
		{100, 150, 2, 25},
		{150, 100, 1, 0}, // counter reset: no negative spike
		{1, 2, 0, 0},
	}
	for _, tt := range tests {
		if got := Rate(tt.prev, tt.cur, tt.secs); got != tt.want {
			t.Errorf("Rate(%d,%d,%v) = %v, want %v", tt.prev, tt.cur, tt.secs, got, tt.want)
		}
	}
}

// TestMeter_Fixture drives the Meter over two fixture /proc/self trees so the
// rates are exact.
func TestMeter_Fixture(t *testing.T) {
	dir := t.TempDir()
	page := uint64(os.Getpagesize())
	write := func(ticks string, rssPages string) {
		t.Helper()
		stat := "1 (dashd) S 0 1 1 0 -1 0 0 0 0 0 " + ticks + " 0 0 0 20 0 1 0 1 0 0"
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "statm"), []byte("90000 "+rssPages+" 1000 100 0 5000 0\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var events uint64 = 1000
	m := &Meter{proc: NewProcReader(dir), src: Sources{
		DBSize: func() (int64, error) { return 4096, nil },
		Hub:    func() (int, uint64) { return 3, events },
	}}
	defer m.Close()
	t0 := time.Unix(1000, 0)
	write("100", "2500")
	f, err := m.Sample(t0)
	if err != nil {
		t.Fatal(err)
	}
	if f.CPUPercent != 0 || f.EventsPerSec != 0 || f.RSSBytes != 2500*page || f.DBBytes != 4096 || f.SSEClients != 3 {
		t.Fatalf("first reading = %+v", f)
	}
	write("130", "3000") // rewritten in place: the Meter re-reads its open files; 30 ticks = 0.3 s of CPU over 10 s = 3%
	events = 1500
	f, err = m.Sample(t0.Add(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if f.CPUPercent != 3 || f.EventsPerSec != 50 || f.RSSBytes != 3000*page {
		t.Fatalf("second reading = %+v, want 3%% CPU, 50 events/s, 3000 pages", f)
	}
}

func TestMeter_Live(t *testing.T) {
	m := New(Sources{})
	defer m.Close()
	if _, err := m.Sample(time.Now()); err != nil {
		t.Fatal(err)
	}
	f, err := m.Sample(time.Now().Add(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if f.RSSBytes < 1<<20 || f.Goroutines < 1 || f.CPUPercent > float64(100*runtime.NumCPU()) {
		t.Fatalf("live footprint implausible: %+v", f)
	}
}

// BenchmarkMeterSample is the cost of one footprint reading. For its system
// calls: go test -c -o /tmp/selfstat.test ./selfstat && strace -f -c
// /tmp/selfstat.test -test.run '^$' -test.bench MeterSample -test.benchtime 1000x
func BenchmarkMeterSample(b *testing.B) {
	m := New(Sources{})
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Second)
		if _, err := m.Sample(now); err != nil {
			b.Fatal(err)
		}
	}
}

// TestProcReader reads this process through kept descriptors: values agree
// with ReadProc, the descriptors stay the same between reads, Close releases
// them and a Read after Close opens them again.
func TestProcReader(t *testing.T) {
	fds := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(es)
	}
	before := fds()
	r := NewProcReader("/proc/self")
	for i := range 3 {
		u, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		v, err := ReadProc("/proc/self")
		if err != nil {
			t.Fatal(err)
		}
		if u.RSSBytes < 1<<20 || v.CPUTicks < u.CPUTicks || v.RSSBytes/(1<<20) > u.RSSBytes/(1<<20)+64 {
			t.Errorf("read %d: ProcReader %+v, ReadProc %+v", i, u, v)
		}
		if n := fds(); n != before+2 {
			t.Errorf("read %d: %d descriptors open, want %d", i, n, before+2)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := fds(); n != before {
		t.Errorf("%d descriptors open after Close, want %d", n, before)
	}
	if _, err := r.Read(); err != nil {
		t.Errorf("Read after Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReadProc_Errors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		files map[string]string
	}{
		{"no stat", map[string]string{"statm": "10 1 0 1 0 1 0\n"}},
		{"no statm", map[string]string{"stat": "1 (x) S 0 1 1 0 -1 0 0 0 0 0 1 1 0"}},
		{"bad stat", map[string]string{"stat": "1 (x) S", "statm": "10 1 0 1 0 1 0\n"}},
		{"kernel thread", map[string]string{"stat": "2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 1 1 0", "statm": "0 0 0 0 0 0 0\n"}},
	}
	for i, tt := range tests {
		for _, reader := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s reader=%v", tt.name, reader), func(t *testing.T) {
				d := filepath.Join(dir, strconv.Itoa(i), strconv.FormatBool(reader))
				if err := os.MkdirAll(d, 0o755); err != nil {
					t.Fatal(err)
				}
				for n, c := range tt.files {
					if err := os.WriteFile(filepath.Join(d, n), []byte(c), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				var err error
				if reader {
					r := NewProcReader(d)
					_, err = r.Read()
					_ = r.Close()
				} else {
					_, err = ReadProc(d)
				}
				if err == nil {
					t.Error("no error")
				}
			})
		}
	}
}
