package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
	"go.uber.org/goleak"
)

// watchDebounce is short so the tests are quick; the assertions wait far
// longer (the machine is shared and noisy).
const (
	watchDebounce = 50 * time.Millisecond
	fireTimeout   = 10 * time.Second
	quietPeriod   = time.Second
)

// startWatch runs watchConfig on path until the test ends, then checks that
// its goroutines are gone.
func startWatch(t *testing.T, path string) <-chan struct{} {
	t.Helper()
	leaks := goleak.IgnoreCurrent()
	ctx, cancel := context.WithCancel(context.Background())
	fired := make(chan struct{}, 16)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cw, err := newFileWatch(path, log)
	if err != nil {
		t.Fatalf("newFileWatch: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cw.Run(ctx, watchDebounce, func() { fired <- struct{}{} }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		goleak.VerifyNone(t, leaks)
	})
	return fired
}

func mustWrite(t *testing.T, path, data string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}

// configMap lays out dir as a Kubernetes ConfigMap volume does:
// config.yaml -> ..data/config.yaml, ..data -> ..<version>/.
func configMap(t *testing.T, dir, version, content string) string {
	t.Helper()
	vdir := filepath.Join(dir, ".."+version)
	if err := os.Mkdir(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(vdir, "config.yaml"), content)
	mustSymlink(t, ".."+version, filepath.Join(dir, "..data"))
	mustSymlink(t, "..data/config.yaml", filepath.Join(dir, "config.yaml"))
	return filepath.Join(dir, "config.yaml")
}

// configMapUpdate swaps the volume to a new version the way the kubelet's
// atomic writer does: new directory, ..data_tmp link, rename over ..data,
// old directory removed.
func configMapUpdate(t *testing.T, dir, from, to, content string) {
	t.Helper()
	vdir := filepath.Join(dir, ".."+to)
	if err := os.Mkdir(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(vdir, "config.yaml"), content)
	mustSymlink(t, ".."+to, filepath.Join(dir, "..data_tmp"))
	mustRename(t, filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data"))
	if err := os.RemoveAll(filepath.Join(dir, ".."+from)); err != nil {
		t.Fatal(err)
	}
}

func TestWatchConfig(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(t *testing.T, dir string) string // returns the config path
		change func(t *testing.T, dir string)
		fires  bool
	}{
		{
			name:  "plain file written in place",
			setup: plainConfig,
			change: func(t *testing.T, dir string) {
				mustWrite(t, filepath.Join(dir, "config.yaml"), "checks: [] # edited\n")
			},
			fires: true,
		},
		{
			name:  "plain file replaced by rename",
			setup: plainConfig,
			change: func(t *testing.T, dir string) {
				mustWrite(t, filepath.Join(dir, ".config.yaml.swp"), "checks: [] # new\n")
				mustRename(t, filepath.Join(dir, ".config.yaml.swp"), filepath.Join(dir, "config.yaml"))
			},
			fires: true,
		},
		{
			name:  "unrelated files in the directory",
			setup: plainConfig,
			change: func(t *testing.T, dir string) {
				other := filepath.Join(dir, "notes.txt")
				mustWrite(t, other, "a")
				mustWrite(t, other, "bb")
				mustRename(t, other, filepath.Join(dir, "notes.old"))
				if err := os.Remove(filepath.Join(dir, "notes.old")); err != nil {
					t.Fatal(err)
				}
				if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			fires: false,
		},
		{
			name: "ConfigMap ..data swap",
			setup: func(t *testing.T, dir string) string {
				return configMap(t, dir, "2024_01_01_a", "checks: []\n")
			},
			change: func(t *testing.T, dir string) {
				configMapUpdate(t, dir, "2024_01_01_a", "2024_01_01_b", "checks: [] # v2\n")
			},
			fires: true,
		},
		{
			name: "ConfigMap: unrelated files next to ..data and in the target",
			setup: func(t *testing.T, dir string) string {
				return configMap(t, dir, "2024_01_01_a", "checks: []\n")
			},
			change: func(t *testing.T, dir string) {
				mustWrite(t, filepath.Join(dir, "other.txt"), "x")
				mustWrite(t, filepath.Join(dir, "..2024_01_01_a", "other.yaml"), "y")
				if err := os.Mkdir(filepath.Join(dir, "..2024_01_01_c"), 0o755); err != nil {
					t.Fatal(err)
				}
			},
			fires: false,
		},
		{
			name: "symlink to a file in another directory, target edited",
			setup: func(t *testing.T, dir string) string {
				mustWrite(t, filepath.Join(dir, "real.yaml"), "checks: []\n")
				if err := os.Mkdir(filepath.Join(dir, "etc"), 0o755); err != nil {
					t.Fatal(err)
				}
				mustSymlink(t, filepath.Join(dir, "real.yaml"), filepath.Join(dir, "etc", "config.yaml"))
				return filepath.Join(dir, "etc", "config.yaml")
			},
			change: func(t *testing.T, dir string) { mustWrite(t, filepath.Join(dir, "real.yaml"), "checks: [] # edited\n") },
			fires:  true,
		},
		{
			name: "symlink re-pointed by rename",
			setup: func(t *testing.T, dir string) string {
				mustWrite(t, filepath.Join(dir, "v1.yaml"), "checks: []\n")
				mustWrite(t, filepath.Join(dir, "v2.yaml"), "checks: [] # v2\n")
				mustSymlink(t, "v1.yaml", filepath.Join(dir, "config.yaml"))
				return filepath.Join(dir, "config.yaml")
			},
			change: func(t *testing.T, dir string) {
				mustSymlink(t, "v2.yaml", filepath.Join(dir, "config.tmp"))
				mustRename(t, filepath.Join(dir, "config.tmp"), filepath.Join(dir, "config.yaml"))
			},
			fires: true,
		},
		{
			name: "symlinked directory elsewhere swapped",
			setup: func(t *testing.T, dir string) string {
				for _, v := range []string{"v1", "v2"} {
					if err := os.MkdirAll(filepath.Join(dir, "releases", v), 0o755); err != nil {
						t.Fatal(err)
					}
					mustWrite(t, filepath.Join(dir, "releases", v, "dashd.yaml"), "checks: [] # "+v+"\n")
				}
				mustSymlink(t, "releases/v1", filepath.Join(dir, "current"))
				if err := os.Mkdir(filepath.Join(dir, "etc"), 0o755); err != nil {
					t.Fatal(err)
				}
				mustSymlink(t, filepath.Join(dir, "current", "dashd.yaml"), filepath.Join(dir, "etc", "config.yaml"))
				return filepath.Join(dir, "etc", "config.yaml")
			},
			change: func(t *testing.T, dir string) {
				mustSymlink(t, "releases/v2", filepath.Join(dir, "current.tmp"))
				mustRename(t, filepath.Join(dir, "current.tmp"), filepath.Join(dir, "current"))
			},
			fires: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			fired := startWatch(t, tt.setup(t, dir))
			tt.change(t, dir)
			if tt.fires {
				select {
				case <-fired:
				case <-time.After(fireTimeout):
					t.Fatalf("no callback within %s", fireTimeout)
				}
				return
			}
			select {
			case <-fired:
				t.Fatal("callback for a change that is not the configuration's")
			case <-time.After(quietPeriod):
			}
		})
	}
}

