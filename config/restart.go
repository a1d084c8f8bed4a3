package config

import "reflect"

// restartOnly is the one list of what a reload cannot change: the listener
// and its limits, the database and its retention, logging, the page title,
// the status page's path (its routes) and the check runner's concurrency
// bound. Each entry reads and writes its part of a Config.
func restartOnly() []struct {
	key  string
	get  func(*Config) any
	keep func(dst, src *Config)
} {
	return []struct {
		key  string
		get  func(*Config) any
		keep func(dst, src *Config)
	}{
		{"server", func(c *Config) any { return c.Server }, func(d, s *Config) { d.Server = s.Server }},
		{"storage", func(c *Config) any { return c.Storage }, func(d, s *Config) { d.Storage = s.Storage }},
		{"log", func(c *Config) any { return c.Log }, func(d, s *Config) { d.Log = s.Log }},
		{"fleet", func(c *Config) any { return c.Fleet }, func(d, s *Config) { d.Fleet = s.Fleet }},
		{"auth.mode", func(c *Config) any { return c.Auth.Mode }, func(d, s *Config) { d.Auth.Mode = s.Auth.Mode }},
		{"auth.oidc", func(c *Config) any { return c.Auth.OIDC }, func(d, s *Config) { d.Auth.OIDC = s.Auth.OIDC }},
		{"dashboard.title", func(c *Config) any { return c.Dashboard.Title }, func(d, s *Config) { d.Dashboard.Title = s.Dashboard.Title }},
		{"metrics.textfile_directory", func(c *Config) any { return c.Metrics.TextfileDirectory },
			func(d, s *Config) { d.Metrics.TextfileDirectory = s.Metrics.TextfileDirectory }},
		{"status_page.path", func(c *Config) any { return c.StatusPage.Path }, func(d, s *Config) { d.StatusPage.Path = s.StatusPage.Path }},
		{"collect.max_concurrent_checks", func(c *Config) any { return c.Collect.MaxConcurrentChecks },
			func(d, s *Config) { d.Collect.MaxConcurrentChecks = s.Collect.MaxConcurrentChecks }},
	}
}

// RestartOnlyKeys lists the keys that take effect only when dashd
// restarts; everything else applies on reload.
func RestartOnlyKeys() []string {
	var keys []string
	for _, r := range restartOnly() {
		keys = append(keys, r.key)
	}
	return keys
}

// RestartRequired returns the restart-only keys whose values differ between
// the running configuration and a new one (nil when a reload applies all
// of it).
func RestartRequired(running, next *Config) []string {
	var keys []string
	for _, r := range restartOnly() {
		if !reflect.DeepEqual(r.get(running), r.get(next)) {
			keys = append(keys, r.key)
		}
	}
	return keys
}

// KeepRunning returns a copy of next whose restart-only values are those of
// running: the configuration in force then says what is really running.
func KeepRunning(running, next *Config) *Config {
	c := *next
	for _, r := range restartOnly() {
		r.keep(&c, running)
	}
	return &c
}
