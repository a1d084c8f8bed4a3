package metrics

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/dashd/dashd/collectors/system"
)

// nodeExporterBin is Debian's package binary.
const nodeExporterBin = "prometheus-node-exporter"

// nodeExporterArgs limits node_exporter to the collectors dashd's
// families come from, with dashd's default disk selection (whole disks,
// no loop, ram or zram devices).
var nodeExporterArgs = []string{
	"--collector.disable-defaults",
	"--collector.cpu", "--collector.loadavg", "--collector.meminfo", "--collector.filesystem",
	"--collector.netdev", "--collector.diskstats", "--collector.stat", "--collector.filefd",
	"--collector.uname", "--collector.vmstat", "--collector.pressure", "--collector.sockstat",
	"--collector.netstat", "--collector.conntrack", "--collector.time", "--collector.timex",
	"--collector.os", "--collector.netclass",
	`--collector.diskstats.device-exclude=^((ram|loop|fd|zram)\d+|(h|s|v|xv)d[a-z]+\d+|nvme\d+n\d+p\d+)$`,
}

// TestParity_NodeExporter compares every family of parityFamilies with
// the real node_exporter on this host: type, label names, label sets and
// values within the family's tolerance. It skips (loudly) when
// prometheus-node-exporter is not installed, unless
// DASHD_REQUIRE_NODE_EXPORTER=1 (CI), where that is a failure.
func TestParity_NodeExporter(t *testing.T) {
	bin, err := exec.LookPath(nodeExporterBin)
	if err != nil {
		if os.Getenv("DASHD_REQUIRE_NODE_EXPORTER") == "1" {
			t.Fatalf("%s not on PATH and DASHD_REQUIRE_NODE_EXPORTER=1 (apt-get install prometheus-node-exporter)", nodeExporterBin)
		}
		t.Skipf("SKIPPED: %s not installed: node_exporter parity NOT checked (apt-get install prometheus-node-exporter)", nodeExporterBin)
	}
	neURL := startNodeExporter(t, bin)

	snap := realSnapshot(t)
	e := newEnv(t, envOptions{snapshot: &snap})
	_, ours := e.scrape(t, "")
	theirs := get(t, neURL)
	dashd, ne := parseText(t, ours), parseText(t, theirs)

	for _, pf := range parityFamilies() {
		t.Run(pf.name, func(t *testing.T) {
			df, nf := dashd[pf.name], ne[pf.name]
			switch {
			case df == nil && nf == nil:
				t.Skipf("%s: neither exports it on this host", pf.name)
			case df == nil:
				t.Fatalf("dashd lacks %s (node_exporter has %d series)", pf.name, len(nf.GetMetric()))
			case nf == nil:
				t.Fatalf("node_exporter lacks %s (dashd has %d series)", pf.name, len(df.GetMetric()))
			}
			if df.GetType() != nf.GetType() {
				t.Errorf("type: dashd %v, node_exporter %v", df.GetType(), nf.GetType())
			}
			if dl, nl := labelNames(df), labelNames(nf); !slices.Equal(dl, nl) {
				t.Errorf("label names: dashd %v, node_exporter %v", dl, nl)
			}
			theirs := map[string]*dto.Metric{}
			for _, m := range nf.GetMetric() {
				theirs[labelKey(m)] = m
			}
			ourKeys := map[string]bool{}
			for _, m := range df.GetMetric() {
				k := labelKey(m)
				ourKeys[k] = true
				n, ok := theirs[k]
				if !ok {
					t.Errorf("series {%s}: dashd only", k)
					continue
				}
				a, b := value(m), value(n)
				if tol := pf.abs + pf.rel*math.Max(math.Abs(a), math.Abs(b)); math.Abs(a-b) > tol {
					t.Errorf("{%s}: dashd %v, node_exporter %v: off by %v, tolerance %v", k, a, b, math.Abs(a-b), tol)
				}
			}
			if !pf.subset {
				for k := range theirs {
					if !ourKeys[k] {
						t.Errorf("series {%s}: node_exporter only", k)
					}
				}
			}
		})
	}
}

// startNodeExporter runs node_exporter on a free loopback port until the
// test ends and returns its /metrics URL once it answers.
func startNodeExporter(t *testing.T, bin string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, append([]string{"--web.listen-address=" + addr}, nodeExporterArgs...)...)
	var logs syncBuffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	url := "http://" + addr + "/metrics"
	deadline := time.Now().Add(testTimeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			return url
		}
		if time.Now().After(deadline) {
			t.Fatalf("node_exporter did not answer on %s: %v\n%s", addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// realSnapshot runs a real Sampler on this host for two ticks and returns
// the second snapshot (the first has no rates; neither matters here).
func realSnapshot(t *testing.T) system.Snapshot {
	t.Helper()
	s := system.New(system.Options{Interval: 200 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	var snaps []system.Snapshot
	err := s.Run(ctx, func(sn system.Snapshot) {
		snaps = append(snaps, sn)
		if len(snaps) == 2 {
			cancel()
		}
	})
	if err != nil || len(snaps) < 2 {
		t.Fatalf("sampler: %v (%d samples)", err, len(snaps))
	}
	if len(snaps[1].Errors) > 0 {
		t.Logf("sample errors: %v", snaps[1].Errors)
	}
	return snaps[1]
}

// get fetches url's body.
func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

// labelNames lists a family's label names, sorted.
func labelNames(f *dto.MetricFamily) []string {
	set := map[string]bool{}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			set[l.GetName()] = true
		}
	}
	var out []string
	for n := range set {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}
