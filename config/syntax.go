package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	marks "github.com/pb33f/go-yaml"
	"go.yaml.in/yaml/v3"
)

// yamlSyntaxProblem turns a yaml.v3 syntax error into a Problem at the real
// line and column of the offending token.
//
// yaml.v3 keeps the problem mark to itself: its message carries only the line
// of the context (0-based for parser errors, so an error on line 2 reads
// "line 1") and no column. The same libyaml scanner and parser, as maintained
// in github.com/pb33f/go-yaml (the yaml.v4 line), report both marks, so the
// input is parsed again with it, only after yaml.v3 has refused the file. Its
// position is used when it fails with the same message. Reader errors (bytes
// that are not UTF-8, control characters) are located directly. Otherwise the
// two ports disagree, which takes unusual input (an anchor name with '!',
// which yaml.v4 accepts; a simple key over several lines): the yaml.v3 line,
// made 1-based, is reported with column 1.
func yamlSyntaxProblem(file string, data []byte, err error) Problem {
	msg := cleanYAMLError(err)
	p := Problem{File: file, Line: 1, Column: 1, Message: "invalid YAML: " + msg}
	if le := locateSyntaxError(data); le != nil && le.Message == msg && le.Mark.Line > 0 {
		p.Line, p.Column = le.Mark.Line, max(le.Mark.Column, 1)
		p.Message = "invalid YAML: " + withContext(le)
		if !atEnd(le.Mark, data) {
			if r, ok := charAt(data, p.Line, p.Column); ok && r == '\t' && !strings.Contains(le.Message, "tab") {
				p.Message += " (a tab: YAML indents with spaces only)"
			}
			return p
		}
		// The file ended inside a construct (an unclosed quote, bracket or
		// brace): its start is the token to fix, not the line after the end.
		if le.ContextMark.Line > 0 && before(le.ContextMark, le.Mark) {
			p.Line, p.Column = le.ContextMark.Line, max(le.ContextMark.Column, 1)
			p.Message = fmt.Sprintf("invalid YAML: %s at the end of the file (%s that starts here)", le.Message, le.ContextMsg)
		} else if line, col, ok := lastToken(data); ok {
			p.Line, p.Column = line, col
			p.Message = fmt.Sprintf("invalid YAML: %s (the file ends after this)", le.Message)
		}
		return p
	}
	// Reader errors (bytes that are not UTF-8, control characters) carry no
	// line in either port: find the first such character directly.
	if line, col, r, ok := firstBadChar(data); ok && readerProblem(msg) {
		p.Line, p.Column = line, col
		if r != utf8.RuneError {
			p.Message += fmt.Sprintf(" (%U)", r)
		}
		return p
	}
	p.Line = v3Line(err.Error(), msg)
	return p
}

// v3ParserProblems are the messages of libyaml's parser (as opposed to its
// scanner): yaml.v3 prints their line 0-based.
var v3ParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %YAML directive":        true,
	"found duplicate %TAG directive":         true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// v3Line is the 1-based line yaml.v3's message points at (the line of the
// context when there is one, else of the problem).
func v3Line(full, msg string) int {
	line := 0
	if _, err := fmt.Sscanf(full, "yaml: line %d:", &line); err != nil {
		line = 0
	}
	if v3ParserProblems[msg] || line == 0 {
		line++
	}
	return line
}

// readerProblem reports whether msg is one of yaml.v3's reader errors.
func readerProblem(msg string) bool {
	for _, w := range []string{"control characters", "UTF-8", "UTF-16", "Unicode character"} {
		if strings.Contains(msg, w) {
			return true
		}
	}
	return false
}

// firstBadChar finds the first byte sequence of UTF-8 data that yaml.v3's
// reader refuses: invalid UTF-8, or a character outside YAML's printable set.
// It returns utf8.RuneError for invalid UTF-8.
func firstBadChar(data []byte) (line, col int, r rune, ok bool) {
	rest := bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(data) >= 2 && (data[0] == 0xfe && data[1] == 0xff || data[0] == 0xff && data[1] == 0xfe) {
		return 0, 0, 0, false // UTF-16: not looked into
	}
	line, col = 1, 1
	for len(rest) > 0 {
		c, size := utf8.DecodeRune(rest)
		if c == utf8.RuneError && size <= 1 || !yamlPrintable(c) {
			return line, col, c, true
		}
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
		rest = rest[size:]
	}
	return 0, 0, 0, false
}

