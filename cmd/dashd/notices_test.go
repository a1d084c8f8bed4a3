package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// noticesFile is THIRD_PARTY_NOTICES.md seen from this package directory, which is
// the working directory of `go test`.
const noticesFile = "../../THIRD_PARTY_NOTICES.md"

// noticesGoSection is the heading of the part of noticesFile whose table lists the
// Go modules; only that part is parsed, so other sections may hold tables of their own.
const noticesGoSection = "## Go modules"

// TestThirdPartyNoticesListEveryModule keeps the notices in step with the binary:
// the licences of the Go modules we link (Apache-2.0's NOTICE files among them) must
// ship with it, and nothing else would notice a new, dropped or bumped dependency.
func TestThirdPartyNoticesListEveryModule(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("NOT TESTED: no go command on PATH (%v), so THIRD_PARTY_NOTICES.md was "+
			"NOT checked against the modules linked into dashd", err)
	}
	linked, err := linkedModules(t, goCmd)
	if err != nil {
		t.Fatal(err)
	}
	// A go list that printed nothing would make every check below pass.
	if len(linked) == 0 {
		t.Fatal("go list found no third-party module linked into dashd; the check would prove nothing")
	}
	raw, err := os.ReadFile(noticesFile)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := parseNoticeModules(string(raw))
	if err != nil {
		t.Fatalf("%s: %v", noticesFile, err)
	}
	for _, p := range noticeProblems(linked, listed) {
		t.Error(p)
	}
}

// linkedModules returns path -> version of every module with a package in the
// dashd binary, as `go list -deps` sees it for this package. GOOS is pinned to
// linux because the notices describe the Linux binary and another system links a
// different set; the rest of the environment (GOFLAGS, -mod) is the caller's.
// A module replaced in go.mod counts at the replacement's version; one replaced by
// a local directory has no version, so it maps to "" and only its path is checked.
func linkedModules(t *testing.T, goCmd string) (map[string]string, error) {
	t.Helper()
	cmd := exec.Command(goCmd, "list", "-deps", "-json=Module", "./")
	cmd.Env = append(os.Environ(), "GOOS=linux")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list -deps: %v\n%s", err, stderr.Bytes())
	}
	type module struct {
		Path, Version string
		Main          bool
		Replace       *struct{ Path, Version string }
	}
	mods := make(map[string]string)
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var pkg struct{ Module *module }
		if err := dec.Decode(&pkg); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("go list -deps: decoding its output: %w", err)
		}
		m := pkg.Module
		if m == nil || m.Main { // the standard library, or dashd itself
			continue
		}
		version := m.Version
		if m.Replace != nil {
			version = m.Replace.Version
			if version == "" {
				t.Logf("%s is replaced by the directory %s: only its presence in the notices is checked", m.Path, m.Replace.Path)
			}
		}
		mods[m.Path] = version
	}
	return mods, nil
}

// parseNoticeModules returns path -> version from the table rows of the Go modules
// section of THIRD_PARTY_NOTICES.md ("| path | version | licence |"). It rejects
// rows it cannot read rather than skip them, so a typo cannot hide a module.
func parseNoticeModules(text string) (map[string]string, error) {
	lines := strings.Split(text, "\n")
	start := slices.Index(lines, noticesGoSection)
	if start < 0 {
		return nil, fmt.Errorf("no %q heading", noticesGoSection)
	}
	mods := make(map[string]string)
	for i := start + 1; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \r")
		if strings.HasPrefix(line, "## ") {
			break // the next section
		}
		if !strings.HasPrefix(line, "|") {
			continue // prose, or an indented licence text that happens to hold a "|"
		}
		var cells []string
		for c := range strings.SplitSeq(strings.Trim(line, "|"), "|") {
			cells = append(cells, strings.Trim(strings.TrimSpace(c), "`"))
		}
		if cells[0] == "Module" || strings.Trim(line, "|-: ") == "" {
			continue // header or separator row
		}
		if len(cells) != 3 || cells[0] == "" || cells[1] == "" || cells[2] == "" {
			return nil, fmt.Errorf("line %d: want \"| module | version | licence |\", got %q", i+1, line)
		}
		if v, dup := mods[cells[0]]; dup {
			return nil, fmt.Errorf("line %d: %s listed twice (%s and %s)", i+1, cells[0], v, cells[1])
		}
		mods[cells[0]] = cells[1]
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no module rows under %q", noticesGoSection)
	}
	return mods, nil
}

