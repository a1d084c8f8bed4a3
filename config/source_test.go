package config

import (
	"strings"
	"testing"
)

// TestSource_OnlyTheCheck: "as written in config" on the check page is the
// check's own YAML. The comment block above it (the file's documentation
// of the check type) and the commented-out examples after it belong to
// the file, not to the check; comments inside the check stay.
func TestSource_OnlyTheCheck(t *testing.T) {
	src := `# Service checks: every key documented here.
checks:
  # probe: one request. Keys: url (required), retries.
  # A second line of documentation.
  - name: web
    type: probe
    # why two retries: the proxy restarts nightly
    retries: 2   # at most 5
    url: http://127.0.0.1:8080/
  # - name: example
  #   type: probe

  # ping: another type, documented above the next check.
  - name: db
    type: ping
    url: http://127.0.0.1:5432/
  # trailing example
  # - name: last
`
	cfg, problems := parse(t, src, nil)
	if problems != nil {
		t.Fatal(problems)
	}
	tests := []struct {
		check      string
		want, lack []string
	}{
		{"web", []string{"name: web", "retries: 2", "# why two retries", "# at most 5", "url: http://127.0.0.1:8080/"},
			[]string{"Service checks", "one request", "second line", "name: example", "another type"}},
		{"db", []string{"name: db", "url: http://127.0.0.1:5432/"},
			[]string{"another type", "trailing example", "name: last", "name: example"}},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			c, ok := cfg.Check(tt.check)
			if !ok {
				t.Fatal("no such check")
			}
			for _, w := range tt.want {
				if !strings.Contains(c.Source, w) {
					t.Errorf("Source lacks %q:\n%s", w, c.Source)
				}
			}
			for _, l := range tt.lack {
				if strings.Contains(c.Source, l) {
					t.Errorf("Source shows %q, which is not the check's:\n%s", l, c.Source)
				}
			}
			if strings.HasPrefix(c.Source, "#") {
				t.Errorf("Source starts with a comment:\n%s", c.Source)
			}
		})
	}
}
