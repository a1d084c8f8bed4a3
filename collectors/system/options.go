package system

import (
	"log/slog"
	"path"
	"strings"
	"time"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultInterval        = time.Second
	DefaultProcessInterval = 5 * time.Second
	DefaultTopN            = 5
)

// Options configures a Sampler. The zero value is usable: New fills defaults.
//
// Filter lists follow one rule: a nil list means "use the default list", an
// empty non-nil list means "no entries" (so a config can switch a default off).
// Include lists, when non-empty, keep only what matches; exclude lists then drop
// what matches.
type Options struct {
	// Interval between host samples (default 1s). Ticks land on wall-clock
	// multiples of it counted from the Unix epoch (see Sampler.Run).
	Interval time.Duration
	// ProcessInterval between top-process refreshes (default 5s). Listing
	// processes costs far more than the rest of a tick, hence its own cadence.
	ProcessInterval time.Duration
	// TopN is how many processes each top list holds (default 5; negative disables).
	TopN int

	// MountInclude and MountExclude are mount point globs (see MatchGlob).
	// MountExclude defaults to DefaultMountExclude.
	MountInclude []string
	MountExclude []string
	// FSTypeInclude and FSTypeExclude are filesystem type globs.
	// FSTypeExclude defaults to DefaultFSTypeExclude (pseudo filesystems).
	FSTypeInclude []string
	FSTypeExclude []string

	// InterfaceInclude and InterfaceExclude are network interface name globs.
	// InterfaceExclude defaults to DefaultInterfaceExclude ("lo").
	InterfaceInclude []string
	InterfaceExclude []string

	// DiskInclude and DiskExclude are block device name globs, applied to the
	// whole disks listed in /sys/block. DiskExclude defaults to
	// DefaultDiskExclude (loop, ram and zram devices).
	DiskInclude []string
	DiskExclude []string

	// Env overrides where the host is read from, with gopsutil's keys:
	// "HOST_PROC", "HOST_SYS", "HOST_ETC", "HOST_DEV", "HOST_RUN", "HOST_ROOT".
	// It is passed to every gopsutil call as the common.EnvKey context value and
	// used for the files this package reads itself. Empty keys fall back to the
	// process environment, then to the real paths. Tests point it at fixtures.
	Env map[string]string

	// Logger receives part failures (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now). Rates use the difference between two
	// ticks' times, so tests with a fake clock get exact rates.
	Now func() time.Time
}

// Default filter lists; see Options. They are functions so that no caller can
// change the defaults of every other caller.

// DefaultMountExclude returns the mount points skipped unless configured otherwise:
// kernel trees and container runtimes' per-container mounts.
func DefaultMountExclude() []string {
	return []string{
		"/dev", "/dev/**", "/proc", "/proc/**", "/sys", "/sys/**",
		"/run/credentials/**", "/run/user/*/doc",
		"/var/lib/docker/**", "/var/lib/containers/storage/**",
		"/var/lib/kubelet/pods/**", "/snap/**",
	}
}

// DefaultFSTypeExclude returns the pseudo and memory-backed filesystem types
// skipped unless configured otherwise.
func DefaultFSTypeExclude() []string {
	return []string{
		"autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs", "debugfs",
		"devfs", "devpts", "devtmpfs", "efivarfs", "fusectl", "fuse.lxcfs",
		"fuse.gvfsd-fuse", "fuse.portal", "hugetlbfs", "iso9660", "mqueue", "nsfs",
		"proc", "procfs", "pstore", "ramfs", "rootfs", "rpc_pipefs", "securityfs",
		"selinuxfs", "squashfs", "erofs", "sysfs", "tmpfs", "tracefs", "nfsd",
		"binder", "none",
	}
}

// DefaultInterfaceExclude returns the interfaces skipped unless configured otherwise.
func DefaultInterfaceExclude() []string { return []string{"lo"} }

// DefaultDiskExclude returns the block devices skipped unless configured otherwise.
func DefaultDiskExclude() []string { return []string{"loop*", "ram*", "zram*"} }

// withDefaults returns a copy of o with every zero field defaulted.
func (o Options) withDefaults() Options {
	if o.Interval <= 0 {
		o.Interval = DefaultInterval
	}
	if o.ProcessInterval <= 0 {
		o.ProcessInterval = DefaultProcessInterval
	}
	if o.TopN == 0 {
		o.TopN = DefaultTopN
	}
	if o.MountExclude == nil {
		o.MountExclude = DefaultMountExclude()
	}
	if o.FSTypeExclude == nil {
		o.FSTypeExclude = DefaultFSTypeExclude()
	}
	if o.InterfaceExclude == nil {
		o.InterfaceExclude = DefaultInterfaceExclude()
	}
	if o.DiskExclude == nil {
		o.DiskExclude = DefaultDiskExclude()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// filter is an include/exclude pair of glob lists.
type filter struct {
	include, exclude []string
}

// keep reports whether name passes the filter.
func (f filter) keep(name string) bool {
	if len(f.include) > 0 && !matchAny(f.include, name) {
		return false
	}
	return !matchAny(f.exclude, name)
}

func matchAny(globs []string, name string) bool {
	for _, g := range globs {
		if MatchGlob(g, name) {
			return true
		}
	}
	return false
}

// MatchGlob reports whether name matches the glob pattern: path.Match syntax
// ("*" does not cross "/"), plus a trailing "/**" that matches anything below
// the prefix (not the prefix itself). A malformed pattern matches nothing.
func MatchGlob(pattern, name string) bool {
	if prefix, ok := strings.CutSuffix(pattern, "/**"); ok {
		return strings.HasPrefix(name, prefix+"/") && len(name) > len(prefix)+1
	}
	ok, err := path.Match(pattern, name)
	return err == nil && ok
}
