// Package golden compares test output with golden files under testdata/,
// the one helper every dashd package's golden tests use (rendered HTML,
// SVG badges, SSE bytes, metric families, series names).
//
// A golden file is rewritten, instead of compared, when the environment
// variable DASHD_UPDATE_GOLDEN is 1:
//
//	DASHD_UPDATE_GOLDEN=1 go test ./badge/
//
// An environment variable rather than a -update flag: a flag has to be a
// package-level variable of every test package (defined once, or the test
// binary panics at start), and `go test ./...` with -update fails in every
// package that lacks it. The variable reaches all packages of one run alike.
package golden

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// Env is the environment variable that, set to 1, rewrites golden files.
const Env = "DASHD_UPDATE_GOLDEN"

// Update reports whether this run rewrites golden files (Env is 1). Tests
// whose fixture is too costly to build on every run rebuild it only then.
func Update() bool { return os.Getenv(Env) == "1" }

// Assert compares got with the file testdata/name (name is slash-separated
// and may name a subfolder) and fails t with the first difference when they
// differ. With Env=1 it writes got to the file instead, creating folders.
func Assert(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if Update() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		t.Logf("golden: wrote %s (%d bytes)", path, len(got))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (run with %s=1 to create it)", err, Env)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("golden: output differs from %s (run with %s=1 to accept it, then review the diff):\n%s",
			path, Env, Diff(got, want))
	}
}

// clip is how many bytes of a long line Diff shows either side of the
// first differing byte: SVG and JSON goldens are one long line.
const clip = 60

// Diff describes how got differs from want for a person: the first
// differing line with two lines of context before it, then up to three
// lines of each side ("-" want, "+" got), long lines clipped around the
// first differing byte. It returns "" when they are equal.
func Diff(got, want []byte) string {
	if bytes.Equal(got, want) {
		return ""
	}
	g, w := lines(got), lines(want)
	i := 0
	for i < len(g) && i < len(w) && g[i] == w[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (got %d bytes in %d lines, want %d bytes in %d lines)\n",
		i+1, len(got), len(g), len(want), len(w))
	for j := max(0, i-2); j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", short(g[j], 0))
	}
	col := 0
	if i < len(g) && i < len(w) {
		col = firstDiff(g[i], w[i])
		if len(g[i]) > 2*clip || len(w[i]) > 2*clip {
			fmt.Fprintf(&b, "  (line %d first differs at byte %d)\n", i+1, col+1)
		}
	}
	side(&b, "-", w, i, col)
	side(&b, "+", g, i, col)
	return b.String()
}

// side writes up to three lines of ls from i, each prefixed with mark, or
// that the side has ended.
func side(b *strings.Builder, mark string, ls []string, i, col int) {
	if i >= len(ls) {
		fmt.Fprintf(b, "%s (end of file)\n", mark)
		return
	}
	for j := i; j < len(ls) && j < i+3; j++ {
		c := 0
		if j == i {
			c = col
		}
		fmt.Fprintf(b, "%s %s\n", mark, short(ls[j], c))
	}
}

// lines splits s into lines, each with its "\n" (shown escaped, so a
// missing final newline is a visible difference of the last line).
func lines(s []byte) []string {
	if len(s) == 0 {
		return nil
	}
	ls := strings.SplitAfter(string(s), "\n")
	if ls[len(ls)-1] == "" {
		ls = ls[:len(ls)-1]
	}
	return ls
}

// firstDiff is the index of the first byte at which a and b differ.
func firstDiff(a, b string) int {
	i := 0
	for i < len(a) && i < len(b) && a[i] == b[i] {
		i++
	}
	return i
}

// short shows l with control characters escaped (so "\n", "\r" and tabs
// are visible), clipped to clip bytes either side of col when it is long.
func short(l string, col int) string {
	if len(l) <= 2*clip {
		return visible(l)
	}
	from, to := max(0, col-clip), min(len(l), col+clip)
	out := visible(l[from:to])
	if from > 0 {
		out = "…" + out
	}
	if to < len(l) {
		out += "…"
	}
	return out
}

// visible escapes control characters and bytes that are not UTF-8 as Go
// would in a string literal, and leaves everything else, quotes included,
// as it is: goldens are mostly HTML and SVG, full of quotes.
func visible(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x20 || r == 0x7f:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}
