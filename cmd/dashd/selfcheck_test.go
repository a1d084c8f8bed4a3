package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// TestDaemon_SelfChecksFollowTheBoundPort starts dashd with --listen on
// port 0: the kernel picks the port, so only checks that follow the bound
// address (url: self:/healthz, address: self) can reach dashd. Both must
// come up; a check of the configured address would test the wrong port.
func TestDaemon_SelfChecksFollowTheBoundPort(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `server:
  listen: 127.0.0.1:1
checks:
  - {name: self-http, type: http, url: "self:/healthz", json_path: status, json_equals: ok, interval: 1s, timeout: 900ms}
  - {name: self-port, type: tcp, address: self, interval: 1s, timeout: 900ms}
`)
	d := newDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"), "--listen", "127.0.0.1:0")
	listenRE := regexp.MustCompile(`dashd started.* listen=(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(20 * time.Second)
	for d.addr == "" && time.Now().Before(deadline) {
		if m := listenRE.FindStringSubmatch(d.output()); m != nil {
			d.addr = m[1]
		}
		time.Sleep(50 * time.Millisecond)
	}
	if d.addr == "" || d.addr == "127.0.0.1:0" {
		t.Fatalf("no bound address in the log:\n%s", d.output())
	}
	d.waitHTTP()

	for _, name := range []string{"self-http", "self-port"} {
		var st struct {
			State  string `json:"state"`
			Reason string `json:"reason"`
		}
		for time.Now().Before(deadline.Add(10 * time.Second)) {
			resp, err := http.Get(d.url("/api/v1/checks/" + name))
			if err != nil {
				t.Fatal(err)
			}
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if st.State == "up" {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if st.State != "up" {
			t.Errorf("%s is %s (%s), want up: it must check %s, where dashd listens", name, st.State, st.Reason, d.addr)
		}
	}
}
