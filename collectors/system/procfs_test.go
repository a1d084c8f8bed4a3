package system

import (
	"reflect"
	"testing"
)

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    statCounts
		wantErr bool
	}{
		{"modern kernel", "cpu  30 0 20 100 1 0 0 0 0 0\ncpu0 10 0 10 50 1 0 0 2 3 4\ncpu1 20 0 10 50 0 0 0 0 0 0\nintr 1 2 3\nprocs_running 4\nprocs_blocked 2\n",
			statCounts{Cores: []CPUTimes{
				{Core: 0, User: 0.1, System: 0.1, Idle: 0.5, IOWait: 0.01, Steal: 0.02, Guest: 0.03, GuestNice: 0.04},
				{Core: 1, User: 0.2, System: 0.1, Idle: 0.5},
			}, Running: 4, Blocked: 2}, false},
		{"old kernel: 7 columns, gap in cpu numbers", "cpu 1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\ncpu3 1 1 1 1 1 1 1\n",
			statCounts{Cores: []CPUTimes{
				{Core: 0, User: 0.01, Nice: 0.02, System: 0.03, Idle: 0.04, IOWait: 0.05, IRQ: 0.06, SoftIRQ: 0.07},
				{Core: 3, User: 0.01, Nice: 0.01, System: 0.01, Idle: 0.01, IOWait: 0.01, IRQ: 0.01, SoftIRQ: 0.01},
			}}, false},
		{"no per-cpu lines", "cpu 1 2 3 4\nintr 5\n", statCounts{}, true},
		{"garbage number", "cpu0 1 x 3 4 5\n", statCounts{}, true},
		{"short line", "cpu0 1 2\n", statCounts{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStat([]byte(tt.in), 100)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got.Running != tt.want.Running || got.Blocked != tt.want.Blocked || len(got.Cores) != len(tt.want.Cores) {
				t.Fatalf("= %+v, want %+v", got, tt.want)
			}
			for i := range got.Cores {
				nearStruct(t, "core", got.Cores[i], tt.want.Cores[i])
			}
		})
	}
}

func TestParseDiskstats(t *testing.T) {
	in := `   8       0 sda 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17
   8       1 sda1 1 2 3 4 5 6 7 8 9 10 11
 259       0 nvme0n1 100 0 200 0 300 0 400 0 0 500 0
   7       0 loop0 1 1 1 1 1 1 1 1 1 1 1
 short line
`
	keep := func(n []byte) (string, bool) {
		s := string(n)
		return s, s == "sda" || s == "nvme0n1" || s == "missing"
	}
	got, err := parseDiskstats([]byte(in), keep)
	if err != nil {
		t.Fatal(err)
	}
	want := []Disk{
		{Device: "sda", Reads: 1, ReadBytes: 3 * 512, Writes: 5, WrittenBytes: 7 * 512, IOTimeMs: 10,
			ReadTimeMs: 4, WriteTimeMs: 8, IOsInProgress: 9, WeightedIOTimeMs: 11},
		{Device: "nvme0n1", Reads: 100, ReadBytes: 200 * 512, Writes: 300, WrittenBytes: 400 * 512, IOTimeMs: 500},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("= %+v\nwant %+v", got, want)
	}
	if _, err := parseDiskstats([]byte("8 0 sda 1 2 x 4 5 6 7 8 9 10 11"), keep); err == nil {
		t.Error("bad number accepted")
	}
}

func TestParsePidStat(t *testing.T) {
	tail := " S 1 2 3 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 1 0 12345 1000000 777 18446744073709551615 1 1"
	tests := []struct {
		name     string
		in       string
		wantComm string
		wantErr  bool
	}{
		{"plain", "42 (nginx)" + tail, "nginx", false},
		{"name with spaces and parentheses", "42 (tmux: server (x))" + tail, "tmux: server (x)", false},
		{"too few fields", "42 (x) S 1 2 3", "", true},
		{"no name", "42 x S", "", true},
		{"bad number", "42 (x) S 1 2 3 0 -1 4194560 100 0 0 0 abc 50 0 0 20 0 1 0 12345 1000000 777 1", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := parsePidStat([]byte(tt.in), nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if string(got.Comm) != tt.wantComm || got.CPUTicks != 300 || got.StartTime != 12345 || got.RSSPages != 777 {
				t.Errorf("= %+v (comm %q)", got, got.Comm)
			}
		})
	}
}

