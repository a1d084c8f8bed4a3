package golden

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

func TestDiff(t *testing.T) {
	long := strings.Repeat("a", 300)
	tests := []struct {
		name      string
		got, want string
		has       []string // substrings of the diff
		not       []string
	}{
		{"equal", "x\ny\n", "x\ny\n", nil, nil},
		{"changed line with context", "1\n2\n3\nnew\n5\n", "1\n2\n3\nold\n5\n",
			[]string{"first difference at line 4", "  2\\n\n", "  3\\n\n", "- old\\n\n", "+ new\\n\n", "- 5\\n\n"},
			[]string{"  1\\n"}},
		{"missing final newline", "x", "x\n", []string{"line 1", "- x\\n\n", "+ x\n"}, nil},
		{"got is longer", "x\ny\n", "x\n", []string{"line 2", "- (end of file)", "+ y\\n"}, nil},
		{"got is empty", "", "x\n", []string{"line 1", "+ (end of file)", "got 0 bytes in 0 lines"}, nil},
		{"long line clipped at the difference", long + "X" + long, long + "Y" + long,
			[]string{"first differs at byte 301", "+ …" + strings.Repeat("a", 60) + "X", "Y" + strings.Repeat("a", 59) + "…"},
			[]string{strings.Repeat("a", 61) + "X"}},
		{"quotes as they are, control characters escaped", "<a href=\"x\">\tb\r\n", "<a href=\"x\"> b\r\n", []string{`+ <a href="x">\tb\r\n`}, nil},
		{"bytes that are not UTF-8 escaped", "a\xffb\n", "a b\n", []string{`+ a\xffb\n`}, nil},
		{"a real U+FFFD stays", "a\uFFFDb\n", "a b\n", []string{"+ a\uFFFDb"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diff([]byte(tt.got), []byte(tt.want))
			if (d == "") != (tt.got == tt.want) {
				t.Fatalf("Diff = %q", d)
			}
			for _, s := range tt.has {
				if !strings.Contains(d, s) {
					t.Errorf("diff lacks %q:\n%s", s, d)
				}
			}
			for _, s := range tt.not {
				if strings.Contains(d, s) {
					t.Errorf("diff has %q:\n%s", s, d)
				}
			}
		})
	}
}

// recorder is a testing.TB that records failures instead of failing the
// test: Assert's own failures are what these tests check.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	fatal  bool
}

func (r *recorder) Helper() {}

func (r *recorder) Logf(string, ...any) {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	r.mu.Lock()
	r.fatal = true
	r.mu.Unlock()
	runtime.Goexit()
}

// assert runs Assert against a recorder in a goroutine of its own (Fatalf
// ends that goroutine) and returns the recorder.
func assert(t *testing.T, name string, got []byte) *recorder {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Assert(r, name, got)
	}()
	<-done
	return r
}

func TestAssert(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(filepath.Join("testdata", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("testdata", "sub", "a.txt"), []byte("one\ntwo\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(Env, "")

	tests := []struct {
		name   string
		file   string
		got    string
		errs   int
		fatal  bool
		substr string
	}{
		{"equal passes", "sub/a.txt", "one\ntwo\n", 0, false, ""},
		{"different fails with a diff", "sub/a.txt", "one\n2\n", 1, false, `+ 2\n`},
		{"the message names the file and the variable", "sub/a.txt", "", 1, false, "testdata/sub/a.txt (run with DASHD_UPDATE_GOLDEN=1"},
		{"missing file is fatal", "none.txt", "x", 1, true, "run with DASHD_UPDATE_GOLDEN=1 to create it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := assert(t, tt.file, []byte(tt.got))
			if len(r.errors) != tt.errs || r.fatal != tt.fatal {
				t.Fatalf("errors %q, fatal %v; want %d errors, fatal %v", r.errors, r.fatal, tt.errs, tt.fatal)
			}
			if tt.substr != "" && !strings.Contains(strings.Join(r.errors, "\n"), tt.substr) {
				t.Errorf("errors %q lack %q", r.errors, tt.substr)
			}
		})
	}
}

// TestAssert_Update: with the variable set, Assert writes (creating
// folders) and passes; the next run without it compares against that.
func TestAssert_Update(t *testing.T) {
	t.Chdir(t.TempDir())
	t.Setenv(Env, "1")
	if !Update() {
		t.Fatal("Update() false with the variable set")
	}
	if r := assert(t, "new/dir/b.svg", []byte("<svg/>")); len(r.errors) != 0 {
		t.Fatalf("update run failed: %q", r.errors)
	}
	b, err := os.ReadFile(filepath.Join("testdata", "new", "dir", "b.svg"))
	if err != nil || string(b) != "<svg/>" {
		t.Fatalf("file holds %q, %v", b, err)
	}
	for _, v := range []string{"", "0", "true"} {
		t.Setenv(Env, v)
		if Update() {
			t.Errorf("Update() with %s=%q", Env, v)
		}
	}
	if r := assert(t, "new/dir/b.svg", []byte("<svg/>")); len(r.errors) != 0 {
		t.Errorf("compare after update failed: %q", r.errors)
	}
	if r := assert(t, "new/dir/b.svg", []byte("<svg />")); len(r.errors) != 1 {
		t.Errorf("a changed output passed: %q", r.errors)
	}
}
