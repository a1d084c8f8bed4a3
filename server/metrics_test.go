package server

import (
	"bytes"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// labelKey is a series' identity within its family.
func labelKey(m *dto.Metric) string {
	pairs := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

func TestMetrics(t *testing.T) {
	e := newAPIEnv(t)
	e.get(t, "/api/v1/checks") // something for the process to have done
	resp, body := e.get(t, "/metrics")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, body)
	}

	// No duplicate series in any family.
	for name, f := range fams {
		seen := map[string]bool{}
		for _, m := range f.GetMetric() {
			k := labelKey(m)
			if seen[k] {
				t.Errorf("duplicate series %s{%s}", name, k)
			}
			seen[k] = true
		}
	}

	// series finds one series of a family by its labels (a subset).
	series := func(name string, labels ...string) *dto.Metric {
		t.Helper()
		f, ok := fams[name]
		if !ok {
			t.Errorf("family %s missing", name)
			return nil
		}
	next:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue next
				}
			}
			return m
		}
		t.Errorf("%s%v not found", name, labels)
		return nil
	}
	value := func(m *dto.Metric) float64 {
		switch {
		case m == nil:
			return -1
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Untyped != nil:
			return m.GetUntyped().GetValue()
		}
		return -1
	}
	tests := []struct {
		name   string
		labels []string
		want   float64 // -1: only present
	}{
		{"node_cpu_seconds_total", []string{"cpu", "0", "mode", "user"}, 100},
		{"node_cpu_seconds_total", []string{"cpu", "1", "mode", "idle"}, 1010},
		{"node_cpu_guest_seconds_total", []string{"cpu", "1", "mode", "user"}, 4},
		{"node_load1", nil, 0.5},
		{"node_load5", nil, 0.4},
		{"node_load15", nil, 0.3},
		{"node_memory_MemTotal_bytes", nil, 8 << 30},
		{"node_memory_MemAvailable_bytes", nil, 6 << 30},
		{"node_memory_SwapTotal_bytes", nil, 1 << 30},
		{"node_filesystem_size_bytes", []string{"mountpoint", "/", "device", "/dev/vda1", "fstype", "ext4"}, 100 << 30},
		{"node_filesystem_avail_bytes", []string{"mountpoint", "/"}, 55 << 30},
		{"node_filesystem_free_bytes", []string{"mountpoint", "/"}, 60 << 30},
		{"node_network_receive_bytes_total", []string{"device", "eth0"}, 1000},
		{"node_network_transmit_bytes_total", []string{"device", "eth0"}, 2000},
		{"node_disk_read_bytes_total", []string{"device", "vda"}, 1 << 20},
		{"node_disk_io_time_seconds_total", []string{"device", "vda"}, 1.5},
		{"node_boot_time_seconds", nil, -1},
		{"node_uname_info", []string{"nodename", "box", "release", "6.1.0"}, 1},
		{"dashd_host_uptime_seconds", nil, 3600},
		{"dashd_samples_total", nil, 1},
		{"dashd_build_info", []string{"version", "test"}, 1},
		{"dashd_check_up", []string{"check", "web", "type", "http"}, 1},
		{"dashd_check_up", []string{"check", "api.v2", "type", "http"}, 0},
		{"dashd_check_state", []string{"check", "web"}, 0},
		{"dashd_check_state", []string{"check", "api.v2"}, 3},
		{"dashd_check_latency_seconds", []string{"check", "web"}, -1},
		{"dashd_check_certificate_expiry_seconds", []string{"check", "secure", "type", "http"}, -1},
		{"dashd_sse_streams", nil, 0},
		{"dashd_sse_events_total", nil, 0},
		{"dashd_sse_evictions_total", nil, 0},
		{"dashd_storage_bytes", nil, -1},
		{"go_goroutines", nil, -1},
		{"process_resident_memory_bytes", nil, -1},
	}
	for _, tt := range tests {
		m := series(tt.name, tt.labels...)
		if m == nil {
			continue
		}
		if got := value(m); tt.want >= 0 && got != tt.want {
			t.Errorf("%s%v = %v, want %v", tt.name, tt.labels, got, tt.want)
		}
	}
	if v := value(series("dashd_check_certificate_expiry_seconds", "check", "secure")); v < 86400 {
		t.Errorf("certificate expiry %v s: the test certificate is valid for years", v)
	}
	if v := value(series("dashd_storage_bytes")); v <= 0 {
		t.Errorf("dashd_storage_bytes = %v", v)
	}
	if _, ok := fams["dashd_check_certificate_expiry_seconds"]; ok {
		for _, m := range fams["dashd_check_certificate_expiry_seconds"].GetMetric() {
			if labelKey(m) != "check=secure,type=http" {
				t.Errorf("certificate expiry for a check without TLS: %s", labelKey(m))
			}
		}
	}
	e.noErrorLogs(t)
}

// TestMetrics_TwoServers checks that each Server has its own registry:
// with the global one the second New would panic on duplicate registration.
func TestMetrics_TwoServers(t *testing.T) {
	a, b := New(Deps{AllowedHosts: []string{"example.com"}}), New(Deps{AllowedHosts: []string{"example.com"}})
	for _, s := range []*Server{a, b} {
		resp, err := s.App().Test(newGet("/metrics"), 10_000)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("metrics: %v %v", resp, err)
		}
		resp.Body.Close()
	}
}