func plainConfig(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "config.yaml")
	mustWrite(t, p, "checks: []\n")
	return p
}

// TestWatchConfig_FollowsTheTarget swaps a ConfigMap twice: after the first
// swap the watcher must have moved on to the new target, so an in-place
// edit there (which a ConfigMap never does, but an operator might) and a
// second swap both fire.
func TestWatchConfig_FollowsTheTarget(t *testing.T) {
	dir := t.TempDir()
	fired := startWatch(t, configMap(t, dir, "a", "checks: []\n"))
	wait := func(what string) {
		t.Helper()
		select {
		case <-fired:
		case <-time.After(fireTimeout):
			t.Fatalf("no callback after %s", what)
		}
	}
	configMapUpdate(t, dir, "a", "b", "checks: [] # b\n")
	wait("the first swap")
	mustWrite(t, filepath.Join(dir, "..b", "config.yaml"), "checks: [] # b, edited\n")
	wait("an edit of the new target")
	configMapUpdate(t, dir, "b", "c", "checks: [] # c\n")
	wait("the second swap")
}

func TestLinkDirs(t *testing.T) {
	dir := t.TempDir()
	path := configMap(t, dir, "v1", "checks: []\n")
	got := linkDirs(path)
	want := []string{dir, filepath.Join(dir, "..v1")}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("linkDirs = %q, want %q", got, want)
	}
	plain := filepath.Join(dir, "plain.yaml")
	mustWrite(t, plain, "")
	if got := linkDirs(plain); len(got) != 1 || got[0] != dir {
		t.Errorf("linkDirs(plain) = %q, want only %q", got, dir)
	}
}

// TestFileWatch_Relevant: writes to other files of the directory (a
// history file beside the config) are not looked at; the file's own
// writes and anything that may swap it are.
func TestFileWatch_Relevant(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	mustWrite(t, path, "checks: []\n")
	cw, err := newFileWatch(path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cw.w.Close() })
	other := filepath.Join(dir, "dashd.db")
	tests := []struct {
		name string
		ev   fsnotify.Event
		want bool
	}{
		{"its own write", fsnotify.Event{Name: path, Op: fsnotify.Write}, true},
		{"another file's write", fsnotify.Event{Name: other, Op: fsnotify.Write}, false},
		{"another file's chmod", fsnotify.Event{Name: other, Op: fsnotify.Chmod}, false},
		{"its own create (an atomic save)", fsnotify.Event{Name: path, Op: fsnotify.Create}, true},
	}
	for _, tt := range tests {
		if got := cw.relevant(tt.ev); got != tt.want {
			t.Errorf("%s: relevant = %v, want %v", tt.name, got, tt.want)
		}
	}
}
