package ui

import "testing"

// TestHostCheckIncidentsURL: an agent's names reach the Datastar
// expression %-escaped, so "$" and "@" (code there) and quotes never
// appear as themselves.
func TestHostCheckIncidentsURL(t *testing.T) {
	tests := []struct {
		name, host, check, want string
	}{
		{"plain", "web-1", "nginx", "/hosts/web-1/checks/nginx/incidents"},
		{"dots and underscores", "db.lan", "api_v2.health", "/hosts/db.lan/checks/api_v2.health/incidents"},
		{"expression code", "web-1", "$x@get('/y')", "/hosts/web-1/checks/%24x%40get%28%27%2Fy%27%29/incidents"},
		{"utf-8 and spaces", "web-1", "é b", "/hosts/web-1/checks/%C3%A9%20b/incidents"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HostCheckIncidentsURL(tt.host, tt.check); got != tt.want {
				t.Errorf("HostCheckIncidentsURL(%q, %q) = %q, want %q", tt.host, tt.check, got, tt.want)
			}
		})
	}
}

// TestIncidentCheckHref: an incident's fleet host check links to that
// host's check page, a local one to this dashd's.
func TestIncidentCheckHref(t *testing.T) {
	tests := []struct{ check, want string }{
		{"web", "/checks/web"},
		{"web@db-1", "/hosts/db-1/checks/web"},
		{"api.v2@web-1.lan", "/hosts/web-1.lan/checks/api.v2"},
		{"@x", "/checks/@x"},
		{"x@", "/checks/x@"},
	}
	for _, tt := range tests {
		if got := IncidentCheckHref(tt.check); got != tt.want {
			t.Errorf("IncidentCheckHref(%q) = %q, want %q", tt.check, got, tt.want)
		}
	}
}
