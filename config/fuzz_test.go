package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// unionSpec accepts the keys of every check type dashd ships (config cannot
// import collectors), so the shipped config.yaml parses in this package.
type unionSpec struct {
	URL          string            `yaml:"url"`
	Method       string            `yaml:"method"`
	Headers      map[string]string `yaml:"headers"`
	Body         string            `yaml:"body"`
	ExpectStatus []string          `yaml:"expect_status"`
	JSONPath     string            `yaml:"json_path"`
	JSONEquals   string            `yaml:"json_equals"`
	MaxLatency   Duration          `yaml:"max_latency"`
	Address      string            `yaml:"address"`
	Send         string            `yaml:"send"`
	Expect       []string          `yaml:"expect"`
	Query        string            `yaml:"query"`
	Record       string            `yaml:"record"`
	ProcessName  string            `yaml:"process_name"`
	MinCount     int               `yaml:"min_count"`
	Command      []string          `yaml:"command"`
	Unit         string            `yaml:"unit"`
	BodyContains string            `yaml:"body_contains"`
	Retries      int               `yaml:"retries"`
	// Options stands for any nested configuration a check type may have.
	Options map[string]any `yaml:"options"`

	// quote makes Validate report a problem quoting every value, as a
	// careless check type would: redaction must keep secrets out of them.
	quote bool
}

func (u *unionSpec) Validate(s Scope) {
	if !u.quote {
		return
	}
	for key, v := range map[string]any{
		"url": u.URL, "headers": u.Headers, "body": u.Body, "send": u.Send, "command": u.Command,
		"body_contains": u.BodyContains, "options": u.Options,
	} {
		if s.Has(key) {
			s.Errorf(key, "rejected %q (%v)", fmt.Sprint(v), v)
		}
	}
}

var unionTypes = func() CheckTypes {
	t := CheckTypes{}
	for _, name := range []string{"http", "tcp", "dns", "tls", "process", "systemd", "command"} {
		t[name] = func() CheckSpec { return &unionSpec{} }
	}
	return t
}()

// FuzzParse feeds arbitrary bytes to Parse: it must never panic, must return
// a Config or an *Error (never both, never neither), every problem with a
// position must have a line and a column of at least 1, and every check of a
// valid file must have its (redacted) Source.
func FuzzParse(f *testing.F) {
	seeds := []string{"../config.yaml"}
	for _, pattern := range []string{"testdata/*.yaml", "testdata/syntax/*.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatalf("seed %s: %v", s, err)
		}
		f.Add(data)
	}
	f.Add([]byte(""))
	f.Add([]byte("checks: []\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Add([]byte("chat:\n  max_storage: 1GiB\nserver:\n  allowed_hosts: ['*.example.org']\n"))

	vars := env(map[string]string{"TOKEN": "s3cret-token", "PORT": "8080"})
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, Options{CheckTypes: unionTypes, LookupEnv: vars})
		if (cfg == nil) == (err == nil) {
			t.Fatalf("Parse returned cfg=%v err=%v: want exactly one", cfg != nil, err)
		}
		if err == nil {
			for _, c := range cfg.Checks {
				if c.Source == "" {
					t.Fatalf("check %q has no Source", c.Name)
				}
			}
			return
		}
		var ce *Error
		if !errors.As(err, &ce) {
			t.Fatalf("Parse returned %T (%v), want *Error", err, err)
		}
		if len(ce.Problems) == 0 {
			t.Fatalf("*Error without problems")
		}
		for _, p := range ce.Problems {
			if (p.Line != 0 || p.Column != 0) && (p.Line < 1 || p.Column < 1) {
				t.Fatalf("problem at %d:%d: %s", p.Line, p.Column, p)
			}
			if p.Message == "" {
				t.Fatalf("problem without a message: %s", p)
			}
		}
	})
}
