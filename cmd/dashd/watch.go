package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/fsnotify/fsnotify"
)

// newFileWatch prepares a watch of the file at path (the configuration, a
// TLS certificate or key); its Run calls changed (debounced) whenever the
// file changes: it is written, created or replaced, or what the path
// resolves to changes.
//
// It watches directories, not the file: editors and config management replace
// files by rename, which ends a watch on the old inode. Events naming the file
// fire as they always did. Any other event in a watched directory fires only
// when the resolved target's identity (resolved path, device, inode, size,
// modification time) differs from the last one seen: that is how a swapped
// symlink shows, such as a Kubernetes ConfigMap volume, where config.yaml ->
// ..data/config.yaml and ..data is re-pointed at a new directory by renaming
// ..data_tmp over it. The watched directories are the file's own, the one of
// every symlink met on the way to the target, and the target's; they follow
// the target when it moves.
func newFileWatch(path string, log *slog.Logger) (*fileWatch, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("file watch: %w", err)
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("file watch: %w", err)
	}
	if err := w.Add(filepath.Dir(abs)); err != nil {
		return nil, errors.Join(fmt.Errorf("file watch: %s: %w", filepath.Dir(abs), err), w.Close())
	}
	cw := &fileWatch{w: w, abs: abs, log: log, dirs: map[string]bool{filepath.Dir(abs): true}}
	cw.last = identify(abs)
	cw.follow()
	return cw, nil
}

// fileWatch is the state of one watch; only the goroutine of Run touches
// it.
type fileWatch struct {
	w    *fsnotify.Watcher
	abs  string
	log  *slog.Logger
	dirs map[string]bool // watched directories
	last fileIdentity
}

// Run watches until ctx ends (it returns nil then) or the watcher fails.
// It owns the watcher and closes it.
func (cw *fileWatch) Run(ctx context.Context, debounce time.Duration, changed func()) (err error) {
	defer func() {
		if cerr := cw.w.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("file watch: close: %w", cerr))
		}
	}()
	timer := time.NewTimer(debounce)
	timer.Stop()
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-cw.w.Events:
			if !ok {
				return errors.New("file watch: watcher closed")
			}
			if cw.relevant(ev) {
				timer.Reset(debounce)
			}
		case err, ok := <-cw.w.Errors:
			if !ok {
				return errors.New("file watch: watcher closed")
			}
			cw.log.Warn("file watch", "file", cw.abs, "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) && cw.moved() {
				timer.Reset(debounce) // events were lost: judge by identity
			}
		case <-timer.C:
			changed()
		}
	}
}

// relevant reports whether ev may have changed the configuration.
func (cw *fileWatch) relevant(ev fsnotify.Event) bool {
	name := filepath.Clean(ev.Name)
	ours := name == cw.abs || name == cw.last.resolved
	// Writes to other files of the directory (a history file beside the
	// config gets several a second) cannot move the target: a symlink
	// swap or a rename shows as Create, Rename or Remove. Skip them
	// without the stat calls of moved.
	if !ours && ev.Op&^(fsnotify.Write|fsnotify.Chmod) == 0 {
		return false
	}
	naming := ours && ev.Op&(fsnotify.Write|fsnotify.Create|fsnotify.Rename) != 0
	return cw.moved() || naming
}

// moved reports whether the target's identity changed since last seen, and
// if so records it and re-aims the directory watches.
func (cw *fileWatch) moved() bool {
	id := identify(cw.abs)
	if id == cw.last {
		return false
	}
	cw.last = id
	cw.follow()
	return true
}

// follow watches the directories the path now goes through and stops
// watching those it no longer does (a deleted directory's watch is gone
// already; the error is expected).
func (cw *fileWatch) follow() {
	want := linkDirs(cw.abs)
	for _, d := range want {
		if cw.dirs[d] {
			continue
		}
		if err := cw.w.Add(d); err != nil {
			cw.log.Debug("file watch: directory not watched", "dir", d, "err", err)
			continue
		}
		cw.dirs[d] = true
	}
	for d := range cw.dirs {
		if !slices.Contains(want, d) {
			_ = cw.w.Remove(d)
			delete(cw.dirs, d)
		}
	}
}

// fileIdentity tells one version of the configuration file from another
// without reading it. The zero value means "cannot be resolved".
type fileIdentity struct {
	resolved string
	dev, ino uint64
	size     int64
	mtime    int64
}

func identify(abs string) fileIdentity {
	resolved, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return fileIdentity{}
	}
	fi, err := os.Stat(resolved)
	if err != nil {
		return fileIdentity{resolved: resolved}
	}
	id := fileIdentity{resolved: resolved, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino = uint64(st.Dev), st.Ino
	}
	return id
}

// maxLinkHops bounds symlink resolution, as the kernel does (ELOOP).
const maxLinkHops = 40

// linkDirs returns the directory of abs, the directory holding every symlink
// met while resolving it, and the directory of the final target.
func linkDirs(abs string) []string {
	dirs := []string{filepath.Dir(abs)}
	add := func(d string) {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	p := abs
	for range maxLinkHops {
		link, rest, ok := firstLink(p)
		if !ok {
			break
		}
		add(filepath.Dir(link))
		target, err := os.Readlink(link)
		if err != nil {
			break
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(link), target)
		}
		p = filepath.Join(target, rest)
	}
	if resolved, err := filepath.EvalSymlinks(abs); err == nil {
		add(filepath.Dir(resolved))
	}
	return dirs
}

// firstLink returns the first prefix of the clean absolute path p that is a
// symlink, and the part of p after it.
func firstLink(p string) (link, rest string, ok bool) {
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	cur := "/"
	for i, part := range parts {
		cur = filepath.Join(cur, part)
		fi, err := os.Lstat(cur)
		if err != nil {
			return "", "", false
		}
		if fi.Mode()&os.ModeSymlink != 0 {
			return cur, filepath.Join(parts[i+1:]...), true
		}
	}
	return "", "", false
}
