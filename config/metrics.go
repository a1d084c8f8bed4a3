package config

import "path/filepath"

// Metrics configures /metrics beyond what dashd measures itself.
//
// # Textfile collector
//
// TextfileDirectory, when set, is read at every scrape like
// node_exporter's --collector.textfile.directory: its *.prom files (at
// most 256, each at most 1 MiB) are validated with the Prometheus text
// parser and merged into /metrics. A bad file is left out and reported
// (node_textfile_scrape_error 1, and the log); a family that is dashd's
// own is refused. Off by default. The directory is read at start: a
// change applies on restart (RestartRequired).
type Metrics struct {
	// TextfileDirectory is an absolute path (empty: off).
	TextfileDirectory string `yaml:"textfile_directory"`
}

func (m *Metrics) validate(s Scope) {
	if m.TextfileDirectory != "" && !filepath.IsAbs(m.TextfileDirectory) {
		s.Errorf("textfile_directory", "%q is not an absolute path", m.TextfileDirectory)
	}
	if m.TextfileDirectory != "" {
		m.TextfileDirectory = filepath.Clean(m.TextfileDirectory)
	}
}
