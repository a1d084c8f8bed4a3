package collectors

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/dashd/dashd/config"
)

func TestExamples_Parse(t *testing.T) {
	data, err := os.ReadFile("testdata/examples.yaml")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("testdata/examples.yaml", data, config.Options{CheckTypes: Types(), LookupEnv: noEnv})
	if err != nil {
		t.Fatalf("examples.yaml has problems:\n%v", err)
	}
	seen := map[string]bool{}
	for _, c := range cfg.Checks {
		seen[c.Type] = true
		if _, err := New(c); err != nil {
			t.Errorf("New(%s): %v", c.Name, err)
		}
	}
	for typ := range Types() {
		if !seen[typ] {
			t.Errorf("examples.yaml has no %s check", typ)
		}
	}
}

// A type-specific key named like a common key would never be decoded: config
// hands common keys to config.Check.
func TestTypes_KeysDoNotShadowCommonKeys(t *testing.T) {
	common := config.KeysOf(config.Check{})
	for typ, mk := range Types() {
		for _, k := range config.KeysOf(mk()) {
			if slices.Contains(common, k) {
				t.Errorf("type %s: key %q collides with a common check key", typ, k)
			}
		}
		if _, ok := mk().(spec); !ok {
			t.Errorf("type %s: spec %T cannot build a check", typ, mk())
		}
	}
}

func TestTypes_Defaults(t *testing.T) {
	_, err := parseChecks(checkYAML("http", "url: http://x") + checkYAML("dns", "query: x")[len("checks:\n"):] +
		"  - {name: l, type: tls, address: 'x:443'}\n  - {name: p, type: process, process_name: x}\n")
	if err == nil {
		t.Fatal("duplicate name t should be reported")
	}
	cfg, err := parseChecks(`checks:
  - {name: h, type: http, url: "http://x"}
  - {name: d, type: dns, query: x}
  - {name: l, type: tls, address: "x:443"}
  - {name: p, type: process, process_name: x}
  - {name: c, type: command, command: [true]}
`)
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Checks[0].Spec.(*HTTPSpec)
	if h.Method != "GET" || !slices.Equal(h.ExpectStatus, []string{"200-299"}) || h.CertWarnDays != 14 || h.InsecureSkipVerify {
		t.Errorf("http defaults = %+v", h)
	}
	if d := cfg.Checks[1].Spec.(*DNSSpec); d.Record != "A" {
		t.Errorf("dns defaults = %+v", d)
	}
	if l := cfg.Checks[2].Spec.(*TLSSpec); l.WarnDays != 14 || l.CriticalDays != 3 {
		t.Errorf("tls defaults = %+v", l)
	}
	if p := cfg.Checks[3].Spec.(*ProcessSpec); p.MinCount != 1 || p.MaxCount != -1 {
		t.Errorf("process defaults = %+v", p)
	}
	if c := cfg.Checks[4].Spec.(*CommandSpec); c.ExitCode != 0 || !slices.Equal(c.Command.Args, []string{"true"}) {
		t.Errorf("command defaults = %+v", c)
	}
}

