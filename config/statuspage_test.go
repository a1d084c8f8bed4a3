package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// statusChecks are the checks every status page test configures: two in
// group web, one in db, one without a group.
const statusChecks = `checks:
  - {name: home, type: probe, url: http://127.0.0.1:1/, group: web}
  - {name: api, type: probe, url: http://127.0.0.1:1/, group: web}
  - {name: pg, type: probe, url: http://127.0.0.1:1/, group: db}
  - {name: cron, type: probe, url: http://127.0.0.1:1/}
`

func TestStatusPage_Defaults(t *testing.T) {
	cfg, problems := parse(t, statusChecks, nil)
	if problems != nil {
		t.Fatalf("problems: %q", problems)
	}
	want := StatusPage{Path: "/status", PastDays: 14}
	if !reflect.DeepEqual(cfg.StatusPage, want) {
		t.Errorf("status_page = %+v, want %+v (off by default)", cfg.StatusPage, want)
	}
	if got := cfg.StatusPage.PageTitle(); got != "Service status" {
		t.Errorf("PageTitle = %q", got)
	}
}

func TestStatusPage_Parse(t *testing.T) {
	src := `status_page:
  enabled: true
  title: Example Services
  path: /service-status
  description: Live state of our public services.
  footer: "Questions: ops@example.org"
  groups: [web]
  checks: [cron]
  names: {home: Website, cron: Nightly jobs}
  group_names: {web: Web}
  show_reasons: true
  past_days: 30
` + statusChecks
	cfg, problems := parse(t, src, nil)
	if problems != nil {
		t.Fatalf("problems: %q", problems)
	}
	p := cfg.StatusPage
	if !p.Enabled || p.Title != "Example Services" || p.Path != "/service-status" || !p.ShowReasons || p.PastDays != 30 ||
		p.Footer != "Questions: ops@example.org" || p.Description == "" {
		t.Errorf("status_page = %+v", p)
	}
	shows := map[string]bool{}
	for _, c := range cfg.Checks {
		shows[c.Name] = p.Shows(c.Name, c.Group)
	}
	if want := map[string]bool{"home": true, "api": true, "pg": false, "cron": true}; !reflect.DeepEqual(shows, want) {
		t.Errorf("Shows = %v, want %v", shows, want)
	}
	for _, tt := range []struct{ got, want string }{
		{p.CheckName("home"), "Website"}, {p.CheckName("api"), "api"}, {p.CheckName("cron"), "Nightly jobs"},
		{p.GroupName("web"), "Web"}, {p.GroupName("db"), "db"}, {p.GroupName(""), "Services"},
	} {
		if tt.got != tt.want {
			t.Errorf("public name %q, want %q", tt.got, tt.want)
		}
	}
}

func TestStatusPage_Errors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string // every problem, exactly, in order
	}{
		{
			name: "unknown group and check with positions",
			src:  "status_page:\n  enabled: true\n  groups: [web, webb, cache]\n  checks:\n    - hom\n",
			want: []string{
				`c.yaml:3:17: status_page.groups[1]: unknown group "webb" (did you mean "web"?)`,
				`c.yaml:3:23: status_page.groups[2]: unknown group "cache" (groups: db, web)`,
				`c.yaml:5:7: status_page.checks[0]: unknown check "hom" (did you mean "home"?)`,
			},
		},
		{
			name: "unknown key refused",
			src:  "status_page:\n  enabled: true\n  groups: [web]\n  show_reason: true\n",
			want: []string{`c.yaml:4:3: status_page.show_reason: unknown key (did you mean "show_reasons"?)`},
		},
		{
			name: "enabled without anything to show",
			src:  "status_page:\n  enabled: true\n",
			want: []string{`c.yaml:2:12: status_page.enabled: an enabled status page needs groups or checks: the ones the public may see`},
		},
		{
			name: "names of checks not shown or unknown, empty public names",
			src:  "status_page:\n  groups: [web]\n  names: {pg: Database, zzzzzz: X, home: ' '}\n  group_names: {db: Data, web: ''}\n",
			want: []string{
				`c.yaml:3:15: status_page.names.pg: check "pg" is not on the status page (add it to checks, or its group "db" to groups)`,
				`c.yaml:3:33: status_page.names.zzzzzz: unknown check "zzzzzz" (checks: api, cron, home, pg)`,
				`c.yaml:3:42: status_page.names.home: must not be empty`,
				`c.yaml:4:32: status_page.group_names.web: must not be empty`,
			},
		},
		{
			name: "path without slash",
			src:  "status_page:\n  path: status\n",
			want: []string{`c.yaml:2:9: status_page.path: must start with "/", got "status"`},
		},
		{
			name: "path of a dashd route",
			src:  "status_page:\n  path: /api/status\n",
			want: []string{`c.yaml:2:9: status_page.path: "/api/status" collides with dashd's own /api routes: choose another path such as /status`},
		},
		{
			name: "path of the dashboard",
			src:  "status_page:\n  path: /\n",
			want: []string{`c.yaml:2:9: status_page.path: "/" is the dashboard: choose a path such as /status`},
		},
		{
			name: "path with a route parameter",
			src:  "status_page:\n  path: /status/:x\n",
			want: []string{`c.yaml:2:9: status_page.path: "/status/:x": letters, digits, '-', '_', '.' and '/' only`},
		},
		{
			name: "path with a trailing slash",
			src:  "status_page:\n  path: /status/\n",
			want: []string{`c.yaml:2:9: status_page.path: "/status/": no empty segments or trailing "/"`},
		},
		{
			name: "path with dot dot",
			src:  "status_page:\n  path: /a/../login\n",
			want: []string{`c.yaml:2:9: status_page.path: "/a/../login": no "." or ".." segments`},
		},
		{
			name: "past days and long title",
			src:  "status_page:\n  past_days: 91\n  title: " + strings.Repeat("x", 101) + "\n",
			want: []string{
				`c.yaml:2:14: status_page.past_days: must be between 0 and 90, got 91`,
				`c.yaml:3:10: status_page.title: longer than 100 bytes`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, problems := parse(t, tt.src+statusChecks, nil)
			if !slices.Equal(problems, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", problems, tt.want)
			}
		})
	}
}

// TestStatusPage_RestartOnlyPath: the path is where routes are registered,
// so a reload reports it as restart-only and keeps the running one; the
// rest of the section applies live.
func TestStatusPage_RestartOnlyPath(t *testing.T) {
	base := Default()
	tests := []struct {
		name   string
		change func(c *Config)
		want   []string
	}{
		{"path", func(c *Config) { c.StatusPage.Path = "/uptime" }, []string{"status_page.path"}},
		{"the rest applies live", func(c *Config) {
			c.StatusPage.Enabled, c.StatusPage.Title, c.StatusPage.Groups = true, "x", []string{"web"}
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next := Default()
			tt.change(next)
			if got := RestartRequired(base, next); !slices.Equal(got, tt.want) {
				t.Errorf("RestartRequired = %v, want %v", got, tt.want)
			}
			kept := KeepRunning(base, next)
			if kept.StatusPage.Path != base.StatusPage.Path {
				t.Errorf("KeepRunning path = %q, want the running %q", kept.StatusPage.Path, base.StatusPage.Path)
			}
			if kept.StatusPage.Title != next.StatusPage.Title || kept.StatusPage.Enabled != next.StatusPage.Enabled {
				t.Errorf("KeepRunning dropped a live change: %+v", kept.StatusPage)
			}
		})
	}
}
