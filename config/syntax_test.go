package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestParse_SyntaxErrorPositions runs broken files from testdata/syntax and
// asserts the exact line:column of the offending token (yaml.v3 alone reports
// its context line, 0-based for parser errors, and column 1).
func TestParse_SyntaxErrorPositions(t *testing.T) {
	tests := []struct {
		file string
		want string
	}{
		{"bad-indentation.yaml", "3:2: invalid YAML: did not find expected key (while parsing a block mapping that starts at line 1, column 1)"},
		{"dedented-key.yaml", "5:4: invalid YAML: did not find expected '-' indicator (while parsing a block collection that starts at line 2, column 3)"},
		{"list-dedent.yaml", "5:5: invalid YAML: did not find expected key (while parsing a block mapping that starts at line 3, column 5)"},
		{"unclosed-double-quote.yaml", "4:10: invalid YAML: found unexpected end of stream at the end of the file (while scanning a quoted scalar that starts here)"},
		{"unclosed-single-quote.yaml", "2:10: invalid YAML: found unexpected end of stream at the end of the file (while scanning a quoted scalar that starts here)"},
		{"unclosed-flow-sequence.yaml", "3:4: invalid YAML: did not find expected ',' or ']' (while parsing a flow sequence that starts at line 2, column 11)"},
		{"unclosed-flow-mapping.yaml", "2:12: invalid YAML: did not find expected ',' or '}' at the end of the file (while parsing a flow mapping that starts here)"},
		{"unclosed-bracket-at-end.yaml", "2:11: invalid YAML: did not find expected node content (the file ends after this)"},
		{"unclosed-bracket-then-comment.yaml", "2:11: invalid YAML: did not find expected node content (the file ends after this)"},
		{"tab-indentation.yaml", "2:1: invalid YAML: found character that cannot start any token (a tab: YAML indents with spaces only)"},
		{"tab-after-key.yaml", "3:1: invalid YAML: found a tab character that violates indentation (while scanning a plain scalar that starts at line 2, column 13)"},
		{"tab-line-at-end.yaml", "2:1: invalid YAML: found a tab character that violates indentation (while scanning a plain scalar that starts at line 1, column 4)"},
		{"mapping-values-not-allowed.yaml", "4:31: invalid YAML: mapping values are not allowed in this context"},
		{"non-ascii-column.yaml", "2:20: invalid YAML: mapping values are not allowed in this context"},
		{"reserved-indicator.yaml", "2:10: invalid YAML: found character that cannot start any token"},
		{"unknown-alias.yaml", "4:10: invalid YAML: unknown anchor 'nope' referenced"},
		{"duplicate-anchor.yaml", "6:5: checks[1]: anchor &c is already defined at line 2: give each anchor its own name"},
		{"second-document-broken.yaml", "4:6: invalid YAML: did not find expected node content (the file ends after this)"},
		{"control-character.yaml", "2:15: invalid YAML: control characters are not allowed (U+0001)"},
		{"invalid-utf8.yaml", "2:14: invalid YAML: invalid leading UTF-8 octet"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", "syntax", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(tt.file, data, Options{CheckTypes: testTypes, LookupEnv: env(nil)})
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if got, want := ce.Error(), tt.file+":"+tt.want; got != want {
				t.Errorf("\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

// TestParse_SyntaxErrorFallback covers input where the locator and yaml.v3
// disagree: the yaml.v3 line is reported, made 1-based, with column 1.
func TestParse_SyntaxErrorFallback(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		// yaml.v4 accepts '!' in anchor names; yaml.v3 does not.
		{"anchor name", "log:\n  level: &a!b info\n", "c.yaml:2:1: invalid YAML: did not find expected alphabetic or numeric character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := parse(t, tt.src, nil)
			if strings.Join(got, "\n") != tt.want {
				t.Errorf("\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestV3Line(t *testing.T) {
	tests := []struct {
		full, msg string
		want      int
	}{
		{"yaml: line 1: did not find expected key", "did not find expected key", 2},
		{"yaml: did not find expected key", "did not find expected key", 1},
		{"yaml: line 3: found character that cannot start any token", "found character that cannot start any token", 3},
		{"yaml: mapping values are not allowed in this context", "mapping values are not allowed in this context", 1},
	}
	for _, tt := range tests {
		if got := v3Line(tt.full, tt.msg); got != tt.want {
			t.Errorf("v3Line(%q) = %d, want %d", tt.full, got, tt.want)
		}
	}
}

func TestLastTokenAndOffsets(t *testing.T) {
	data := []byte("a: É x\n  b: [\n# end\n\n")
	line, col, ok := lastToken(data)
	if !ok || line != 2 || col != 6 {
		t.Errorf("lastToken = %d:%d %v, want 2:6", line, col, ok)
	}
	if r, ok := charAt(data, 1, 5); !ok || r != ' ' {
		t.Errorf("charAt(1:5) = %q %v, want ' ' (É is one column)", r, ok)
	}
	if r, ok := charAt(data, 1, 6); !ok || r != 'x' {
		t.Errorf("charAt(1:6) = %q %v, want 'x'", r, ok)
	}
	if _, ok := charAt(data, 9, 1); ok {
		t.Error("charAt past the end found a character")
	}
}
