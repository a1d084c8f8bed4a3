// Package config loads dashd's YAML configuration strictly: unknown keys, wrong
// types, bad durations, duplicate check names, missing required keys and
// out-of-range values are all reported, every one of them, with
// FILE:LINE:COLUMN and the key path. ${VAR} expands environment variables.
//
// The check types themselves are defined by the collectors package; cmd/dashd
// passes them in as an explicit table (CheckTypes), so this package never
// imports downstream code.
//
// # Refusals
//
// Besides wrong keys and values, a file with no key at all (empty, blank or
// comment-only: what an interrupted save leaves) is refused, so a reload keeps
// the configuration in force; "checks: []" states the intent to run none.
// YAML syntax errors point at the offending token's line and column.
//
// # Secrets
//
// Credentials belong in the environment (${VAR}). Whatever this package hands
// out for display is redacted: Check.Source, and every Problem message (they
// reach the dashboard banner and /readyz). Redaction covers URL passwords and
// secret query parameters, sensitive headers, request bodies, values under
// secret-named keys at any depth, secret command-line flags, and values the
// operator tags !secret. Config.Redact, RedactURL, RedactURLs, RedactHeader
// and RedactArgv apply the same rules to text produced at run time.
package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Config is a whole, validated configuration. It is immutable after Load: live
// state belongs to the runtime types that read it.
type Config struct {
	Server    Server    `yaml:"server"`
	Storage   Storage   `yaml:"storage"`
	Collect   Collect   `yaml:"collect"`
	Dashboard Dashboard `yaml:"dashboard"`
	Log       Log       `yaml:"log"`
	Chat      Chat      `yaml:"chat"`
	Alerts    Alerts    `yaml:"alerts"`
	Auth      Auth      `yaml:"auth"`
	Checks    []Check   `yaml:"checks"`
	// Metrics configures /metrics (metrics.go).
	Metrics Metrics `yaml:"metrics"`
	// StatusPage is the public status page (statuspage.go).
	StatusPage StatusPage `yaml:"status_page"`
	// Fleet, when present, makes `dashd serve` a hub and configures
	// `dashd agent` (nil: this host only).
	Fleet *Fleet `yaml:"fleet"`

	// File is the path the configuration was read from (or a label such as
	// "config.yaml (embedded default)").
	File string `yaml:"-"`
	// Embedded is true for the shipped example dashd runs when no file
	// exists at the default path: there is no file to watch or re-read.
	Embedded bool `yaml:"-"`

	// secrets are the expanded credentials Redact scrubs from text.
	secrets []string
}

// CheckSpec is the type-specific part of a check (the http check's url, the
// tcp check's address, ...). Collectors define one struct per check type with
// yaml tags; Validate reports problems through the Scope so they carry
// positions, and may fill defaults.
type CheckSpec interface {
	Validate(s Scope)
}

// CheckTypes maps a check type name to a constructor of its (defaulted) spec.
type CheckTypes map[string]func() CheckSpec

// Options tunes Parse and Load.
type Options struct {
	// CheckTypes lists the accepted check types. Required: without it every
	// check is an unknown type.
	CheckTypes CheckTypes
	// ChannelTypes lists the accepted alert channel types (the alert
	// channel package's table). Without it every channel is an unknown
	// type.
	ChannelTypes ChannelTypes
	// LookupEnv resolves ${VAR}; os.LookupEnv when nil.
	LookupEnv func(string) (string, bool)
}

// Load reads and validates the file at path. A returned *Error lists every
// problem; other errors are I/O failures.
func Load(path string, opts Options) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config: %s does not exist", path)
		}
		return nil, fmt.Errorf("config: read %s: %w", path, err)
	}
	return Parse(path, data, opts)
}

