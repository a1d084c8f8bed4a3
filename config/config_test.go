package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// probeSpec stands in for a collectors check type: config tests exercise the
// schema machinery, not any particular check.
type probeSpec struct {
	URL     string            `yaml:"url"`
	Expect  []int             `yaml:"expect"`
	Headers map[string]string `yaml:"headers"`
	Retries int               `yaml:"retries"`
}

func (p *probeSpec) Validate(s Scope) {
	s.Required("url", p.URL == "")
	if p.Retries > 5 {
		s.Errorf("retries", "must be at most 5, got %d", p.Retries)
	}
}

var testTypes = CheckTypes{
	"probe": func() CheckSpec { return &probeSpec{} },
	"ping":  func() CheckSpec { return &probeSpec{} },
}

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func parse(t *testing.T, src string, vars map[string]string) (*Config, []string) {
	t.Helper()
	cfg, err := Parse("c.yaml", []byte(src), Options{CheckTypes: testTypes, LookupEnv: env(vars)})
	if err == nil {
		return cfg, nil
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse returned %T %v, want *Error", err, err)
	}
	return nil, strings.Split(ce.Error(), "\n")
}

func TestParse_Errors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		env  map[string]string
		want []string // every problem, exactly, in order
	}{
		{
			name: "unknown top-level key with suggestion",
			src:  "servr:\n  listen: 127.0.0.1:1\n",
			want: []string{`c.yaml:1:1: servr: unknown key (did you mean "server"?)`},
		},
		{
			name: "unknown nested key",
			src:  "server:\n  listn: 127.0.0.1:1\n",
			want: []string{`c.yaml:2:3: server.listn: unknown key (did you mean "listen"?)`},
		},
		{
			name: "unknown check key with suggestion from common keys",
			src:  "checks:\n  - name: web\n    type: probe\n    url: http://x\n    intervall: 10s\n",
			want: []string{`c.yaml:5:5: checks[0].intervall: unknown key (did you mean "interval"?)`},
		},
		{
			name: "unknown check key with suggestion from type keys",
			src:  "checks:\n  - name: web\n    type: probe\n    ulr: http://x\n",
			want: []string{
				`c.yaml:2:5: checks[0].url: missing required key`,
				`c.yaml:4:5: checks[0].ulr: unknown key (did you mean "url"?)`,
			},
		},
		{
			name: "bad duration",
			src:  "collect:\n  interval: 5 minutes\n",
			want: []string{`c.yaml:2:13: collect.interval: invalid duration "5 minutes" (use e.g. 30s, 5m, 1h or 90d)`},
		},
		{
			name: "wrong type: string for int",
			src:  "collect:\n  top_processes: five\n",
			want: []string{`c.yaml:2:18: collect.top_processes: expected a whole number, got "five"`},
		},
		{
			name: "wrong type: mapping for string",
			src:  "server:\n  listen:\n    port: 1\n",
			want: []string{
				`c.yaml:3:5: server.listen: expected a string, got a mapping`,
			},
		},
		{
			name: "wrong type: scalar for list",
			src:  "checks:\n  - name: a\n    type: probe\n    url: u\n    expect: 200\n",
			want: []string{`c.yaml:5:13: checks[0].expect: expected a list, got "200"`},
		},
		{
			name: "quoted number is not a number",
			src:  "collect:\n  top_processes: \"5\"\n",
			want: []string{`c.yaml:2:18: collect.top_processes: expected a whole number, got "5"`},
		},
		{
			name: "duplicate check names",
			src:  "checks:\n  - name: a\n    type: probe\n    url: u\n  - name: a\n    type: probe\n    url: u\n",
			want: []string{`c.yaml:5:11: checks[1].name: duplicate check name "a" (first defined at line 2)`},
		},
		{
			name: "missing required name and type",
			src:  "checks:\n  - interval: 10s\n",
			want: []string{
				`c.yaml:2:5: checks[0].type: missing required key (one of ping, probe)`,
				`c.yaml:2:5: checks[0].name: missing required key`,
			},
		},
		{
			name: "unknown check type with suggestion",
			src:  "checks:\n  - name: a\n    type: prob\n",
			want: []string{`c.yaml:3:11: checks[0].type: unknown check type "prob" (did you mean "probe"?)`},
		},
		{
			name: "out of range values",
			src:  "collect:\n  interval: 10ms\n  top_processes: 500\nchecks:\n  - name: a\n    type: probe\n    url: u\n    fail_after: 0\n    retries: 9\n",
			want: []string{
				`c.yaml:2:13: collect.interval: must be between 100ms and 1h, got 10ms`,
				`c.yaml:3:18: collect.top_processes: must be between 0 and 100, got 500`,
				`c.yaml:8:17: checks[0].fail_after: must be between 1 and 100, got 0`,
				`c.yaml:9:14: checks[0].retries: must be at most 5, got 9`,
			},
		},
		{
			name: "timeout not below interval",
			src:  "checks:\n  - name: a\n    type: probe\n    url: u\n    interval: 5s\n    timeout: 5s\n",
			want: []string{`c.yaml:6:14: checks[0].timeout: must be less than interval (5s), got 5s`},
		},
		{
			name: "bad check name",
			src:  "checks:\n  - name: \"my web\"\n    type: probe\n    url: u\n",
			want: []string{`c.yaml:2:11: checks[0].name: "my web" must be 1-64 letters, digits, '.', '_' or '-' and start with a letter or digit (it is used in URLs)`},
		},
		{
			name: "unset environment variable",
			src:  "checks:\n  - name: a\n    type: probe\n    url: http://x/?token=${TOKEN}\n",
			want: []string{`c.yaml:4:10: checks[0].url: environment variable TOKEN is not set`},
		},
		{
			name: "bad enum",
			src:  "log:\n  format: xml\n",
			want: []string{`c.yaml:2:11: log.format: must be text or json, got "xml"`},
		},
		{
			name: "bad listen address",
			src:  "server:\n  listen: localhost\n",
			want: []string{`c.yaml:2:11: server.listen: must be host:port, e.g. 127.0.0.1:8080 (address localhost: missing port in address)`},
		},
		{
			name: "yaml syntax error",
			src:  "server:\n  listen: [\n",
			want: []string{`c.yaml:2:11: invalid YAML: did not find expected node content (the file ends after this)`},
		},
		{
			name: "duplicate yaml key",
			src:  "server:\n  listen: a:1\n  listen: b:2\n",
			want: []string{`c.yaml:3:3: server.listen: duplicate key (first defined at line 2)`},
		},
		{
			name: "leading zero is decimal, not octal",
			src:  "collect:\n  top_processes: 010\n",
			want: []string{},
		},
		{
			name: "explicit string tag is not a number",
			src:  "collect:\n  top_processes: !!str 7\n",
			want: []string{`c.yaml:2:18: collect.top_processes: expected a whole number, got "7"`},
		},
		{
			name: "zero interval is an error, not the default",
			src:  "checks:\n  - name: a\n    type: probe\n    url: u\n    interval: 0s\n",
			want: []string{`c.yaml:5:15: checks[0].interval: must be between 1s and 24h, got 0s`},
		},
		{
			name: "day count bounded",
			src:  "storage:\n  retention:\n    hour: 200000d\n",
			want: []string{`c.yaml:3:11: storage.retention.hour: invalid duration "200000d": at most 36500d`},
		},
		{
			name: "commit interval bounded",
			src:  "storage:\n  commit_interval: 2m\n",
			want: []string{`c.yaml:2:20: storage.commit_interval: must be between 0s (each sample at once) and 1m, got 2m0s`},
		},
		{
			name: "empty variable is an empty string, not the default",
			src:  "storage:\n  path: ${EMPTY}\n",
			env:  map[string]string{"EMPTY": ""},
			want: []string{`c.yaml:2:9: storage.path: must not be empty`},
		},
		{
			name: "second document",
			src:  "log:\n  level: info\n---\nlog:\n  level: debug\n",
			want: []string{`c.yaml:3:1: a second YAML document (after ---) is not allowed: dashd reads one`},
		},
		{
			name: "every problem reported, sorted by position",
			src:  "checks:\n  - name: a\n    type: probe\n    url: u\n    timout: 1s\nlog:\n  level: loud\nservr: {}\n",
			want: []string{
				`c.yaml:5:5: checks[0].timout: unknown key (did you mean "timeout"?)`,
				`c.yaml:7:10: log.level: must be debug, info, warn or error, got "loud"`,
				`c.yaml:8:1: servr: unknown key (did you mean "server"?)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parse(t, tt.src, tt.env)
			if len(tt.want) == 0 && got == nil {
				return
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestParse_DefaultsAndValues(t *testing.T) {
	src := `
server:
  listen: 0.0.0.0:${PORT}
storage:
  retention:
    raw: 2d
checks:
  - name: web
    type: probe
    url: "https://example.test/?k=${KEY}&lit=$$HOME"
    expect: [200, 204]
    headers: {X-A: b}
  - name: fast
    type: ping
    url: u
    interval: 4s
    badge: false
`
	cfg, problems := parse(t, src, map[string]string{"PORT": "9090", "KEY": "s3cret"})
	if problems != nil {
		t.Fatalf("unexpected problems: %q", problems)
	}
	if cfg.Server.Listen != "0.0.0.0:9090" {
		t.Errorf("listen = %q", cfg.Server.Listen)
	}
	if cfg.Storage.Path != "./data/dashd.db" || cfg.Storage.Retention.Raw.D() != 48*time.Hour ||
		cfg.Storage.Retention.Minute.D() != 30*24*time.Hour {
		t.Errorf("storage = %+v", cfg.Storage)
	}
	if cfg.Collect.Interval.D() != time.Second || cfg.Dashboard.BroadcastInterval.D() != time.Second {
		t.Errorf("collect/dashboard defaults wrong: %+v %+v", cfg.Collect, cfg.Dashboard)
	}
	if len(cfg.Checks) != 2 {
		t.Fatalf("checks = %d", len(cfg.Checks))
	}
	web := cfg.Checks[0]
	spec := web.Spec.(*probeSpec)
	if spec.URL != "https://example.test/?k=s3cret&lit=$HOME" {
		t.Errorf("url = %q", spec.URL)
	}
	if len(spec.Expect) != 2 || spec.Expect[1] != 204 || spec.Headers["X-A"] != "b" {
		t.Errorf("spec = %+v", spec)
	}
	if web.Interval.D() != 30*time.Second || web.Timeout.D() != 10*time.Second ||
		web.FailAfter != 2 || web.RecoverAfter != 1 || !web.Badge || web.Line != 8 {
		t.Errorf("web defaults = %+v", web)
	}
	if !strings.Contains(web.Source, "${KEY}") || strings.Contains(web.Source, "s3cret") {
		t.Errorf("Source must be the YAML as written, secrets unexpanded:\n%s", web.Source)
	}
	fast := cfg.Checks[1]
	if fast.Timeout.D() != 2*time.Second || fast.Badge {
		t.Errorf("fast = %+v (timeout default must shrink below a short interval)", fast)
	}
}

func TestExpand(t *testing.T) {
	vars := env(map[string]string{"A": "1", "B_2": "two"})
	tests := []struct {
		in, want, err string
	}{
		{in: "plain", want: "plain"},
		{in: "${A}-${B_2}", want: "1-two"},
		{in: "$$A", want: "$A"},
		{in: "^ok$", want: "^ok$"},
		{in: "cost $5", want: "cost $5"},
		{in: "${MISSING}", err: "environment variable MISSING is not set"},
		{in: "${X}${Y}", err: "environment variables X, Y are not set"},
		{in: "${A", err: `unterminated ${ in "${A" (write $$ for a literal $)`},
		{in: "${1A}", err: `invalid environment variable name "1A" in "${1A}"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := expand(tt.in, vars)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("err = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("expand(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"1h30m", 90 * time.Minute, true},
		{"90d", 90 * 24 * time.Hour, true},
		{"5 minutes", 0, false},
		{"1.5d", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseDuration(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tt.in, got, err)
		}
	}
}

// An empty file is what an interrupted save or a full disk leaves: it must be
// refused (so a reload keeps the last good configuration), while any file
// that states something, even only "checks: []", is valid.
func TestParse_EmptyFile(t *testing.T) {
	const refused = "c.yaml:1:1: " + emptyFile
	tests := []struct {
		name   string
		src    string
		want   string // the one problem; "" = valid
		checks int
	}{
		{name: "empty", src: "", want: refused},
		{name: "blank lines and spaces", src: "\n   \n\t\n", want: refused},
		{name: "comments only", src: "# dashd\n  # checks:\n#   - name: x\n", want: refused},
		{name: "document marker only", src: "---\n", want: refused},
		{name: "document markers and comments", src: "---\n# nothing\n...\n", want: refused},
		{name: "explicit null", src: "~\n", want: refused},
		{name: "byte order mark only", src: "\ufeff", want: refused},
		{name: "empty checks list", src: "checks: []\n"},
		{name: "checks key without value", src: "checks:\n"},
		{name: "server section only", src: "server: {listen: 127.0.0.1:9}\n"},
		{name: "explicit empty mapping", src: "{}\n"},
		{name: "one check", src: "checks:\n  - name: a\n    type: probe\n    url: u\n", checks: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, problems := parse(t, tt.src, nil)
			if tt.want != "" {
				if len(problems) != 1 || problems[0] != tt.want {
					t.Fatalf("problems = %q, want %q", problems, tt.want)
				}
				return
			}
			if problems != nil {
				t.Fatalf("problems: %q", problems)
			}
			if len(cfg.Checks) != tt.checks {
				t.Errorf("checks = %d, want %d", len(cfg.Checks), tt.checks)
			}
		})
	}
}

// TestLoad_EmptyFileAfterGoodOne is the reload path: a good file loads, the
// same file truncated in place is refused with the problem at FILE:1:1.
func TestLoad_EmptyFileAfterGoodOne(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	opts := Options{CheckTypes: testTypes, LookupEnv: env(nil)}
	if err := os.WriteFile(path, []byte("checks:\n  - name: a\n    type: probe\n    url: u\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if cfg, err := Load(path, opts); err != nil || len(cfg.Checks) != 1 {
		t.Fatalf("good file: %v", err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path, opts)
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("truncated file: err = %v, want *Error", err)
	}
	if len(ce.Problems) != 1 || ce.Problems[0].Line != 1 || ce.Problems[0].Column != 1 ||
		!strings.Contains(ce.Error(), path+":1:1: the file is empty") || !strings.Contains(ce.Error(), "checks: []") {
		t.Errorf("problem = %v", err)
	}
}
