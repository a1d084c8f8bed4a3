package system

// Pure parsers of the node_exporter figures (NodeStats). Each takes the
// bytes of one read and a name interner (names are turned into strings
// once per Sampler, not once per tick) and gives node_exporter's names and
// values for the same file.

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"

	"github.com/dashd/dashd/internal/procfile"
)

// interner turns a field name into its exported string once and says
// whether the field is exported at all. Its map grows with the distinct
// names a kernel prints, a bounded set.
type interner struct {
	m    map[string]internedName
	keep func(name string) bool // nil keeps every name
}

// internedName is an exported name and whether it is kept.
type internedName struct {
	name string
	keep bool
}

// name returns the interned string for raw, building it with build on
// first sight.
func (in *interner) name(raw []byte, build func([]byte) string) (string, bool) {
	if n, ok := in.m[string(raw)]; ok {
		return n.name, n.keep
	}
	if in.m == nil {
		in.m = map[string]internedName{}
	}
	n := internedName{name: build(raw), keep: true}
	if in.keep != nil {
		n.keep = in.keep(n.name)
	}
	in.m[string(raw)] = n
	return n.name, n.keep
}

// parseSigned parses an optionally negative decimal integer, as /proc
// prints one (Tcp MaxConn is -1).
func parseSigned(b []byte) (float64, bool) {
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	n, ok := procfile.ParseUint(b)
	if !ok {
		return 0, false
	}
	if neg {
		return -float64(n), true
	}
	return float64(n), true
}

// meminfoName is node_exporter's name for a /proc/meminfo key:
// "Active(anon)" becomes "Active_anon", and a kB field gets "_bytes".
func meminfoName(key []byte, kb bool) string {
	b := make([]byte, 0, len(key)+6)
	for _, c := range key {
		switch c {
		case '(':
			b = append(b, '_')
		case ')':
		default:
			b = append(b, c)
		}
	}
	if kb {
		b = append(b, "_bytes"...)
	}
	return string(b)
}

// vmstatKeep is node_exporter's default --collector.vmstat.fields,
// "^(oom_kill|pgpg|pswp|pg.*fault).*", without a regular expression.
func vmstatKeep(name string) bool {
	switch {
	case len(name) >= 8 && name[:8] == "oom_kill":
		return true
	case len(name) >= 4 && (name[:4] == "pgpg" || name[:4] == "pswp"):
		return true
	case len(name) >= 2 && name[:2] == "pg":
		return bytes.Contains([]byte(name[2:]), []byte("fault"))
	}
	return false
}

// parseVMStat appends the kept "name value" lines of /proc/vmstat to dst.
func parseVMStat(b []byte, dst []NamedValue, in *interner) ([]NamedValue, error) {
	var bad error
	lines(b, func(l []byte) {
		if bad != nil || len(l) == 0 {
			return
		}
		key, val, ok := bytes.Cut(l, []byte(" "))
		if !ok {
			bad = fmt.Errorf("vmstat: bad line %q", l)
			return
		}
		name, keep := in.name(key, func(k []byte) string { return string(k) })
		if !keep {
			return
		}
		v, ok := parseSigned(bytes.TrimSpace(val))
		if !ok {
			bad = fmt.Errorf("vmstat: bad line %q", l)
			return
		}
		dst = append(dst, NamedValue{Name: name, Value: v})
	})
	return dst, bad
}

// parsePressureTotals reads one /proc/pressure file ("some avg10=0.00
// avg60=0.00 avg300=0.00 total=12345" and maybe a "full" line) and
// returns the totals in seconds (the file counts microseconds).
func parsePressureTotals(b []byte) (some, full float64, hasFull bool, err error) {
	var fa [6][]byte
	found := false
	lines(b, func(l []byte) {
		if err != nil {
			return
		}
		fs := fields(l, fa[:0])
		if len(fs) == 0 {
			return
		}
		for _, f := range fs[1:] {
			v, ok := bytes.CutPrefix(f, []byte("total="))
			if !ok {
				continue
			}
			n, ok := procfile.ParseUint(v)
			if !ok {
				err = fmt.Errorf("pressure: bad line %q", l)
				return
			}
			switch string(fs[0]) {
			case "some":
				some, found = float64(n)/1e6, true
			case "full":
				full, hasFull = float64(n)/1e6, true
			}
		}
	})
	if err == nil && !found {
		err = errors.New("pressure: no \"some\" line")
	}
	return some, full, hasFull, err
}

