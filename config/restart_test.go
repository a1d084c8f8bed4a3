package config

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestRestartRequired(t *testing.T) {
	base := Default()
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"nothing", func(*Config) {}, nil},
		{"checks and intervals apply live", func(c *Config) { c.Collect.Interval *= 2; c.Dashboard.BroadcastInterval *= 2; c.Chat.MaxRooms++ }, nil},
		{"listen", func(c *Config) { c.Server.Listen = "127.0.0.1:9999" }, []string{"server"}},
		{"allowed hosts", func(c *Config) { c.Server.AllowedHosts = []string{"a.example"} }, []string{"server"}},
		{"retention", func(c *Config) { c.Storage.Retention.Raw *= 2 }, []string{"storage"}},
		{"title and log", func(c *Config) { c.Dashboard.Title = "x"; c.Log.Level = "debug" }, []string{"log", "dashboard.title"}},
		{"concurrency", func(c *Config) { c.Collect.MaxConcurrentChecks = 3 }, []string{"collect.max_concurrent_checks"}},
	}
	for _, tt := range tests {
		next := Default()
		tt.change(next)
		got := RestartRequired(base, next)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: RestartRequired = %v, want %v", tt.name, got, tt.want)
		}
		kept := KeepRunning(base, next)
		if len(RestartRequired(base, kept)) != 0 {
			t.Errorf("%s: KeepRunning left restart-only changes: %v", tt.name, RestartRequired(base, kept))
		}
		if next.Collect.Interval != kept.Collect.Interval {
			t.Errorf("%s: KeepRunning dropped a live change", tt.name)
		}
	}
}

// TestRestartOnlyKeys_README: the README lists exactly the restart-only
// keys, between its restart-only markers.
func TestRestartOnlyKeys_README(t *testing.T) {
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i, j := strings.Index(s, "<!-- restart-only -->"), strings.Index(s, "<!-- /restart-only -->")
	if i < 0 || j < i {
		t.Fatal("README.md has no <!-- restart-only --> ... <!-- /restart-only --> section")
	}
	var listed []string
	for _, m := range regexp.MustCompile("`([a-z_.]+)`").FindAllStringSubmatch(s[i:j], -1) {
		listed = append(listed, m[1])
	}
	if want := RestartOnlyKeys(); !slices.Equal(listed, want) {
		t.Fatalf("README lists %v as restart-only, the code says %v", listed, want)
	}
}
