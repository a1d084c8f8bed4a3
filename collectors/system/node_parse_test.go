package system

import (
	"reflect"
	"testing"
)

func TestParseMeminfoAll(t *testing.T) {
	in := "MemTotal:       16384000 kB\nMemFree:         8000000 kB\nMemAvailable:   12288000 kB\nBuffers:          100000 kB\n" +
		"Cached:          2000000 kB\nActive(anon):     300000 kB\nSReclaimable:     500000 kB\nHugePages_Total:       0\nSwapTotal:       0 kB\nSwapFree:        0 kB\n"
	var in2 interner
	m, all, err := parseMeminfoAll([]byte(in), nil, &in2)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, v := range all {
		got[v.Name] = v.Value
	}
	want := map[string]float64{
		"MemTotal_bytes": 16384000 * 1024, "MemFree_bytes": 8000000 * 1024, "MemAvailable_bytes": 12288000 * 1024,
		"Buffers_bytes": 100000 * 1024, "Cached_bytes": 2000000 * 1024, "Active_anon_bytes": 300000 * 1024,
		"SReclaimable_bytes": 500000 * 1024, "HugePages_Total": 0, "SwapTotal_bytes": 0, "SwapFree_bytes": 0,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("fields = %v\nwant %v", got, want)
	}
	// node_memory_Cached_bytes is the file's Cached; the dashboard's keeps
	// reclaimable slab in.
	if m.Cached != (2000000+500000)*1024 {
		t.Errorf("Memory.Cached = %d, want Cached + SReclaimable", m.Cached)
	}
}

func TestParseStat_Kernel(t *testing.T) {
	in := "cpu  1 2 3 4\ncpu0 1 2 3 4\nintr 12345 0 9 0\nctxt 678\nbtime 1700000000\nprocesses 910\nprocs_running 2\nprocs_blocked 1\n"
	st, err := parseStat([]byte(in), 100)
	if err != nil {
		t.Fatal(err)
	}
	if want := (KernelCounters{ContextSwitches: 678, Interrupts: 12345, Forks: 910}); st.Kernel != want {
		t.Errorf("= %+v, want %+v", st.Kernel, want)
	}
}

func TestParseNodeFiles(t *testing.T) {
	tests := []struct {
		name  string
		parse func([]byte) ([]NamedValue, error)
		in    string
		want  []NamedValue
	}{
		{"vmstat keeps node_exporter's default fields", func(b []byte) ([]NamedValue, error) {
			return parseVMStat(b, nil, &interner{keep: vmstatKeep})
		}, "nr_free_pages 100\npgpgin 5\npgfault 7\npgmajfault 2\npswpin 0\noom_kill 1\nthp_fault_alloc 3\n",
			[]NamedValue{{"pgpgin", 5}, {"pgfault", 7}, {"pgmajfault", 2}, {"pswpin", 0}, {"oom_kill", 1}}},
		{"sockstat with mem in pages", func(b []byte) ([]NamedValue, error) {
			return parseSockstat(b, nil, &interner{}, 4096)
		}, "sockets: used 45\nTCP: inuse 19 orphan 0 tw 3 alloc 20 mem 2\nFRAG: inuse 0 memory 0\n",
			[]NamedValue{{"sockets_used", 45}, {"TCP_inuse", 19}, {"TCP_orphan", 0}, {"TCP_tw", 3}, {"TCP_alloc", 20},
				{"TCP_mem", 2}, {"TCP_mem_bytes", 8192}, {"FRAG_inuse", 0}, {"FRAG_memory", 0}}},
		{"snmp pairs of lines, default fields, negative values", func(b []byte) ([]NamedValue, error) {
			return parseNetstat(b, nil, &interner{keep: newNetstatKeep()})
		}, "Tcp: RtoAlgorithm MaxConn ActiveOpens CurrEstab InErrs\nTcp: 1 -1 10 8 0\nUdp: InDatagrams NoPorts\nUdp: 5 6\n",
			[]NamedValue{{"Tcp_ActiveOpens", 10}, {"Tcp_CurrEstab", 8}, {"Tcp_InErrs", 0}, {"Udp_InDatagrams", 5}, {"Udp_NoPorts", 6}}},
		{"snmp6 names split at the 6", func(b []byte) ([]NamedValue, error) {
			return parseSNMP6(b, nil, &interner{keep: newNetstatKeep()})
		}, "Ip6InReceives 9\nIp6InOctets 3464\nIcmp6InMsgs 3\nUdpLite6InErrors 0\n",
			[]NamedValue{{"Ip6_InOctets", 3464}, {"Icmp6_InMsgs", 3}, {"UdpLite6_InErrors", 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.parse([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("= %v\nwant %v", got, tt.want)
			}
		})
	}
}

func TestParsePressureTotals(t *testing.T) {
	some, full, hasFull, err := parsePressureTotals([]byte("some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=250000\n"))
	if err != nil || some != 1.5 || full != 0.25 || !hasFull {
		t.Errorf("= %v %v %v %v, want 1.5 0.25 true nil", some, full, hasFull, err)
	}
	if _, _, _, err := parsePressureTotals([]byte("garbage\n")); err == nil {
		t.Error("no some line accepted")
	}
}

func TestParseOSRelease(t *testing.T) {
	got := parseOSRelease([]byte("# comment\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\nVARIANT='x y'\n"))
	want := map[string]string{"NAME": "Debian GNU/Linux", "VERSION_ID": "12", "ID": "debian", "VARIANT": "x y"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("= %v, want %v", got, want)
	}
}
