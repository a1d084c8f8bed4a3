package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

// hookSpec stands in for an alert channel type.
type hookSpec struct {
	URL      string `yaml:"url"`
	Template string `yaml:"template"`
}

func (h *hookSpec) Validate(s Scope) {
	s.Required("url", h.URL == "")
	if strings.Contains(h.Template, "{{") && !strings.Contains(h.Template, "}}") {
		s.Errorf("template", "unclosed action")
	}
}

var testChannelTypes = ChannelTypes{"webhook": func() ChannelSpec { return &hookSpec{} }}

func parseAlerts(t *testing.T, src string) (*Config, []string) {
	t.Helper()
	cfg, err := Parse("c.yaml", []byte(src), Options{CheckTypes: testTypes, ChannelTypes: testChannelTypes, LookupEnv: env(nil)})
	if err == nil {
		return cfg, nil
	}
	var ce *Error
	if !errors.As(err, &ce) {
		t.Fatalf("Parse returned %T %v", err, err)
	}
	return nil, strings.Split(ce.Error(), "\n")
}

func TestAlerts_Valid(t *testing.T) {
	cfg, probs := parseAlerts(t, `alerts:
  external_url: https://dash.example.org
  group_wait: 0s
  channels:
    - name: ops-hook
      type: webhook
      url: http://127.0.0.1:9999/hook
      timeout: 3s
  routes:
    - checks: ["*"]
      channels: [ops-hook]
  rules:
    - name: disk
      metric: fs_used
      above: 90
      clear: 85
      for: 5m
      overrides:
        - match: /boot
          above: 95
    - name: disk-fill
      metric: fs_full_in
  maintenance:
    - name: patching
      weekdays: [sun]
      start: "02:00"
      end: "04:00"
      timezone: Europe/Berlin
`)
	if probs != nil {
		t.Fatalf("problems: %v", probs)
	}
	a := cfg.Alerts
	if len(a.Channels) != 1 || a.Channels[0].Timeout.D() != 3*time.Second || a.Channels[0].Spec.(*hookSpec).URL != "http://127.0.0.1:9999/hook" {
		t.Fatalf("channels %+v", a.Channels)
	}
	if a.GroupWait != 0 || a.RepeatInterval.D() != 4*time.Hour || !a.SendResolved {
		t.Errorf("defaults: group_wait %s, repeat %s, resolved %v", a.GroupWait, a.RepeatInterval, a.SendResolved)
	}
	if r := a.Rules[1]; r.Within.D() != 24*time.Hour || r.Window.D() != 6*time.Hour || r.Severity != SeverityWarning {
		t.Errorf("fs_full_in defaults: %+v", r)
	}
	if m := a.Maintenance[0]; !m.Recurring || !m.Days[time.Sunday] || m.Days[time.Monday] || m.Loc.String() != "Europe/Berlin" {
		t.Errorf("maintenance %+v", m)
	}
}