// parseSockstat appends /proc/net/sockstat or sockstat6 ("TCP: inuse 19
// orphan 0 tw 3 alloc 20 mem 1") under node_exporter's names: PROTO_key
// ("sockets: used 45" gives "sockets_used"), plus PROTO_mem_bytes for a
// mem field, which counts pages.
func parseSockstat(b []byte, dst []NamedValue, in *interner, pageSize float64) ([]NamedValue, error) {
	var fa [maxFields][]byte
	var bad error
	var key []byte
	lines(b, func(l []byte) {
		if bad != nil || len(l) == 0 {
			return
		}
		proto, rest, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			bad = fmt.Errorf("sockstat: bad line %q", l)
			return
		}
		fs := fields(rest, fa[:0])
		if len(fs)%2 != 0 {
			bad = fmt.Errorf("sockstat: bad line %q", l)
			return
		}
		for i := 0; i < len(fs); i += 2 {
			v, ok := procfile.ParseUint(fs[i+1])
			if !ok {
				bad = fmt.Errorf("sockstat: bad line %q", l)
				return
			}
			key = append(append(append(key[:0], proto...), '_'), fs[i]...)
			name, _ := in.name(key, func(k []byte) string { return string(k) })
			dst = append(dst, NamedValue{Name: name, Value: float64(v)})
			if string(fs[i]) == "mem" {
				key = append(key, "_bytes"...)
				name, _ := in.name(key, func(k []byte) string { return string(k) })
				dst = append(dst, NamedValue{Name: name, Value: float64(v) * pageSize})
			}
		}
	})
	return dst, bad
}

// netstatFields is node_exporter's default --collector.netstat.fields.
const netstatFields = `^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$`

// newNetstatKeep compiles netstatFields (once per Sampler: the interner
// asks once per distinct name).
func newNetstatKeep() func(string) bool {
	re := regexp.MustCompile(netstatFields)
	return re.MatchString
}

// parseNetstat appends the kept fields of /proc/net/snmp or netstat, which
// come in pairs of lines ("Tcp: RtoAlgorithm RtoMin ..." then "Tcp: 1 200
// ..."), named Proto_Field.
func parseNetstat(b []byte, dst []NamedValue, in *interner) ([]NamedValue, error) {
	var ha, va [128][]byte
	var header [][]byte
	var headerProto []byte
	var key []byte
	var bad error
	lines(b, func(l []byte) {
		if bad != nil || len(l) == 0 {
			return
		}
		proto, rest, ok := bytes.Cut(l, []byte(":"))
		if !ok {
			bad = fmt.Errorf("netstat: bad line %q", l)
			return
		}
		if header == nil || !bytes.Equal(proto, headerProto) {
			header, headerProto = fields(rest, ha[:0]), proto
			return
		}
		vs := fields(rest, va[:0])
		if len(vs) != len(header) {
			bad = fmt.Errorf("netstat: %s: %d values for %d fields", proto, len(vs), len(header))
			return
		}
		for i, h := range header {
			key = append(append(append(key[:0], proto...), '_'), h...)
			name, keep := in.name(key, func(k []byte) string { return string(k) })
			if !keep {
				continue
			}
			v, ok := parseSigned(vs[i])
			if !ok {
				bad = fmt.Errorf("netstat: %s: bad value %q", name, vs[i])
				return
			}
			dst = append(dst, NamedValue{Name: name, Value: v})
		}
		header = nil
	})
	return dst, bad
}

// parseSNMP6 appends the kept fields of /proc/net/snmp6 ("Ip6InOctets
// 3464"), named as node_exporter names them: the protocol is the name up
// to its first "6" ("Ip6_InOctets", "Icmp6_InMsgs", "UdpLite6_InErrors").
func parseSNMP6(b []byte, dst []NamedValue, in *interner) ([]NamedValue, error) {
	var fa [4][]byte
	var bad error
	lines(b, func(l []byte) {
		if bad != nil {
			return
		}
		fs := fields(l, fa[:0])
		if len(fs) != 2 {
			return
		}
		name, keep := in.name(fs[0], func(k []byte) string {
			i := bytes.IndexByte(k, '6')
			if i < 0 {
				return ""
			}
			return string(k[:i+1]) + "_" + string(k[i+1:])
		})
		if !keep || name == "" {
			return
		}
		v, ok := parseSigned(fs[1])
		if !ok {
			bad = fmt.Errorf("snmp6: bad line %q", l)
			return
		}
		dst = append(dst, NamedValue{Name: name, Value: v})
	})
	return dst, bad
}

// parseOSRelease reads os-release(5) lines (KEY=value, values maybe
// quoted) into a map of the keys node_os_info labels.
func parseOSRelease(b []byte) map[string]string {
	m := map[string]string{}
	lines(b, func(l []byte) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 || l[0] == '#' {
			return
		}
		k, v, ok := bytes.Cut(l, []byte("="))
		if !ok {
			return
		}
		val := string(v)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			if u, err := strconv.Unquote(val); err == nil {
				val = u
			} else {
				val = val[1 : len(val)-1]
			}
		} else if len(val) >= 2 && val[0] == '\'' && val[len(val)-1] == '\'' {
			val = val[1 : len(val)-1]
		}
		m[string(k)] = val
	})
	return m
}
