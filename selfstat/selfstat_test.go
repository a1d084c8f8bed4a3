package selfstat

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
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
	write := func(ticks string, rssKB string) {
		t.Helper()
		stat := "1 (dashd) S 0 1 1 0 -1 0 0 0 0 0 " + ticks + " 0 0 0 20 0 1 0 1 0 0"
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte("VmRSS:\t"+rssKB+" kB\n"), 0o644); err != nil {
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
	write("100", "10000")
	f, err := m.Sample(t0)
	if err != nil {
		t.Fatal(err)
	}
	if f.CPUPercent != 0 || f.EventsPerSec != 0 || f.RSSBytes != 10000*1024 || f.DBBytes != 4096 || f.SSEClients != 3 {
		t.Fatalf("first reading = %+v", f)
	}
	write("130", "12000") // rewritten in place: the Meter re-reads its open files; 30 ticks = 0.3 s of CPU over 10 s = 3%
	events = 1500
	f, err = m.Sample(t0.Add(10 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if f.CPUPercent != 3 || f.EventsPerSec != 50 || f.RSSBytes != 12000*1024 {
		t.Fatalf("second reading = %+v, want 3%% CPU, 50 events/s, 12000 kB", f)
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
		{"no stat", map[string]string{"status": "VmRSS: 1 kB\n"}},
		{"no status", map[string]string{"stat": "1 (x) S 0 1 1 0 -1 0 0 0 0 0 1 1 0"}},
		{"bad stat", map[string]string{"stat": "1 (x) S", "status": "VmRSS: 1 kB\n"}},
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
