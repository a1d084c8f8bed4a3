package system

// Pure parsing and selection for what gopsutil does not read the way dashd
// needs (uptime from /proc/uptime, file handles, filesystem dedupe, ranking).

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// parseUptime reads the first field of /proc/uptime ("237.03 381.87").
func parseUptime(b []byte) (float64, error) {
	var fa [4][]byte
	f := fields(bytes.TrimSpace(b), fa[:0])
	if len(f) < 1 {
		return 0, fmt.Errorf("uptime: empty")
	}
	v, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0, fmt.Errorf("uptime: %w", err)
	}
	return v, nil
}

// parseFileNr reads /proc/sys/fs/file-nr ("allocated unused max").
func parseFileNr(b []byte) (FileDescriptors, error) {
	var fa [4][]byte
	f := fields(bytes.TrimSpace(b), fa[:0])
	if len(f) != 3 {
		return FileDescriptors{}, fmt.Errorf("file-nr: want 3 fields, got %d", len(f))
	}
	var v [3]uint64
	for i := range f {
		n, err := strconv.ParseUint(string(f[i]), 10, 64)
		if err != nil {
			return FileDescriptors{}, fmt.Errorf("file-nr: %w", err)
		}
		v[i] = n
	}
	open := v[0]
	if v[1] <= open { // unused has been 0 since Linux 2.6; guard older layouts
		open -= v[1]
	}
	return FileDescriptors{Open: open, Max: v[2]}, nil
}

// mount is one line of the mount table, as far as filesystem selection cares.
type mount struct {
	Device, Mount, FSType string
	Bind                  bool // a bind mount of a subtree (mountinfo root != "/")
	ReadOnly              bool // mounted "ro"
}

// selectMounts applies the mount point and type filters, then keeps one mount
// per block device: bind mounts and re-mounts of the same device report the
// same usage, so showing them twice only adds noise. Among duplicates the
// non-bind mount wins, then the shortest mount point (as df does). Devices that
// are not paths ("overlay", "server:/export") are never merged: their name
// says nothing about which filesystem is underneath. The result is sorted by
// mount point.
func selectMounts(all []mount, mounts, types filter) []mount {
	byDev := make(map[string]int, len(all))
	out := make([]mount, 0, len(all))
	for _, m := range all {
		if !types.keep(m.FSType) || !mounts.keep(m.Mount) {
			continue
		}
		if !strings.HasPrefix(m.Device, "/") {
			out = append(out, m)
			continue
		}
		i, seen := byDev[m.Device]
		if !seen {
			byDev[m.Device] = len(out)
			out = append(out, m)
			continue
		}
		if better(m, out[i]) {
			out[i] = m
		}
	}
	slices.SortFunc(out, func(a, b mount) int { return strings.Compare(a.Mount, b.Mount) })
	return out
}

// better reports whether a should represent its device instead of b.
func better(a, b mount) bool {
	if a.Bind != b.Bind {
		return !a.Bind
	}
	if len(a.Mount) != len(b.Mount) {
		return len(a.Mount) < len(b.Mount)
	}
	return a.Mount < b.Mount
}

// procSample is one process reading during a refresh; cpuOK is false for a
// process seen for the first time (no previous reading to measure against).
type procSample struct {
	Process
	cpuOK bool
}

// rankTop returns the n processes with the highest key, highest first, ties
// broken by PID so the order is stable between refreshes. Processes for which
// key reports false are left out.
func rankTop(all []procSample, n int, key func(procSample) (float64, bool)) []Process {
	if n <= 0 {
		return nil
	}
	cand := make([]procSample, 0, len(all))
	for _, p := range all {
		if _, ok := key(p); ok {
			cand = append(cand, p)
		}
	}
	slices.SortFunc(cand, func(a, b procSample) int {
		ka, _ := key(a)
		kb, _ := key(b)
		if c := cmp.Compare(kb, ka); c != 0 {
			return c
		}
		return cmp.Compare(a.PID, b.PID)
	})
	if len(cand) > n {
		cand = cand[:n]
	}
	out := make([]Process, len(cand))
	for i := range cand {
		out[i] = cand[i].Process
	}
	return out
}

// byCPU and byMemory are the rankTop keys.
func byCPU(p procSample) (float64, bool)    { return p.CPUPercent, p.cpuOK }
func byMemory(p procSample) (float64, bool) { return float64(p.RSS), true }
