package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

const (
	regularTTF = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
	boldTTF    = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
)

// TestCommittedTableIsFresh regenerates the width tables from the installed
// fonts and compares them with the committed file, so a hand edit or a change
// to the generator without `go generate` is caught.
func TestCommittedTableIsFresh(t *testing.T) {
	for _, p := range []string{regularTTF, boldTTF} {
		if _, err := os.Stat(p); err != nil {
			t.Skipf("SKIPPING: %s not installed (apt-get install -y fonts-dejavu-core); cannot check widths_gen.go against the font", p)
		}
	}
	out := filepath.Join(t.TempDir(), "widths_gen.go")
	if err := run(regularTTF, boldTTF, out); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "widths_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("badge/widths_gen.go is stale or was edited by hand: run go generate ./badge/ (different DejaVu version installed?)")
	}
}

func TestReadFace_Errors(t *testing.T) {
	if _, err := readFace(filepath.Join(t.TempDir(), "missing.ttf")); err == nil {
		t.Error("missing file: want error")
	}
	bad := filepath.Join(t.TempDir(), "bad.ttf")
	if err := os.WriteFile(bad, []byte("not a font"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readFace(bad); err == nil {
		t.Error("garbage file: want error")
	}
}
