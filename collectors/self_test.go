package collectors

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

func TestSelf_Validate(t *testing.T) {
	tests := []struct {
		name, typ, body string
		problem         string // "" when valid
	}{
		{"http path", "http", "url: self:/healthz", ""},
		{"http path and query", "http", "url: self:/api/v1/checks?x=1", ""},
		{"http no slash", "http", "url: self:healthz", "such as self:/healthz"},
		{"http another host", "http", "url: self://evil.example/x", "such as self:/healthz"},
		{"http empty path", "http", "url: 'self:'", "such as self:/healthz"},
		{"tcp self", "tcp", "address: self", ""},
		{"tcp plain host", "tcp", "address: 127.0.0.1", "must be host:port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := strings.Join(problems(t, checkYAML(tt.typ, tt.body)), "\n")
			if tt.problem == "" && got != "" {
				t.Errorf("valid config refused: %s", got)
			}
			if tt.problem != "" && !strings.Contains(got, tt.problem) {
				t.Errorf("problems %q, want one containing %q", got, tt.problem)
			}
		})
	}
}

func TestSelfAt(t *testing.T) {
	tests := []struct {
		listen string
		tls    bool
		want   Self
	}{
		{"127.0.0.1:43210", false, Self{Addr: "127.0.0.1:43210"}},
		{"0.0.0.0:8080", true, Self{Addr: "127.0.0.1:8080", TLS: true}},
		{"[::]:8080", false, Self{Addr: "127.0.0.1:8080"}},
		{"[::1]:9000", false, Self{Addr: "[::1]:9000"}},
		{"192.0.2.7:80", false, Self{Addr: "192.0.2.7:80"}},
	}
	for _, tt := range tests {
		t.Run(tt.listen, func(t *testing.T) {
			addr, err := net.ResolveTCPAddr("tcp", tt.listen)
			if err != nil {
				t.Fatal(err)
			}
			if got := SelfAt(addr, tt.tls); got != tt.want {
				t.Errorf("SelfAt(%s) = %+v, want %+v", tt.listen, got, tt.want)
			}
		})
	}
	if got := SelfAt(nil, true); got != (Self{}) {
		t.Errorf("SelfAt(nil) = %+v, want the zero Self", got)
	}
}

// TestRunner_SelfTargets runs self checks in a Runner told where "dashd"
// listens (a real local server): they reach it. Without Self they are down
// and say why, instead of dialling a wrong address.
func TestRunner_SelfTargets(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()
	cfg, err := parseChecks(`checks:
  - {name: h, type: http, url: "self:/healthz", json_path: status, json_equals: ok, interval: 1s}
  - {name: p, type: tcp, address: self, interval: 1s}
`)
	if err != nil {
		t.Fatal(err)
	}
	self := SelfAt(srv.Listener.Addr(), false)
	tests := []struct {
		name   string
		self   Self
		want   model.State
		reason string
	}{
		{"known address", self, model.StateUp, ""},
		{"unknown address", Self{}, model.StateDown, "listen address is not known"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRunner(RunnerOptions{Self: tt.self, MaxStartDelay: time.Millisecond})
			if err := r.Apply(cfg.Checks); (err != nil) != (tt.want == model.StateDown) {
				t.Fatalf("Apply: %v", err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- r.Run(ctx) }()
			defer func() { cancel(); <-done }()
			for _, name := range []string{"h", "p"} {
				eventually(t, 10*time.Second, name+" has a result", func() bool {
					st, _ := r.Status(name)
					return st.LastResult != model.StateUnknown
				})
				st, _ := r.Status(name)
				if st.LastResult != tt.want || !strings.Contains(st.Reason, tt.reason) {
					t.Errorf("%s: %s %q, want %s with %q", name, st.LastResult, st.Reason, tt.want, tt.reason)
				}
			}
		})
	}
}
