package collectors

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestHTTPCheck_Plain(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"ok","checks":{"db":{"state":"up","lag":0.5}},"items":[{"name":"a"}]}`)
	})
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(150 * time.Millisecond)
		fmt.Fprint(w, "ok")
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 64)
		n, _ := r.Body.Read(buf)
		fmt.Fprintf(w, "%s %s token=%s host=%s", r.Method, buf[:n], r.Header.Get("X-Token"), r.Host)
	})
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	// A port nothing listens on: listen, note the port, close.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()

	tests := []struct {
		name, body   string
		state        string
		reason       string
		wantStatus   float64
		timeout      time.Duration
		minLatencyMS int64
	}{
		{name: "ok", body: "url: " + srv.URL + "/ok", state: "up", reason: "HTTP 200", wantStatus: 200},
		{name: "503 is down", body: "url: " + srv.URL + "/down", state: "down", reason: "HTTP 503", wantStatus: 503},
		{name: "503 expected", body: "url: " + srv.URL + "/down\nexpect_status: [200, 500-599]", state: "up", reason: "HTTP 503"},
		{name: "204 outside list", body: "url: " + srv.URL + "/moved\nexpect_status: [200]", state: "down", reason: "HTTP 204"},
		{name: "body contains", body: "url: " + srv.URL + "/ok\nbody_contains: '\"status\":\"ok\"'", state: "up", reason: "HTTP 200"},
		{name: "body missing text", body: "url: " + srv.URL + "/ok\nbody_contains: healthy", state: "down", reason: `HTTP 200, body does not contain "healthy"`},
		{name: "regex", body: "url: " + srv.URL + "/ok\nbody_regex: '\"lag\":0\\.\\d'", state: "up"},
		{name: "regex mismatch", body: "url: " + srv.URL + "/ok\nbody_regex: '^\\['", state: "down", reason: `body does not match ^\[`},
		{name: "json equals", body: "url: " + srv.URL + "/ok\njson_path: checks.db.state\njson_equals: up", state: "up"},
		{name: "json number", body: "url: " + srv.URL + "/ok\njson_path: $.checks.db.lag\njson_equals: 0.5", state: "up"},
		{name: "json index", body: "url: " + srv.URL + "/ok\njson_path: items[0].name\njson_equals: a", state: "up"},
		{name: "json differs", body: "url: " + srv.URL + "/ok\njson_path: status\njson_equals: pass", state: "down", reason: `JSON status = "ok", want "pass"`},
		{name: "json missing", body: "url: " + srv.URL + "/ok\njson_path: checks.cache", state: "down", reason: "JSON checks.cache missing"},
		{name: "not json", body: "url: " + srv.URL + "/down\nexpect_status: [503]\njson_path: status", state: "down", reason: "body is not JSON"},
		{name: "slow is degraded", body: "url: " + srv.URL + "/slow\nmax_latency: 20ms", state: "degraded", reason: "slow", minLatencyMS: 150},
		{name: "method body headers", body: "url: " + srv.URL + "/echo\nmethod: post\nbody: hello\nheaders: {X-Token: s3cret, Host: svc.test}\nbody_contains: POST hello token=s3cret host=svc.test", state: "up"},
		{name: "refused", body: "url: http://" + closed + "/", state: "down", reason: "connect: connection refused"},
		{name: "unknown host", body: "url: http://nonexistent.invalid/", state: "down", reason: "no such host"},
		{name: "hang honours timeout", body: "url: " + srv.URL + "/hang", state: "down", reason: "timeout", timeout: 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			start := time.Now()
			out := run(t, mustBuild(t, "http", tt.body), timeout)
			assertOutcome(t, out, tt.state, tt.reason)
			if time.Since(start) > timeout+2*time.Second {
				t.Errorf("run took %s, timeout %s", time.Since(start), timeout)
			}
			if tt.wantStatus != 0 && out.Values["status"] != tt.wantStatus {
				t.Errorf("values = %v, want status %v", out.Values, tt.wantStatus)
			}
			if out.Latency <= 0 || out.Latency.Milliseconds() < tt.minLatencyMS {
				t.Errorf("latency = %s", out.Latency)
			}
		})
	}
}

func TestHTTPCheck_TLS(t *testing.T) {
	ca := newTestCA(t)
	ok := func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }
	longLived := tlsServer(t, ca.leaf(t, time.Now().Add(90*24*time.Hour)), http.HandlerFunc(ok))
	// NotAfter in 3 days (and an hour, so "3 days" survives the test's own runtime).
	expiring := tlsServer(t, ca.leaf(t, time.Now().Add(3*24*time.Hour+time.Hour)), http.HandlerFunc(ok))
	expired := tlsServer(t, ca.leaf(t, time.Now().Add(-25*time.Hour)), http.HandlerFunc(ok))
	selfSigned := httptest.NewTLSServer(http.HandlerFunc(ok))
	t.Cleanup(selfSigned.Close)
	selfSigned.Config.ErrorLog = longLived.Config.ErrorLog

	tests := []struct {
		name, body    string
		state, reason string
		minDays       float64
		maxDays       float64
	}{
		{"trusted via ca_file", "url: " + longLived.URL + "\nca_file: " + ca.pemFile, "up", "HTTP 200", 89, 90},
		{"verify is on by default", "url: " + longLived.URL, "down", "TLS: certificate signed by unknown authority", 0, 0},
		{"httptest cert untrusted", "url: " + selfSigned.URL, "down", "TLS: certificate signed by unknown authority", 0, 0},
		{"insecure_skip_verify opts out", "url: " + selfSigned.URL + "\ninsecure_skip_verify: true", "up", "HTTP 200", 365, 1e6},
		{"expiring soon is degraded", "url: " + expiring.URL + "\nca_file: " + ca.pemFile, "degraded", "certificate expires in 3 days", 3, 3.1},
		{"warn days off", "url: " + expiring.URL + "\nca_file: " + ca.pemFile + "\ncert_warn_days: 0", "up", "HTTP 200", 3, 3.1},
		{"expired fails verification", "url: " + expired.URL + "\nca_file: " + ca.pemFile, "down", "TLS: certificate expired", 0, 0},
		{"expired without verification", "url: " + expired.URL + "\ninsecure_skip_verify: true", "down", "certificate expired 1 day ago", -1.1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, mustBuild(t, "http", tt.body), 10*time.Second)
			assertOutcome(t, out, tt.state, tt.reason)
			if tt.maxDays != 0 {
				d, ok := out.Values["cert_days_left"]
				if !ok || d < tt.minDays || d > tt.maxDays {
					t.Errorf("cert_days_left = %v (present %v), want %v..%v", d, ok, tt.minDays, tt.maxDays)
				}
			}
		})
	}
}

func TestErrReason_Short(t *testing.T) {
	out := run(t, mustBuild(t, "http", "url: http://127.0.0.1:1/"), 5*time.Second)
	if out.Reason != "connect: connection refused" {
		t.Errorf("reason = %q, want the short form", out.Reason)
	}
	if strings.Contains(out.Reason, "127.0.0.1") {
		t.Errorf("reason repeats the address: %q", out.Reason)
	}
}