// yamlPrintable is yaml.v3's set of accepted characters.
func yamlPrintable(r rune) bool {
	switch {
	case r == 0x09, r == 0x0A, r == 0x0D, r >= 0x20 && r <= 0x7E, r == 0x85,
		r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// locateSyntaxError parses every document of data and returns the first load
// error, or nil when there is none.
func locateSyntaxError(data []byte) (found *marks.LoadError) {
	defer func() {
		if recover() != nil { // a locator bug must never take the daemon down
			found = nil
		}
	}()
	l, err := marks.NewLoader(bytes.NewReader(data), marks.WithUniqueKeys(false))
	if err != nil {
		return nil
	}
	for range maxDocuments {
		var n marks.Node
		err := l.Load(&n)
		if err == nil {
			continue
		}
		var le *marks.LoadError
		if errors.As(err, &le) {
			return le
		}
		return nil // io.EOF, or an error without a mark
	}
	return nil
}

// maxDocuments bounds the documents the locator reads; dashd accepts one.
const maxDocuments = 16

// withContext words the problem with its context, e.g. "did not find
// expected key (while parsing a block mapping that starts at line 1, column
// 1)".
func withContext(le *marks.LoadError) string {
	if le.ContextMsg == "" || le.ContextMark.Line == 0 || le.ContextMark == le.Mark {
		return le.Message
	}
	return fmt.Sprintf("%s (%s that starts at line %d, column %d)", le.Message, le.ContextMsg, le.ContextMark.Line, max(le.ContextMark.Column, 1))
}

// atEnd reports whether m is at the end of data: nothing but spaces, line
// breaks and comment lines after it.
func atEnd(m marks.Mark, data []byte) bool {
	off, ok := offsetOf(data, m.Line, m.Column)
	if !ok {
		return true
	}
	for _, line := range strings.Split(string(data[off:]), "\n") {
		if t := strings.Trim(line, " \r"); t != "" && !strings.HasPrefix(t, "#") {
			return false
		}
	}
	return true
}

// lastToken returns the 1-based line and column (in characters, as YAML
// counts them) of the last non-blank character outside comment lines.
func lastToken(data []byte) (line, col int, ok bool) {
	lines := strings.Split(string(data), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		t := strings.TrimRight(lines[i], " \t\r")
		if t == "" || strings.HasPrefix(strings.TrimLeft(t, " \t"), "#") {
			continue
		}
		_, size := utf8.DecodeLastRuneInString(t)
		return i + 1, utf8.RuneCountInString(t[:len(t)-size]) + 1, true
	}
	return 0, 0, false
}

// offsetOf returns the byte offset of a 1-based line and column (in
// characters) of data, and false when data has no such character.
func offsetOf(data []byte, line, col int) (int, bool) {
	off := 0
	for ; line > 1; line-- {
		i := bytes.IndexByte(data[off:], '\n')
		if i < 0 {
			return 0, false
		}
		off += i + 1
	}
	for ; col > 1 && off < len(data) && data[off] != '\n'; col-- {
		_, size := utf8.DecodeRune(data[off:])
		off += size
	}
	if off >= len(data) || col > 1 {
		return 0, false
	}
	return off, true
}

// charAt returns the character at a 1-based line and column of data.
func charAt(data []byte, line, col int) (rune, bool) {
	off, ok := offsetOf(data, line, col)
	if !ok {
		return 0, false
	}
	r, _ := utf8.DecodeRune(data[off:])
	return r, true
}

func before(a, b marks.Mark) bool {
	return a.Line < b.Line || (a.Line == b.Line && a.Column < b.Column)
}

// decodeOne reads the single document of data. A syntax error anywhere in the
// stream, a second document included, is reported.
func (d *decoder) decodeOne(data []byte) (*yaml.Node, bool) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		d.problems = append(d.problems, yamlSyntaxProblem(d.file, data, err))
		return nil, false
	}
	// One file, one document: a second one after "---" would otherwise be
	// silently ignored.
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		d.add(&extra, "", "a second YAML document (after ---) is not allowed: dashd reads one")
	case !errors.Is(err, io.EOF):
		d.problems = append(d.problems, yamlSyntaxProblem(d.file, data, err))
		return nil, false
	}
	return &doc, true
}
