package procfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestFile re-reads regular files the way the collectors re-read /proc:
// content rewritten in place shows on the next read, buffers grow, a file
// that vanishes fails and is picked up again once it is back.
func TestFile(t *testing.T) {
	big := strings.Repeat("0123456789abcdef", 1000) // 16000 bytes: grows the 4 KiB buffer
	tests := []struct {
		name  string
		whole bool
	}{
		{"whole (single_open)", true},
		{"record by record", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "f")
			write := func(s string) {
				t.Helper()
				if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			f := New(path, tt.whole)
			defer f.Close()
			if _, err := f.Read(); !errors.Is(err, fs.ErrNotExist) {
				t.Fatalf("missing file: %v", err)
			}
			for i, content := range []string{"hello\n", big, "bye\n", "", big + big} {
				write(content)
				got, err := f.Read()
				if err != nil || string(got) != content {
					t.Fatalf("read %d: %d bytes (want %d), %v", i, len(got), len(content), err)
				}
			}
			fd := f.fd
			if _, err := f.Read(); err != nil || f.fd != fd {
				t.Errorf("a second read reopened the file (fd %d -> %d): %v", fd, f.fd, err)
			}
			// A descriptor that fails is replaced by a fresh one.
			f.Close()
			f.fd = 1 << 20 // not an open descriptor: pread fails with EBADF
			write("again\n")
			if got, err := f.Read(); err != nil || string(got) != "again\n" {
				t.Errorf("after a failing descriptor: %q, %v", got, err)
			}
			if err := f.Close(); err != nil || f.fd != -1 {
				t.Errorf("close: %v (fd %d)", err, f.fd)
			}
			if err := f.Close(); err != nil {
				t.Errorf("second close: %v", err)
			}
		})
	}
}

// TestFile_Proc reads real seq files, including one larger than a page
// where the kernel returns a page at a time.
func TestFile_Proc(t *testing.T) {
	for _, tt := range []struct {
		path  string
		whole bool
	}{
		{"/proc/stat", true}, {"/proc/meminfo", true}, {"/proc/self/stat", true},
		{"/proc/self/mountinfo", false}, {"/proc/net/dev", false},
	} {
		t.Run(tt.path, func(t *testing.T) {
			want, err := os.ReadFile(tt.path)
			if err != nil {
				t.Skip(err)
			}
			f := New(tt.path, tt.whole)
			defer f.Close()
			for range 2 {
				got, err := f.Read()
				if err != nil {
					t.Fatal(err)
				}
				// Counters move between reads: compare the line structure.
				if g, w := strings.Count(string(got), "\n"), strings.Count(string(want), "\n"); g != w {
					t.Errorf("%d lines, os.ReadFile gave %d", g, w)
				}
			}
		})
	}
}

// TestErrors checks the error texts the callers show (they add their own
// prefix) and that the system call's error stays reachable.
func TestErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing")
	var buf []byte
	tests := []struct {
		name string
		read func() error
		want string
		is   error
	}{
		{"File.Read missing", func() error { _, err := New(missing, true).Read(); return err },
			"open " + missing + ": ", fs.ErrNotExist},
		{"File.Read directory", func() error { _, err := New(dir, false).Read(); return err },
			"read " + dir + ": ", syscall.EISDIR},
		{"ReadOnce missing", func() error { _, err := ReadOnce(missing, &buf); return err },
			"open " + missing + ": ", fs.ErrNotExist},
		{"ReadOnce directory", func() error { _, err := ReadOnce(dir, &buf); return err },
			"read " + dir + ": ", syscall.EISDIR},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.read()
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) || !errors.Is(err, tt.is) {
				t.Errorf("error %v, want prefix %q wrapping %v", err, tt.want, tt.is)
			}
		})
	}
}

// TestReadOnce reads files of several sizes with one shared buffer, as
// selfstat.ReadProc reads stat then statm, and leaves no descriptor open.
func TestReadOnce(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
	}{
		{"small", "42 (a) S 1 2 3\n"},
		{"big", strings.Repeat("y", 9000)},
		{"small after big", "1 2 3 4 5 6 7\n"},
		{"empty", ""},
	}
	fds := func() int {
		es, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skip(err)
		}
		return len(es)
	}
	before := fds()
	var buf []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if got, err := ReadOnce(path, &buf); err != nil || string(got) != tt.content {
				t.Errorf("%d bytes (want %d), %v", len(got), len(tt.content), err)
			}
		})
	}
	if after := fds(); after != before {
		t.Errorf("%d descriptors open before, %d after", before, after)
	}
}

// TestOpenAndRead reads files of several sizes through OpenAndRead, then
// re-reads the returned descriptor in place with PreadWhole, as a process
// refresh does with a kept /proc/PID/stat.
func TestOpenAndRead(t *testing.T) {
	dir := t.TempDir()
	big := strings.Repeat("x", 9000) // grows the 4 KiB buffer
	tests := []struct {
		name, first, then string
	}{
		{"small", "42 (a) S\n", "42 (a) R\n"},
		{"big", big, big + "y"},
		{"small after big", "1 (b) S\n", ""},
	}
	var buf []byte
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, tt.name)
			if err := os.WriteFile(path, []byte(tt.first), 0o600); err != nil {
				t.Fatal(err)
			}
			got, fd, err := OpenAndRead([]byte(path), &buf)
			if err != nil || string(got) != tt.first {
				t.Fatalf("OpenAndRead: %d bytes (want %d), %v", len(got), len(tt.first), err)
			}
			defer syscall.Close(fd)
			if err := os.WriteFile(path, []byte(tt.then), 0o600); err != nil { // truncates: same inode
				t.Fatal(err)
			}
			if got, err := PreadWhole(fd, &buf); err != nil || string(got) != tt.then {
				t.Errorf("pread again: %d bytes (want %d), %v", len(got), len(tt.then), err)
			}
		})
	}
	if _, fd, err := OpenAndRead([]byte(filepath.Join(dir, "missing")), &buf); !errors.Is(err, fs.ErrNotExist) || fd != -1 {
		t.Errorf("missing: fd %d, %v", fd, err)
	}
	if _, fd, err := OpenAndRead(nil, &buf); err == nil || fd != -1 {
		t.Errorf("empty path: fd %d, %v", fd, err)
	}
	if _, fd, err := OpenAndRead([]byte(dir), &buf); !errors.Is(err, syscall.EISDIR) || fd != -1 {
		t.Errorf("directory: fd %d, %v", fd, err)
	}
}

// TestOpenRead opens a directory (as listing /proc does) and fails on a
// missing path with the bare system call error.
func TestOpenRead(t *testing.T) {
	dir := t.TempDir()
	fd, err := OpenRead(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Close(fd); err != nil {
		t.Error(err)
	}
	if fd, err := OpenRead(filepath.Join(dir, "missing")); !errors.Is(err, syscall.ENOENT) || fd != -1 {
		t.Errorf("missing: fd %d, %v", fd, err)
	}
}

func TestParseUint(t *testing.T) {
	tests := []struct {
		in   string
		want uint64
		ok   bool
	}{
		{"0", 0, true}, {"42", 42, true}, {"007", 7, true},
		{"18446744073709551615", 1<<64 - 1, true}, {"18446744073709551616", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {"12a", 0, false}, {" 1", 0, false}, {"1\n", 0, false},
	}
	for _, tt := range tests {
		if got, ok := ParseUint([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("ParseUint(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
