package server

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

func TestHostPolicy(t *testing.T) {
	p := newHostPolicy("127.0.0.1:8080", "box.lan", []string{"dash.example.org", "*.corp.example", "Upper.Example."})
	tests := []struct {
		host string
		want bool
	}{
		{"", true},
		{"127.0.0.1:8080", true},
		{"127.0.0.1", true},
		{"[::1]:8080", true},
		{"10.1.2.3:8080", true}, // any IP literal: no name, no rebinding
		{"localhost:8080", true},
		{"LOCALHOST", true},
		{"app.localhost", true},
		{"box.lan", true},
		{"box", true},
		{"dash.example.org:443", true},
		{"dash.example.org.", true},
		{"upper.example", true},
		{"a.corp.example", true},
		{"corp.example", false}, // the wildcard is for subdomains only
		{"evil.example", false},
		{"127.0.0.1.evil.example", false},
		{"localhost.evil.example", false},
		{"dash.example.org.evil.example", false},
	}
	for _, tt := range tests {
		if got := p.allows(tt.host); got != tt.want {
			t.Errorf("allows(%q) = %v, want %v", tt.host, got, tt.want)
		}
	}
}

// request sends r through the app and returns status, headers and body.
func (e *apiEnv) request(t *testing.T, r *http.Request) (int, http.Header, string) {
	t.Helper()
	resp, err := e.srv.App().Test(r, 10_000)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	return resp.StatusCode, resp.Header, readAll(t, resp)
}

func TestGuard_HostHeader(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		host   string
		status int
	}{
		{"example.com", 200}, // allowed in the test env
		{"127.0.0.1:8080", 200},
		{"localhost", 200},
		{"rebind.attacker.example", 421},
	}
	for _, path := range []string{"/api/v1/checks", "/healthz", "/badge/web.svg"} {
		for _, tt := range tests {
			r := httptest.NewRequest(fiber.MethodGet, path, nil)
			r.Host = tt.host
			status, _, body := e.request(t, r)
			if status != tt.status {
				t.Errorf("GET %s with Host %q: %d, want %d: %s", path, tt.host, status, tt.status, body)
			}
			if status == 421 && !strings.Contains(body, "server.allowed_hosts") {
				t.Errorf("refusal does not say how to allow the host: %s", body)
			}
		}
	}
	// A write from a rebinding page is refused before anything else.
	r := httptest.NewRequest(fiber.MethodPost, "/chat/ops/send", strings.NewReader(`{"message":"hi"}`))
	r.Host = "rebind.attacker.example"
	r.Header.Set("Datastar-Request", "true")
	if status, _, _ := e.request(t, r); status != 421 {
		t.Errorf("POST from a rebinding host: %d, want 421", status)
	}
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGuard_CompressedBodies: a few KB of nested gzip that would inflate to
// gigabytes is refused without being decompressed.
func TestGuard_CompressedBodies(t *testing.T) {
	e := newAPIEnv(t)
	// 64 MiB of one letter, gzipped twice: about 200 bytes.
	signals := append([]byte(`{"displayName":"`), bytes.Repeat([]byte("a"), 64<<20)...)
	signals = append(signals, `"}`...)
	bomb := gz(t, gz(t, signals))
	if len(bomb) > 200_000 {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	for _, enc := range []string{"gzip, gzip", "gzip", "deflate", "br", "x-unknown"} {
		r := httptest.NewRequest(fiber.MethodPost, "/api/session/name", bytes.NewReader(bomb))
		r.Header.Set("Datastar-Request", "true")
		r.Header.Set("Content-Encoding", enc)
		status, _, body := e.request(t, r)
		if status != fiber.StatusUnsupportedMediaType || !strings.Contains(body, "uncompressed") {
			t.Errorf("Content-Encoding %q: %d %s, want 415 saying to send it uncompressed", enc, status, body)
		}
	}
	// identity is no compression: accepted.
	r := httptest.NewRequest(fiber.MethodPost, "/api/session/name", strings.NewReader(`{"displayName":"ann"}`))
	r.Header.Set("Datastar-Request", "true")
	r.Header.Set("Content-Encoding", "identity")
	if status, _, body := e.request(t, r); status != 200 && status != 503 {
		t.Errorf("identity: %d %s", status, body)
	}
}

func TestGuard_SecurityHeaders(t *testing.T) {
	e := newAPIEnv(t)
	for _, path := range []string{"/api/v1/checks", "/healthz", "/badge/web.svg", "/no/such/page"} {
		_, h, _ := e.request(t, newGet(path))
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: X-Content-Type-Options %q", path, h.Get("X-Content-Type-Options"))
		}
		if h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: no Referrer-Policy", path)
		}
		csp := h.Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", path, csp)
		}
		if strings.HasPrefix(path, "/badge/") == strings.Contains(csp, "frame-ancestors") {
			t.Errorf("%s: CSP %q (badges may be embedded, nothing else may be framed)", path, csp)
		}
	}
}

func TestGuard_Methods(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		method, path string
		status       int
		allow        string
		body         string
	}{
		{fiber.MethodPut, "/", 405, "GET", "not allowed"},
		{fiber.MethodDelete, "/api/v1/checks", 405, "GET", "not allowed"},
		{fiber.MethodPost, "/api/v1/events", 405, "GET", "not allowed"},
		{fiber.MethodPut, "/badge/web.svg", 405, "GET", "not allowed"},
		{fiber.MethodGet, "/chat/ops/send", 405, "POST", "not allowed"},
		{fiber.MethodGet, "/api/v1/nothing", 404, "", "no such API endpoint: GET /api/v1/nothing"},
		{fiber.MethodDelete, "/api/v1/nothing", 404, "", "no such API endpoint"},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, tt.path, nil)
		status, h, body := e.request(t, r)
		if status != tt.status || !strings.Contains(h.Get("Allow"), tt.allow) || !strings.Contains(body, tt.body) {
			t.Errorf("%s %s: %d Allow=%q %s; want %d Allow~%q body~%q", tt.method, tt.path, status, h.Get("Allow"), body, tt.status, tt.allow, tt.body)
		}
	}
}

func TestGuard_CrossOriginWrites(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		name   string
		header map[string]string
		status int
	}{
		{"no datastar header", map[string]string{}, 403},
		{"cross-site", map[string]string{"Datastar-Request": "true", "Sec-Fetch-Site": "cross-site"}, 403},
		{"foreign origin", map[string]string{"Datastar-Request": "true", "Origin": "http://evil.example"}, 403},
		// Passes the guard (the handler then answers for itself).
		{"same origin", map[string]string{"Datastar-Request": "true", "Origin": "http://example.com", "Sec-Fetch-Site": "same-origin"}, 0},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(fiber.MethodPost, "/api/session/name", strings.NewReader(`{"displayName":"ann"}`))
		for k, v := range tt.header {
			r.Header.Set(k, v)
		}
		status, _, body := e.request(t, r)
		if tt.status == 0 && status == 403 || tt.status != 0 && status != tt.status {
			t.Errorf("%s: %d %s, want %d (0: anything but 403)", tt.name, status, body, tt.status)
		}
	}
}