// noticeProblems compares the linked modules with the listed ones and describes
// each difference, sorted so a failing run reads the same every time.
func noticeProblems(linked, listed map[string]string) []string {
	var problems []string
	for path, version := range linked {
		got, ok := listed[path]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s %s is linked into dashd but missing from %s: add its row and licence texts", path, version, noticesFile))
		case version != "" && got != version:
			problems = append(problems, fmt.Sprintf("%s is linked at %s but %s lists %s: update the row and re-read its LICENSE and NOTICE files", path, version, noticesFile, got))
		}
	}
	for path, version := range listed {
		if _, ok := linked[path]; !ok {
			problems = append(problems, fmt.Sprintf("%s %s is listed in %s but no longer linked into dashd: remove its row and texts", path, version, noticesFile))
		}
	}
	slices.Sort(problems)
	return problems
}

func TestParseNoticeModules(t *testing.T) {
	const head = "# Third-party notices\n\n## Datastar\n\n| a/b.c | v9 | MIT |\n\n"
	tests := []struct {
		name    string
		text    string
		want    map[string]string
		wantErr string
	}{
		{
			name: "table rows of the Go section only",
			text: head + noticesGoSection + "\n\nText.\n\n| Module | Version | Licence (SPDX) |\n|---|---|---|\n" +
				"| github.com/x/y | v1.2.3 | MIT |\n|  `go.z/w`  | v0.0.0-2019-abc | Apache-2.0 AND MIT |\n\n" +
				"### Texts\n\n    | indented | not | a row |\n\n## Later\n\n| e/f.g | v1 | MIT |\n",
			want: map[string]string{"github.com/x/y": "v1.2.3", "go.z/w": "v0.0.0-2019-abc"},
		},
		{
			name:    "no Go section",
			text:    head,
			wantErr: "no \"## Go modules\" heading",
		},
		{
			name:    "section without rows",
			text:    head + noticesGoSection + "\n\n| Module | Version | Licence (SPDX) |\n|---|---|---|\n",
			wantErr: "no module rows",
		},
		{
			name:    "missing licence",
			text:    noticesGoSection + "\n| github.com/x/y | v1.2.3 |  |\n",
			wantErr: "line 2: want",
		},
		{
			name:    "extra cell",
			text:    noticesGoSection + "\n| github.com/x/y | v1.2.3 | MIT | note |\n",
			wantErr: "line 2: want",
		},
		{
			name:    "listed twice",
			text:    noticesGoSection + "\n| github.com/x/y | v1 | MIT |\n| github.com/x/y | v2 | MIT |\n",
			wantErr: "line 3: github.com/x/y listed twice (v1 and v2)",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNoticeModules(tt.text)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNoticeProblems(t *testing.T) {
	tests := []struct {
		name           string
		linked, listed map[string]string
		want           []string // each problem must contain its string, in order
	}{
		{
			name:   "in step",
			linked: map[string]string{"a/b": "v1", "c/d": "v2"},
			listed: map[string]string{"a/b": "v1", "c/d": "v2"},
		},
		{
			name:   "added",
			linked: map[string]string{"a/b": "v1", "c/d": "v2"},
			listed: map[string]string{"a/b": "v1"},
			want:   []string{"c/d v2 is linked into dashd but missing"},
		},
		{
			name:   "bumped",
			linked: map[string]string{"a/b": "v1.1"},
			listed: map[string]string{"a/b": "v1.0"},
			want:   []string{"a/b is linked at v1.1 but ../../THIRD_PARTY_NOTICES.md lists v1.0"},
		},
		{
			name:   "dropped",
			linked: map[string]string{"a/b": "v1"},
			listed: map[string]string{"a/b": "v1", "z/z": "v3"},
			want:   []string{"z/z v3 is listed in ../../THIRD_PARTY_NOTICES.md but no longer linked"},
		},
		{
			name:   "replaced by a directory: path checked, version not",
			linked: map[string]string{"a/b": ""},
			listed: map[string]string{"a/b": "v1"},
		},
		{
			name:   "all at once",
			linked: map[string]string{"a/b": "v2", "n/new": "v1"},
			listed: map[string]string{"a/b": "v1", "o/old": "v1"},
			want:   []string{"a/b is linked at v2", "n/new v1 is linked", "o/old v1 is listed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := noticeProblems(tt.linked, tt.listed)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d problems %q, want %d", len(got), got, len(tt.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want it to contain %q", i, got[i], tt.want[i])
				}
			}
		})
	}
}