func TestAlerts_Errors(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string
	}{
		{"unknown channel in a route", `alerts:
  channels:
    - name: ops-hook
      type: webhook
      url: http://127.0.0.1:1/
  routes:
    - checks: ["*"]
      channels: [ops-hok]
`, []string{`c.yaml:8:18: alerts.routes[0].channels[0]: unknown channel "ops-hok" (did you mean "ops-hook"?)`}},
		{"unknown channel type and key", `alerts:
  channels:
    - name: a
      type: webhok
      urll: x
`, []string{`c.yaml:4:13: alerts.channels[0].type: unknown channel type "webhok" (did you mean "webhook"?)`}},
		{"a bad template is the type's to report", `alerts:
  channels:
    - name: a
      type: webhook
      url: http://127.0.0.1:1/
      template: "{{ .Alerts"
`, []string{`c.yaml:6:17: alerts.channels[0].template: unclosed action`}},
		{"bad time zone", `alerts:
  maintenance:
    - name: m
      start: "02:00"
      end: "03:00"
      timezone: Mars/Olympus
`, []string{`c.yaml:6:17: alerts.maintenance[0].timezone: unknown time zone "Mars/Olympus" (use an IANA name such as Europe/Berlin, or UTC)`}},
		{"rule without direction", `alerts:
  rules:
    - name: cpu
      metric: cpu
`, []string{`c.yaml:4:15: alerts.rules[0].metric: set exactly one of above: or below:`}},
		{"unknown metric", `alerts:
  rules:
    - name: cpu
      metric: cpuu
      above: 1
`, []string{`c.yaml:4:15: alerts.rules[0].metric: unknown metric "cpuu" (did you mean "cpu"?)`}},
		{"bad host glob", `alerts:
  channels:
    - {name: a, type: webhook, url: "http://127.0.0.1:1/"}
  routes:
    - hosts: ["web-*", "db-[1"]
      channels: [a]
`, []string{`c.yaml:5:24: alerts.routes[0].hosts[1]: bad glob pattern "db-[1": syntax error in pattern`}},
		{"bad route labels", `alerts:
  channels:
    - {name: a, type: webhook, url: "http://127.0.0.1:1/"}
  routes:
    - labels: {role: "[db", Env: prod, zone: ""}
      channels: [a]
`, []string{
			`c.yaml:5:22: alerts.routes[0].labels.role: bad glob pattern "[db": syntax error in pattern`,
			`c.yaml:5:34: alerts.routes[0].labels.Env: label name "Env": 1-32 lowercase letters, digits or '_', not starting with a digit`,
			`c.yaml:5:46: alerts.routes[0].labels.zone: empty pattern (use "*" for any value of a label the alert must have)`,
		}},
		{"route labels must be a mapping", `alerts:
  channels:
    - {name: a, type: webhook, url: "http://127.0.0.1:1/"}
  routes:
    - labels: [env]
      channels: [a]
`, []string{`c.yaml:5:15: alerts.routes[0].labels: expected a mapping, got a list`}},
		{"one-off window backwards", `alerts:
  maintenance:
    - name: m
      from: "2026-12-24 06:00"
      to: "2026-12-24 02:00"
`, []string{`c.yaml:5:11: alerts.maintenance[0].to: must be after from (2026-12-24 06:00)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, probs := parseAlerts(t, tt.src)
			if strings.Join(probs, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(probs, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestAlerts_RouteHostsAndLabels: hosts and labels decode as written and
// leave the other selectors alone.
func TestAlerts_RouteHostsAndLabels(t *testing.T) {
	cfg, probs := parseAlerts(t, `alerts:
  channels:
    - {name: web-team, type: webhook, url: "http://127.0.0.1:1/"}
  routes:
    - hosts: ["web-*", "hub"]
      labels: {env: prod, role: "web*"}
      severities: [critical]
      channels: [web-team]
`)
	if probs != nil {
		t.Fatalf("problems: %v", probs)
	}
	r := cfg.Alerts.Routes[0]
	if !reflect.DeepEqual(r.Hosts, []string{"web-*", "hub"}) || !reflect.DeepEqual(r.Labels, map[string]string{"env": "prod", "role": "web*"}) ||
		len(r.Checks)+len(r.Rules) != 0 || !reflect.DeepEqual(r.Severities, []string{"critical"}) {
		t.Errorf("route = %+v", r)
	}
}

func TestMaintenance_Active(t *testing.T) {
	berlin, _ := time.LoadLocation("Europe/Berlin")
	tests := []struct {
		name string
		m    Maintenance
		at   time.Time
		want bool
	}{
		{"sunday night, inside", Maintenance{Recurring: true, Days: [7]bool{time.Sunday: true}, StartMin: 120, EndMin: 240, Loc: berlin},
			time.Date(2026, 12, 6, 3, 0, 0, 0, berlin), true},
		{"sunday night, after", Maintenance{Recurring: true, Days: [7]bool{time.Sunday: true}, StartMin: 120, EndMin: 240, Loc: berlin},
			time.Date(2026, 12, 6, 4, 0, 0, 0, berlin), false},
		{"monday, not listed", Maintenance{Recurring: true, Days: [7]bool{time.Sunday: true}, StartMin: 120, EndMin: 240, Loc: berlin},
			time.Date(2026, 12, 7, 3, 0, 0, 0, berlin), false},
		{"UTC instant in the Berlin window", Maintenance{Recurring: true, Days: [7]bool{time.Sunday: true}, StartMin: 120, EndMin: 240, Loc: berlin},
			time.Date(2026, 12, 6, 2, 30, 0, 0, time.UTC), true},
		{"wraps past midnight, morning of the next day", Maintenance{Recurring: true, Days: [7]bool{time.Saturday: true}, StartMin: 23 * 60, EndMin: 60, Loc: time.UTC},
			time.Date(2026, 12, 6, 0, 30, 0, 0, time.UTC), true},
		{"wraps, morning but wrong day", Maintenance{Recurring: true, Days: [7]bool{time.Sunday: true}, StartMin: 23 * 60, EndMin: 60, Loc: time.UTC},
			time.Date(2026, 12, 6, 0, 30, 0, 0, time.UTC), false},
		{"one-off", Maintenance{FromTime: time.Date(2026, 12, 24, 2, 0, 0, 0, time.UTC), ToTime: time.Date(2026, 12, 24, 6, 0, 0, 0, time.UTC)},
			time.Date(2026, 12, 24, 5, 59, 0, 0, time.UTC), true},
		{"one-off, end excluded", Maintenance{FromTime: time.Date(2026, 12, 24, 2, 0, 0, 0, time.UTC), ToTime: time.Date(2026, 12, 24, 6, 0, 0, 0, time.UTC)},
			time.Date(2026, 12, 24, 6, 0, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		if got := tt.m.Active(tt.at); got != tt.want {
			t.Errorf("%s: Active = %v, want %v", tt.name, got, tt.want)
		}
	}
}
