package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDaemon_TextfileMetrics: metrics.textfile_directory reaches /metrics
// of the running daemon: a good file's series are served, a bad file is
// reported, not fatal.
func TestDaemon_TextfileMetrics(t *testing.T) {
	dir := t.TempDir()
	tf := filepath.Join(dir, "textfile")
	if err := os.Mkdir(tf, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"backup.prom": "# HELP backup_last_success_timestamp_seconds Last good backup.\n# TYPE backup_last_success_timestamp_seconds gauge\nbackup_last_success_timestamp_seconds 1.7e+09\n",
		"broken.prom": "this is { not a metric\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(tf, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := writeConfig(t, dir, "metrics:\n  textfile_directory: "+tf+"\nchecks: []\n")
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	_, body := get(t, d.url("/metrics"))
	for _, want := range []string{"backup_last_success_timestamp_seconds 1.7e+09", "node_textfile_scrape_error 1", `node_textfile_mtime_seconds{file="` + filepath.Join(tf, "backup.prom") + `"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
