package system

import (
	"reflect"
	"testing"
)

func TestParseUptime(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    float64
		wantErr bool
	}{
		{"normal", "237.03 381.87\n", 237.03, false},
		{"one field", "5.5", 5.5, false},
		{"empty", "", 0, true},
		{"garbage", "abc 1", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseUptime([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("= %v, %v; want %v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseFileNr(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    FileDescriptors
		wantErr bool
	}{
		{"modern kernel", "448\t0\t2466193\n", FileDescriptors{Open: 448, Max: 2466193}, false},
		{"old kernel with unused handles", "1000 200 50000", FileDescriptors{Open: 800, Max: 50000}, false},
		{"two fields", "1 2", FileDescriptors{}, true},
		{"not a number", "1 x 3", FileDescriptors{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFileNr([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("= %+v, %v; want %+v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSelectMounts(t *testing.T) {
	def := Options{}.withDefaults()
	defMounts, defTypes := filter{nil, def.MountExclude}, filter{nil, def.FSTypeExclude}
	mounts := func(ms []mount) []string {
		out := []string{}
		for _, m := range ms {
			out = append(out, m.Mount)
		}
		return out
	}
	tests := []struct {
		name     string
		in       []mount
		mnt, typ filter
		want     []string
	}{
		{"pseudo filesystems dropped", []mount{
			{"/dev/sda1", "/", "ext4", false, false}, {"proc", "/proc", "proc", false, false}, {"tmpfs", "/run", "tmpfs", false, false},
			{"cgroup2", "/sys/fs/cgroup", "cgroup2", false, false}, {"overlay", "/var/lib/docker/overlay2/x/merged", "overlay", false, false},
		}, defMounts, defTypes, []string{"/"}},
		{"container root on overlay kept", []mount{
			{"overlay", "/", "overlay", false, false}, {"/dev/vda1", "/etc/hosts", "ext4", true, false},
			{"/dev/vda1", "/etc/hostname", "ext4", true, false}, {"/dev/vda1", "/etc/resolv.conf", "ext4", true, false},
		}, defMounts, defTypes, []string{"/", "/etc/hosts"}},
		{"bind mount loses to the real mount even when shorter", []mount{
			{"/dev/sdb1", "/d", "xfs", true, false}, {"/dev/sdb1", "/srv/data", "xfs", false, false},
		}, defMounts, defTypes, []string{"/srv/data"}},
		{"same device twice: shortest mount point", []mount{
			{"/dev/sdb1", "/mnt/b", "xfs", false, false}, {"/dev/sdb1", "/mnt/a", "xfs", false, false}, {"/dev/sdb1", "/mnt/aa", "xfs", false, false},
		}, defMounts, defTypes, []string{"/mnt/a"}},
		{"network filesystems never merged", []mount{
			{"srv:/a", "/mnt/a", "nfs4", false, false}, {"srv:/a", "/mnt/b", "nfs4", false, false},
		}, defMounts, defTypes, []string{"/mnt/a", "/mnt/b"}},
		{"include list", []mount{
			{"/dev/sda1", "/", "ext4", false, false}, {"/dev/sdb1", "/data", "xfs", false, false}, {"/dev/sdc1", "/data/x", "xfs", false, false},
		}, filter{[]string{"/data", "/data/**"}, nil}, defTypes, []string{"/data", "/data/x"}},
		{"type include", []mount{
			{"/dev/sda1", "/", "ext4", false, false}, {"/dev/sdb1", "/data", "xfs", false, false},
		}, defMounts, filter{[]string{"xfs"}, nil}, []string{"/data"}},
		{"empty exclude list switches the default off", []mount{
			{"tmpfs", "/run", "tmpfs", false, false}, {"/dev/sda1", "/", "ext4", false, false},
		}, filter{nil, []string{}}, filter{nil, []string{}}, []string{"/", "/run"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mounts(selectMounts(tt.in, tt.mnt, tt.typ)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("= %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"lo", "lo", true},
		{"lo", "lo0", false},
		{"veth*", "veth12ab", true},
		{"loop*", "loop7", true},
		{"/dev/**", "/dev/shm", true},
		{"/dev/**", "/dev/pts/0", true},
		{"/dev/**", "/dev", false},
		{"/dev/**", "/devices", false},
		{"/run/*", "/run/user/1000", false},
		{"/run/user/*", "/run/user/1000", true},
		{"fuse.*", "fuse.sshfs", true},
		{"[", "[", false}, // malformed: matches nothing
	}
	for _, tt := range tests {
		if got := MatchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestOptions_Defaults(t *testing.T) {
	o := Options{}.withDefaults()
	if o.Interval != DefaultInterval || o.ProcessInterval != DefaultProcessInterval || o.TopN != DefaultTopN ||
		o.Logger == nil || o.Now == nil {
		t.Errorf("defaults = %+v", o)
	}
	if !reflect.DeepEqual(o.InterfaceExclude, []string{"lo"}) {
		t.Errorf("interface exclude = %v", o.InterfaceExclude)
	}
	if o := (Options{InterfaceExclude: []string{}}).withDefaults(); len(o.InterfaceExclude) != 0 {
		t.Errorf("an empty list was replaced by the default: %v", o.InterfaceExclude)
	}
	a, b := DefaultFSTypeExclude(), DefaultFSTypeExclude()
	a[0] = "changed"
	if b[0] == "changed" {
		t.Error("default lists are shared")
	}
}