func TestRemoteFS(t *testing.T) {
	for fstype, want := range map[string]bool{
		"nfs": true, "nfs4": true, "cifs": true, "smb3": true, "fuse.sshfs": true, "9p": true, "ceph": true,
		"ext4": false, "xfs": false, "btrfs": false, "overlay": false, "vfat": false, "zfs": false, "fuseblk": false,
	} {
		if got := remoteFS(fstype); got != want {
			t.Errorf("remoteFS(%q) = %v", fstype, got)
		}
	}
}

func TestParseMeminfo(t *testing.T) {
	full := "MemTotal:       1000 kB\nMemFree:         100 kB\nMemAvailable:    600 kB\nBuffers:          10 kB\n" +
		"Cached:          200 kB\nSwapCached:        0 kB\nSwapTotal:       500 kB\nSwapFree:        400 kB\n" +
		"SReclaimable:     50 kB\nHugePages_Total:       0\n"
	tests := []struct {
		name    string
		in      string
		want    meminfo
		wantErr bool
	}{
		{"full", full, meminfo{Total: 1000 << 10, Free: 100 << 10, Available: 600 << 10, Buffers: 10 << 10,
			Cached: 250 << 10, SwapTotal: 500 << 10, SwapFree: 400 << 10, HasAvailable: true}, false},
		{"old kernel: no MemAvailable", "MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 20 kB\n",
			meminfo{Total: 1000 << 10, Free: 100 << 10, Cached: 20 << 10}, false},
		{"no MemTotal", "MemFree: 100 kB\n", meminfo{}, true},
		{"bad number", "MemTotal: 1x00 kB\n", meminfo{}, true},
		{"bad unit", "MemTotal: 1000 MB\n", meminfo{}, true},
		{"unknown keys ignored", "MemTotal: 1 kB\nWeird: x y z\nA:B: 1\n", meminfo{Total: 1 << 10}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseMeminfo([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("= %+v, %v; want %+v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseLoadavg(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    Load
		wantErr bool
	}{
		{"normal", "0.50 0.75 1.00 2/345 6789\n", Load{0.5, 0.75, 1}, false},
		{"three fields", "1 2 3", Load{1, 2, 3}, false},
		{"short", "0.5 0.7\n", Load{}, true},
		{"garbage", "x 1 2 3/4 5", Load{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLoadavg([]byte(tt.in))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("= %+v, %v; want %+v, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestParseNetDev(t *testing.T) {
	head := "Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n"
	keepAll := func(b []byte) (string, bool) { return string(b), string(b) != "lo" }
	tests := []struct {
		name    string
		in      string
		want    []NetInterface
		wantErr bool
	}{
		{"two interfaces, lo filtered", head +
			"    lo: 5 5 0 0 0 0 0 0 5 5 0 0 0 0 0 0\n" +
			"  eth0: 1000 10 1 2 0 0 0 0 500 4 3 4 0 0 0 0\n" +
			"veth:x: 7 1 0 0 0 0 0 0 8 2 0 0 0 0 0 0\n",
			[]NetInterface{
				{Name: "eth0", RxBytes: 1000, RxPackets: 10, RxErrors: 1, RxDropped: 2, TxBytes: 500, TxPackets: 4, TxErrors: 3, TxDropped: 4},
				{Name: "veth:x", RxBytes: 7, RxPackets: 1, TxBytes: 8, TxPackets: 2},
			}, false},
		{"headers only", head, nil, false},
		{"short line", head + "  eth0:\n", nil, true},
		{"bad number even on a filtered interface", head + "  lo: 5 5 0 0 x 0 0 0 5 5 0 0 0 0 0 0\n", nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseNetDev([]byte(tt.in), nil, keepAll)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("= %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
