package metrics

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors/system"
)

// realisticSnapshot is a mid-size server: 8 CPUs, 12 filesystems,
// 4 disks, 6 interfaces.
func realisticSnapshot(at time.Time) system.Snapshot {
	s := testSnapshot(at)
	s.CPUSeconds = nil
	for c := range 8 {
		s.CPUSeconds = append(s.CPUSeconds, system.CPUTimes{Core: c, User: 1000, Nice: 5, System: 300, Idle: 90000, IOWait: 20, IRQ: 1, SoftIRQ: 7, Steal: 2, Guest: 3})
	}
	s.Filesystems = nil
	for i := range 12 {
		s.Filesystems = append(s.Filesystems, system.Filesystem{Mount: fmt.Sprintf("/srv/vol%02d", i), Device: fmt.Sprintf("/dev/vd%c1", 'a'+i), FSType: "ext4", Total: 100 << 30, Used: 40 << 30, Avail: 55 << 30, InodesTotal: 1 << 20, InodesFree: 1 << 19})
	}
	s.Disks = nil
	for i := range 4 {
		s.Disks = append(s.Disks, system.Disk{Device: fmt.Sprintf("vd%c", 'a'+i), ReadBytes: 1 << 30, WrittenBytes: 2 << 30, Reads: 1e6, Writes: 2e6, IOTimeMs: 1e6})
	}
	s.Interfaces = nil
	for i := range 6 {
		s.Interfaces = append(s.Interfaces, system.NetInterface{Name: fmt.Sprintf("eth%d", i), RxBytes: 1 << 40, TxBytes: 1 << 39, RxPackets: 1e9, TxPackets: 1e9})
	}
	return s
}

// BenchmarkScrape is one whole scrape of a daemon with 20 checks and a
// realistic host sample, gathered and encoded in process (no network),
// in the text format and in OpenMetrics.
func BenchmarkScrape(b *testing.B) {
	snap := realisticSnapshot(time.Now())
	e := newEnv(b, envOptions{extraChecks: 17, snapshot: &snap}) // 3 + 17 = 20 checks
	if n := len(e.runner.Statuses()); n != 20 {
		b.Fatalf("%d checks, want 20", n)
	}
	h := e.m.Handler()
	for _, bc := range []struct{ name, accept string }{
		{"text", ""},
		{"openmetrics", "application/openmetrics-text;version=1.0.0"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			if bc.accept != "" {
				req.Header.Set("Accept", bc.accept)
			}
			b.ReportAllocs()
			var size int
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/scrape")
		})
	}
}
