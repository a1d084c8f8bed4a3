package server

import (
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/state"
)

func TestHealthz(t *testing.T) {
	e := newAPIEnv(t)
	resp, err := e.srv.App().Test(newGet("/healthz"), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestReadyz(t *testing.T) {
	e := newAPIEnv(t)
	base := e.srv.deps

	staleLatest := state.New(e.latest.Config(), time.Now().Add(-time.Hour))
	staleLatest.SetSystem(testSnapshot(time.Now().Add(-10 * time.Minute)))

	emptyLatest := state.New(e.latest.Config(), time.Now().Add(-time.Hour))

	rejected := state.New(e.latest.Config(), time.Now())
	rejected.SetSystem(testSnapshot(time.Now()))
	rejected.Reject([]config.Problem{{File: "dashd.yaml", Line: 3, Column: 5, Path: "checks[0].interval", Message: "must be between 1s and 24h"}}, time.Now())

	tests := []struct {
		name   string
		deps   func(d Deps) Deps
		status int
		want   []string
	}{
		{"ready", func(d Deps) Deps { return d }, 200, []string{`"status":"ready"`, `"name":"storage","ok":true`, `"name":"samples","ok":true`, "4 checks running"}},
		{"stale sample", func(d Deps) Deps { d.Latest = staleLatest; return d }, 503, []string{`"status":"not ready"`, "last host sample is 10m0s old"}},
		{"no sample after start", func(d Deps) Deps { d.Latest = emptyLatest; return d }, 503, []string{"no host sample 1h0m0s after start"}},
		{"runner stopped", func(d Deps) Deps {
			later := time.Now().Add(10 * time.Minute)
			d.Now = func() time.Time { return later }
			d.Latest = state.New(e.latest.Config(), time.Now().Add(-time.Hour))
			d.Latest.SetSystem(testSnapshot(later))
			return d
		}, 503, []string{"no check has run recently (4 checks): the runner is not running"}},
		{"rejected config is reported but ready", func(d Deps) Deps { d.Latest = rejected; return d }, 200, []string{`"status":"ready"`, `dashd.yaml:3:5: checks[0].interval: must be between 1s and 24h`, "config_rejected_at"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.deps(base))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := s.App().Test(newGet("/readyz"), 10_000)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q: %s", w, body)
				}
			}
		})
	}

	// Closed storage: the probe read fails.
	if err := e.db.Close(); err != nil {
		t.Fatal(err)
	}
	resp, err := e.srv.App().Test(newGet("/readyz"), 10_000)
	if err != nil {
		t.Fatal(err)
	}
	body := readAll(t, resp)
	if resp.StatusCode != 503 || !strings.Contains(body, `"name":"storage","ok":false`) {
		t.Errorf("closed storage: status %d: %s", resp.StatusCode, body)
	}
}

// TestNew_RefusesMissingParts: every part is required; a missing one is an
// error at construction, never a nil a handler trips over later.
func TestNew_RefusesMissingParts(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		name string
		drop func(*Deps)
	}{
		{"Store", func(d *Deps) { d.Store = nil }},
		{"Latest", func(d *Deps) { d.Latest = nil }},
		{"Checks", func(d *Deps) { d.Checks = nil }},
		{"Hub", func(d *Deps) { d.Hub = nil }},
		{"Sparks", func(d *Deps) { d.Sparks = nil }},
		{"Assets", func(d *Deps) { d.Assets = nil }},
		{"Flow", func(d *Deps) { d.Flow = nil }},
		{"Alerts", func(d *Deps) { d.Alerts = nil }},
	}
	for _, tt := range tests {
		d := e.srv.deps
		tt.drop(&d)
		if _, err := New(d); err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("without %s: New = %v, want an error naming it", tt.name, err)
		}
	}
}
