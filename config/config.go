// Package config loads dashd's YAML configuration strictly: unknown keys, wrong
// types, bad durations, duplicate check names, missing required keys and
// out-of-range values are all reported, every one of them, with
// FILE:LINE:COLUMN and the key path. ${VAR} expands environment variables.
//
// The check types themselves are defined by the collectors package; cmd/dashd
// passes them in as an explicit table (CheckTypes), so this package never
// imports downstream code.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
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
	Checks    []Check   `yaml:"checks"`

	// File is the path the configuration was read from (or a label such as
	// "config.yaml (embedded default)").
	File string `yaml:"-"`
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

	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		line, col, msg := yamlSyntaxPosition(err)
		d.problems = append(d.problems, Problem{File: file, Line: line, Column: col, Message: msg})
		return nil, &Error{Problems: d.problems}
	}
	// One file, one document: a second one after "---" would otherwise be
	// silently ignored.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		d.add(&extra, "", "a second YAML document (after ---) is not allowed: dashd reads one")
	}
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		sources := checkSources(root)
		d.expandNode(root, "", opts.LookupEnv)
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
		cfg.validate(top)
	}
	if len(d.problems) > 0 {
		e := &Error{Problems: d.problems}
		e.sort()
		return nil, e
	}
	return cfg, nil
}

// Default returns the configuration used for every key the file leaves out.
func Default() *Config {
	return &Config{
		Server:  Server{Listen: "127.0.0.1:8080"},
		Storage: Storage{Path: "./data/dashd.db", Retention: DefaultRetention()},
		Collect: Collect{
			Interval:            Duration(time.Second),
			ProcessInterval:     Duration(5 * time.Second),
			TopProcesses:        5,
			MaxConcurrentChecks: 8,
			Network:             Filter{Exclude: []string{"lo"}},
		},
		Dashboard: Dashboard{BroadcastInterval: Duration(time.Second)},
		Log:       Log{Format: "text", Level: "info"},
	}
}

func (c *Config) validate(s Scope) {
	c.Server.validate(s.Child("server"))
	c.Storage.validate(s.Child("storage"))
	c.Collect.validate(s.Child("collect"))
	c.Dashboard.validate(s.Child("dashboard"))
	c.Log.validate(s.Child("log"))
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

// checkSources renders each item of the checks list back to YAML before
// environment expansion.
func checkSources(root *yaml.Node) []string {
	list := Scope{node: root}.value("checks")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	out := make([]string, len(list.Content))
	for i, item := range list.Content {
		if b, err := yaml.Marshal(item); err == nil {
			out[i] = string(b)
		}
	}
	return out
}

// yamlSyntaxPosition pulls "line N" out of a yaml.v3 syntax error; yaml.v3 does
// not report columns for syntax errors, so the column is 1.
func yamlSyntaxPosition(err error) (int, int, string) {
	msg := err.Error()
	var line int
	if _, scanErr := fmt.Sscanf(msg, "yaml: line %d:", &line); scanErr == nil {
		return line, 1, "invalid YAML: " + cleanYAMLError(err)
	}
	return 1, 1, "invalid YAML: " + cleanYAMLError(err)
}
