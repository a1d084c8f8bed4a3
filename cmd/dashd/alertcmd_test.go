package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestAlertTest: `dashd alert test CHANNEL` sends a test message to the
// channel straight away and says whether it was delivered.
func TestAlertTest(t *testing.T) {
	var mu sync.Mutex
	var got []map[string]any
	status := http.StatusOK
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		got = append(got, m)
		code := status
		mu.Unlock()
		w.WriteHeader(code)
	}))
	defer rcv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	yaml := "alerts:\n  channels:\n    - name: ops-hook\n      type: webhook\n      url: " + rcv.URL + "/hook\n  routes:\n    - channels: [ops-hook]\nchecks: []\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		args    []string
		status  int
		code    int
		out     string // in stdout (success) or stderr
		arrives bool
	}{
		{"delivered", []string{"alert", "test", "ops-hook", "--config", cfg}, 200, 0, "test message delivered", true},
		{"flags first", []string{"alert", "--config", cfg, "test", "ops-hook"}, 200, 0, "test message delivered", true},
		{"refused", []string{"alert", "test", "ops-hook", "--config", cfg}, 400, 1, "permanent error", true},
		{"unknown channel", []string{"alert", "test", "nope", "--config", cfg}, 200, 1, `no alert channel "nope"`, false},
		{"usage", []string{"alert", "send", "--config", cfg}, 200, 2, "Usage: dashd alert test CHANNEL", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			got, status = nil, tt.status
			mu.Unlock()
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String()+stderr.String(), tt.out) {
				t.Fatalf("exit %d, want %d; output %q / %q, want %q", code, tt.code, stdout.String(), stderr.String(), tt.out)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.arrives != (len(got) == 1) {
				t.Fatalf("receiver got %d messages", len(got))
			}
			if tt.arrives && got[0]["test"] != true {
				t.Fatalf("not a test message: %v", got[0])
			}
		})
	}
}
