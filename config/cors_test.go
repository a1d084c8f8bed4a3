package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse_CORS(t *testing.T) {
	tests := []struct {
		name    string
		origins string
		want    []string
		problem string // substring of the one problem; empty: none
	}{
		{name: "absent", origins: "", want: nil},
		{name: "normalised", origins: `["HTTPS://Portal.Example.org", "http://127.0.0.1:3000/"]`,
			want: []string{"https://portal.example.org", "http://127.0.0.1:3000"}},
		{name: "wildcard", origins: `["*"]`, problem: "wildcards are not accepted"},
		{name: "wildcard host", origins: `["https://*.example.org"]`, problem: "wildcards are not accepted"},
		{name: "path", origins: `["https://portal.example.org/app"]`, problem: "without path"},
		{name: "scheme", origins: `["ftp://portal.example.org"]`, problem: "http or https"},
		{name: "no scheme", origins: `["portal.example.org"]`, problem: "is not an origin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := "checks: []\n"
			if tt.origins != "" {
				src = "server:\n  cors:\n    allowed_origins: " + tt.origins + "\n" + src
			}
			cfg, problems := parse(t, src, nil)
			if tt.problem != "" {
				if len(problems) != 1 || !strings.Contains(problems[0], tt.problem) || !strings.Contains(problems[0], "server.cors.allowed_origins[0]") {
					t.Fatalf("problems %q, want one at server.cors.allowed_origins[0] containing %q", problems, tt.problem)
				}
				return
			}
			if problems != nil {
				t.Fatalf("problems: %q", problems)
			}
			if !reflect.DeepEqual(cfg.Server.CORS.AllowedOrigins, tt.want) {
				t.Errorf("allowed_origins = %q, want %q", cfg.Server.CORS.AllowedOrigins, tt.want)
			}
		})
	}
}

func TestCORS_Allows(t *testing.T) {
	c := CORS{AllowedOrigins: []string{"https://portal.example.org", "http://127.0.0.1:3000"}}
	tests := []struct {
		origin string
		want   bool
	}{
		{"https://portal.example.org", true},
		{"https://PORTAL.example.org", true},
		{"http://127.0.0.1:3000", true},
		{"http://portal.example.org", false},       // other scheme
		{"https://portal.example.org:8443", false}, // other port
		{"https://evil.example.org", false},
		{"null", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := c.Allows(tt.origin); got != tt.want {
			t.Errorf("Allows(%q) = %v, want %v", tt.origin, got, tt.want)
		}
	}
	if (CORS{}).Enabled() || !c.Enabled() {
		t.Error("Enabled")
	}
}