func TestValidate_Errors(t *testing.T) {
	tests := []struct {
		name string
		typ  string
		body string
		want []string // every problem, exactly, in order
	}{
		{"http url missing", "http", "method: GET", []string{
			`c.yaml:2:5: checks[0].url: missing required key`}},
		{"http bad url", "http", "url: ftp://x", []string{
			`c.yaml:4:10: checks[0].url: must be an http:// or https:// URL with a host, got "ftp://x"`}},
		{"http bad method", "http", "url: http://x\nmethod: FETCH", []string{
			`c.yaml:5:13: checks[0].method: must be one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, got "FETCH"`}},
		{"http bad status range", "http", "url: http://x\nexpect_status: [200, \"300-2\", 700]", []string{
			`c.yaml:5:26: checks[0].expect_status[1]: "300-2" is not a status code (100-599) or range such as "200-299"`,
			`c.yaml:5:35: checks[0].expect_status[2]: "700" is not a status code (100-599) or range such as "200-299"`}},
		{"http status not a list", "http", "url: http://x\nexpect_status: 200", []string{
			`c.yaml:5:20: checks[0].expect_status: expected a list, got "200"`}},
		{"http bad regex and json", "http", "url: http://x\nbody_regex: '(['\njson_equals: ok", []string{
			"c.yaml:5:17: checks[0].body_regex: invalid regular expression: error parsing regexp: missing closing ]: `[`",
			`c.yaml:6:18: checks[0].json_equals: needs json_path to say which value to compare`}},
		{"http bad json path", "http", "url: http://x\njson_path: a..b", []string{
			`c.yaml:5:16: checks[0].json_path: "a..b" is not a path such as "status", "checks.db" or "items[0].name"`}},
		{"http missing ca_file", "http", "url: https://x\nca_file: /nonexistent/ca.pem", []string{
			`c.yaml:5:14: checks[0].ca_file: cannot read /nonexistent/ca.pem: no such file or directory`}},
		{"http typo key", "http", "url: http://x\nexpect_staus: [200]", []string{
			`c.yaml:5:5: checks[0].expect_staus: unknown key (did you mean "expect_status"?)`}},
		{"tcp address missing", "tcp", "send: hi", []string{
			`c.yaml:2:5: checks[0].address: missing required key`}},
		{"tcp address without port", "tcp", "address: localhost", []string{
			`c.yaml:4:14: checks[0].address: must be host:port, e.g. example.com:443, got "localhost"`}},
		{"tcp bad port", "tcp", "address: localhost:99999", []string{
			`c.yaml:4:14: checks[0].address: port "99999" must be a number from 1 to 65535`}},
		{"dns name is the check name", "dns", "record: A", []string{
			`c.yaml:2:5: checks[0].query: missing required key`}},
		{"dns bad record and expect", "dns", "query: x\nrecord: SRV\nexpect: [\"\"]", []string{
			`c.yaml:5:13: checks[0].record: must be one of A, AAAA, CNAME, MX, TXT, got "SRV"`,
			`c.yaml:6:14: checks[0].expect[0]: must not be empty`}},
		{"dns expect not an address", "dns", "query: x\nrecord: AAAA\nexpect: [127.0.0.1]\nserver: 'a b'", []string{
			`c.yaml:6:14: checks[0].expect[0]: "127.0.0.1" is not an IPv6 address`,
			`c.yaml:7:13: checks[0].server: must be host or host:port, got "a b"`}},
		{"tls days", "tls", "address: x:443\nwarn_days: 2\ncritical_days: 5", []string{
			`c.yaml:6:20: checks[0].critical_days: must not be more than warn_days (2), got 5`}},
		{"tls negative", "tls", "address: x:443\nwarn_days: -1", []string{
			`c.yaml:5:16: checks[0].warn_days: must be between 0 and 3650, got -1`}},
		{"process nothing to match", "process", "min_count: 1", []string{
			`c.yaml:2:5: checks[0].process_name: missing required key (one of process_name, cmdline, pidfile)`}},
		{"process pidfile and name", "process", "pidfile: /run/x.pid\nprocess_name: x", []string{
			`c.yaml:4:14: checks[0].pidfile: cannot be combined with process_name or cmdline`}},
		{"process counts and regex", "process", "cmdline: 'a(b'\nmin_count: 3\nmax_count: 2", []string{
			"c.yaml:4:14: checks[0].cmdline: invalid regular expression: error parsing regexp: missing closing ): `a(b`",
			`c.yaml:6:16: checks[0].max_count: must not be less than min_count (3), got 2`}},
		{"systemd unit missing", "systemd", "", []string{
			`c.yaml:2:5: checks[0].unit: missing required key`}},
		{"systemd bad unit", "systemd", "unit: 'nginx service'", []string{
			`c.yaml:4:11: checks[0].unit: "nginx service" is not a unit name such as nginx.service`}},
		{"command missing", "command", "exit_code: 1", []string{
			`c.yaml:2:5: checks[0].command: missing required key`}},
		{"command is a shell string", "command", "command: 'curl -f http://x | grep ok'", []string{
			`c.yaml:4:14: checks[0].command: must be a list (program, then arguments), never a shell string: write [prog, arg, ...], or [sh, -c, "..."] if a shell is really needed`}},
		{"command not strings", "command", "command: [{a: b}]", []string{
			`c.yaml:4:14: checks[0].command: cannot unmarshal !!map into string`,
			`c.yaml:4:14: checks[0].command: must not be empty`}},
		{"command shell line in a list", "command", "command: ['curl -f http://x | grep ok']", []string{
			`c.yaml:4:15: checks[0].command[0]: looks like a shell command line: list the program and its arguments separately, e.g. [curl, -fsS, http://x], or use [sh, -c, "..."]`}},
		{"command bad exit code and regex", "command", "command: [x]\nexit_code: 300\noutput_regex: '*'", []string{
			`c.yaml:5:16: checks[0].exit_code: must be between 0 and 255, got 300`,
			"c.yaml:6:19: checks[0].output_regex: invalid regular expression: error parsing regexp: missing argument to repetition operator: `*`"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, checkYAML(tt.typ, tt.body))
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}
