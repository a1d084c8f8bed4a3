package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stream is an open /api/events SSE connection whose bytes are collected.
type stream struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	done chan struct{}
	err  error
}

func openStream(t *testing.T, url string) *stream {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Datastar-Request", "true")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	s := &stream{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		b := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			s.mu.Unlock()
			if err != nil {
				s.err = err
				return
			}
		}
	}()
	t.Cleanup(func() { resp.Body.Close() })
	return s
}

func (s *stream) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Contains(s.buf.Bytes(), []byte(sub))
}

func (s *stream) open() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// samplesTotal reads dashd_samples_total from a /metrics body.
func samplesTotal(t *testing.T, metrics []byte) float64 {
	t.Helper()
	for _, line := range strings.Split(string(metrics), "\n") {
		if v, ok := strings.CutPrefix(line, "dashd_samples_total "); ok {
			var f float64
			if _, err := fmt.Sscan(v, &f); err != nil {
				t.Fatalf("dashd_samples_total %q: %v", v, err)
			}
			return f
		}
	}
	t.Fatalf("no dashd_samples_total in /metrics")
	return 0
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type apiCheck struct {
	Name     string  `json:"name"`
	Interval float64 `json:"interval_seconds"`
}

func apiChecks(t *testing.T, d *child) map[string]apiCheck {
	t.Helper()
	_, body := get(t, d.url("/api/v1/checks"))
	var v struct{ Checks []apiCheck }
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decoding /api/v1/checks: %v\n%s", err, body)
	}
	out := map[string]apiCheck{}
	for _, c := range v.Checks {
		out[c.Name] = c
	}
	return out
}

// TestReload_LiveWithClientConnected changes the configuration under a running
// daemon while a dashboard stream stays connected: add a check, remove one,
// change an interval, then write an invalid file.
func TestReload_LiveWithClientConnected(t *testing.T) {
	target, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	go func() {
		for {
			c, err := target.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	check := func(name, interval string) string {
		return fmt.Sprintf("  - name: %s\n    type: tcp\n    address: %s\n    interval: %s\n", name, target.Addr(), interval)
	}
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "checks:\n"+check("alpha", "1s"))
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	s := openStream(t, d.url("/api/events"))
	eventually(t, "alpha on the first stream", func() bool { return s.contains("check-alpha") })

	rewrite := func(head, extra string, hup bool) {
		t.Helper()
		writeConfigHead(t, dir, head, extra)
		if hup {
			d.cmd.Process.Signal(syscall.SIGHUP)
		}
	}

	// Add: the file watcher alone picks it up (no signal).
	rewrite("", "checks:\n"+check("alpha", "1s")+check("beta", "1s"), false)
	eventually(t, "beta in the API", func() bool { _, ok := apiChecks(t, d)["beta"]; return ok })
	eventually(t, "beta pushed to the connected stream", func() bool { return s.contains("check-beta") })

	// Remove, by SIGHUP.
	rewrite("", "checks:\n"+check("beta", "1s"), true)
	eventually(t, "alpha gone", func() bool { _, ok := apiChecks(t, d)["alpha"]; return !ok })

	// Change an interval.
	rewrite("", "checks:\n"+check("beta", "3s"), true)
	eventually(t, "beta's new interval", func() bool { return apiChecks(t, d)["beta"].Interval == 3 })

	// Change the sampling interval: the host sampler restarts and keeps
	// sampling at the new pace.
	rewrite("collect:\n  interval: 300ms\n  process_interval: 1s\ndashboard:\n  broadcast_interval: 300ms\n", "checks:\n"+check("beta", "3s"), true)
	eventually(t, "the sampler restart to be logged", func() bool {
		return strings.Contains(d.output(), "host sampling restarted") && strings.Contains(d.output(), "interval=300ms")
	})
	_, before := get(t, d.url("/metrics"))
	eventually(t, "host samples after the sampler restart", func() bool {
		_, after := get(t, d.url("/metrics"))
		return samplesTotal(t, after) > samplesTotal(t, before)
	})

	// Invalid: rejected, banner pushed, readiness details, old config runs.
	if err := os.WriteFile(cfg, []byte("checks:\n  - name: beta\n    type: tcp\n    adress: x:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Signal(syscall.SIGHUP)
	eventually(t, "the rejection banner on the stream", func() bool { return s.contains("Configuration reload rejected") })
	_, ready := get(t, d.url("/readyz"))
	if !strings.Contains(string(ready), `checks[0].adress: unknown key (did you mean \"address\"?)`) {
		t.Errorf("/readyz does not list the problem:\n%s", ready)
	}
	if c, ok := apiChecks(t, d)["beta"]; !ok || c.Interval != 3 {
		t.Errorf("last good configuration not in force after a rejected reload: %+v", apiChecks(t, d))
	}

	if !s.open() {
		t.Fatalf("the dashboard stream was dropped during reloads: %v", s.err)
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Fatalf("exit = %d", code)
	}
}
