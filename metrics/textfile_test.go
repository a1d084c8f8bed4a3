package metrics

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTextfile: *.prom files merged into the scrape; bad files (unparsable,
// too large, timestamps, dashd's own families) left out and reported with
// node_textfile_scrape_error 1; never a failed scrape.
func TestTextfile(t *testing.T) {
	good := "# HELP apt_upgrades_pending Pending upgrades.\n# TYPE apt_upgrades_pending gauge\napt_upgrades_pending{origin=\"debian\"} 3\n"
	tests := []struct {
		name      string
		files     map[string]string
		wantError float64
		present   map[string]float64 // family -> value of its first series
		absent    []string
	}{
		{"good file", map[string]string{"apt.prom": good}, 0, map[string]float64{"apt_upgrades_pending": 3}, nil},
		{"other extensions ignored", map[string]string{"apt.prom": good, "x.txt": "garbage{"}, 0, map[string]float64{"apt_upgrades_pending": 3}, nil},
		{"unparsable file reported, good one kept", map[string]string{"apt.prom": good, "bad.prom": "bad metric{\n"}, 1,
			map[string]float64{"apt_upgrades_pending": 3}, nil},
		{"client timestamps refused", map[string]string{"ts.prom": "my_metric 1 1700000000000\n"}, 1, nil, []string{"my_metric"}},
		{"dashd's own family refused", map[string]string{"own.prom": "# TYPE node_load1 gauge\nnode_load1 99\n# TYPE dashd_fake gauge\ndashd_fake 1\n"}, 1,
			map[string]float64{"node_load1": 0.5}, []string{"dashd_fake"}},
		{"same series in two files refused once", map[string]string{"a.prom": "dup_metric 1\n", "b.prom": "dup_metric 2\n"}, 1,
			map[string]float64{"dup_metric": 1}, nil},
		{"too large", map[string]string{"big.prom": "big_metric 1\n#" + strings.Repeat("x", TextfileMaxFileBytes) + "\n"}, 1, nil, []string{"big_metric"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, body := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			e := newEnv(t, envOptions{wrap: func(s *Sources) { s.TextfileDirectory = dir }})
			_, body := e.scrape(t, "")
			fams := parseText(t, body)
			noDuplicates(t, fams)
			if m := fams.find("node_textfile_scrape_error"); m == nil || value(m) != tt.wantError {
				t.Errorf("node_textfile_scrape_error = %v, want %v", m, tt.wantError)
			}
			for name, want := range tt.present {
				f := fams[name]
				if f == nil || len(f.GetMetric()) != 1 || value(f.GetMetric()[0]) != want {
					t.Errorf("%s = %v, want one series of %v", name, f, want)
				}
			}
			for _, name := range tt.absent {
				if fams[name] != nil {
					t.Errorf("%s exported", name)
				}
			}
			if tt.wantError == 0 {
				if m := fams.find("node_textfile_mtime_seconds", "file", filepath.Join(dir, "apt.prom")); m == nil || value(m) <= 0 {
					t.Errorf("node_textfile_mtime_seconds for apt.prom = %v", m)
				}
			}
		})
	}
}

// TestTextfile_Off: without a directory there is no node_textfile_* family.
func TestTextfile_Off(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, body := e.scrape(t, "")
	if fams := parseText(t, body); fams["node_textfile_scrape_error"] != nil {
		t.Error("node_textfile_scrape_error exported without a directory")
	}
}
