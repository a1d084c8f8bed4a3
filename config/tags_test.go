package config

import (
	"strings"
	"testing"
)

func TestParse_Tags(t *testing.T) {
	tests := []struct {
		name  string
		src   string
		want  []string // problems; nil = valid
		check func(t *testing.T, cfg *Config)
	}{
		{
			name: "!secret on a scalar decodes as the plain value",
			src:  "log:\n  level: !secret debug\ncollect:\n  top_processes: !secret 7\n",
			check: func(t *testing.T, cfg *Config) {
				if cfg.Log.Level != "debug" || cfg.Collect.TopProcesses != 7 {
					t.Errorf("level=%q top=%d", cfg.Log.Level, cfg.Collect.TopProcesses)
				}
			},
		},
		{
			name: "!secret on a mapping and a list",
			src:  "collect:\n  network: !secret {exclude: !secret [lo, eth9]}\n",
			check: func(t *testing.T, cfg *Config) {
				if got := strings.Join(cfg.Collect.Network.Exclude, ","); got != "lo,eth9" {
					t.Errorf("exclude = %q", got)
				}
			},
		},
		{
			name: "!secret with a variable",
			src:  "dashboard:\n  title: !secret ${TITLE}\n",
			check: func(t *testing.T, cfg *Config) {
				if cfg.Dashboard.Title != "ops" {
					t.Errorf("title = %q", cfg.Dashboard.Title)
				}
			},
		},
		{
			name: "a misspelt tag would show the secret: refused",
			src:  "log:\n  level: !secrets info\n",
			want: []string{`c.yaml:2:10: log.level: unknown tag !secrets (did you mean !secret?)`},
		},
		{
			name: "other local tags refused",
			src:  "log:\n  level: !env info\n",
			want: []string{`c.yaml:2:10: log.level: unknown tag !env (dashd knows only !secret, which hides a value wherever dashd shows configuration)`},
		},
		{
			name: "standard tags keep their meaning",
			src:  "dashboard:\n  title: !!str 42\n",
			check: func(t *testing.T, cfg *Config) {
				if cfg.Dashboard.Title != "42" {
					t.Errorf("title = %q", cfg.Dashboard.Title)
				}
			},
		},
		{
			name: "an anchor defined twice",
			src:  "collect:\n  network:\n    include: &n [a]\n    exclude: &n [b]\n",
			want: []string{`c.yaml:4:14: collect.network.exclude: anchor &n is already defined at line 3: give each anchor its own name`},
		},
		{
			name: "anchors and aliases used once each are fine",
			src:  "collect:\n  network:\n    include: &n [eth0]\n  filesystems:\n    include: *n\n",
			check: func(t *testing.T, cfg *Config) {
				if got := strings.Join(cfg.Collect.Filesystems.Include, ","); got != "eth0" {
					t.Errorf("filesystems.include = %q", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, got := parse(t, tt.src, map[string]string{"TITLE": "ops"})
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n got: %q\nwant: %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, cfg)
			}
		})
	}
}