// Parse validates data as the contents of file (used in messages).
func Parse(file string, data []byte, opts Options) (*Config, error) {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	d := &decoder{file: file}
	cfg := Default()
	cfg.File = file

	if blank(data) {
		d.problems = append(d.problems, Problem{File: file, Line: 1, Column: 1, Message: emptyFile})
		return nil, d.err()
	}
	doc, ok := d.decodeOne(data)
	if !ok {
		return nil, d.err()
	}
	root := documentRoot(doc)
	if root == nil {
		d.problems = append(d.problems, Problem{File: file, Line: 1, Column: 1, Message: emptyFile})
		return nil, d.err()
	}
	sources := checkSources(root, data)
	tagged := d.checkTags(root)
	d.expandNode(root, "", opts.LookupEnv)
	// Known before any value is quoted in a problem, so every message can
	// be scrubbed of them.
	d.secrets = collectSecrets(root, tagged)
	d.decodeStruct(root, reflectValue(cfg), "", map[string]bool{"checks": true})
	top := Scope{d: d, node: root}
	if n := top.value("checks"); n != nil && n.ShortTag() != "!!null" {
		cfg.Checks = d.decodeChecks(n, opts.CheckTypes)
		for i := range cfg.Checks {
			if i < len(sources) {
				cfg.Checks[i].Source = sources[i]
			}
		}
	}
	if n := top.Child("alerts").value("channels"); top.Has("alerts") && n != nil && n.ShortTag() != "!!null" {
		cfg.Alerts.Channels = d.decodeChannels(n, opts.ChannelTypes)
	}
	cfg.validate(top)
	if len(d.problems) > 0 {
		return nil, d.err()
	}
	cfg.secrets = d.secrets
	return cfg, nil
}

// emptyFile explains why a file without a single key is refused: it is what
// a truncated save or a full disk leaves behind, and running it would stop
// every check without a word.
const emptyFile = "the file is empty (no keys, only blanks or comments: what an interrupted save or a full disk leaves); " +
	"write `checks: []` to run with no checks"

// blank reports whether data has nothing but white space (tabs included,
// which YAML would refuse with a less helpful message) and comment lines.
func blank(data []byte) bool {
	for _, line := range strings.Split(strings.TrimPrefix(string(data), "\ufeff"), "\n") {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// documentRoot returns the top node of doc, or nil when the document has no
// content: an empty, blank or comment-only file, or a lone null.
func documentRoot(doc *yaml.Node) *yaml.Node {
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind == yaml.ScalarNode && root.ShortTag() == "!!null" {
		return nil
	}
	return root
}

// Default returns the configuration used for every key the file leaves out.
func Default() *Config {
	return &Config{
		Server:  Server{Listen: "127.0.0.1:8080"},
		Storage: Storage{Path: "./data/dashd.db", Retention: DefaultRetention(), CommitInterval: Duration(5 * time.Second)},
		Collect: Collect{
			Interval:            Duration(time.Second),
			ProcessInterval:     Duration(5 * time.Second),
			TopProcesses:        5,
			MaxConcurrentChecks: 8,
			Network:             Filter{Exclude: []string{"lo"}},
		},
		Dashboard:  Dashboard{BroadcastInterval: Duration(time.Second)},
		Log:        Log{Format: "text", Level: "info"},
		Chat:       DefaultChat(),
		Alerts:     DefaultAlerts(),
		Auth:       DefaultAuth(),
		StatusPage: DefaultStatusPage(),
	}
}

func (c *Config) validate(s Scope) {
	c.Server.validate(s.Child("server"))
	c.Storage.validate(s.Child("storage"))
	c.Collect.validate(s.Child("collect"))
	c.Dashboard.validate(s.Child("dashboard"))
	c.Log.validate(s.Child("log"))
	c.Chat.validate(s.Child("chat"))
	c.Alerts.validate(s.Child("alerts"))
	c.Auth.validate(s.Child("auth"))
	c.StatusPage.validate(s.Child("status_page"), c.Checks)
	c.Fleet.validate(s.Child("fleet"))
	c.Metrics.validate(s.Child("metrics"))
}

// Check finds a check by name.
func (c *Config) Check(name string) (Check, bool) {
	for _, ch := range c.Checks {
		if ch.Name == name {
			return ch, true
		}
	}
	return Check{}, false
}
