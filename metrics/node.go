package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dashd/dashd/collectors/system"
)

// nodePart exports the node_exporter families whose names come from the
// kernel: node_memory_* (every /proc/meminfo field), node_vmstat_*,
// node_sockstat_* and node_netstat_*, named, typed and scaled as
// node_exporter 1.5 does (meminfo and sockstat gauges, vmstat and
// netstat untyped).
//
// Its family names are only known once a sample has been read, so it
// describes none: the registry treats it as an unchecked collector
// (client_golang's term), and the scrape's own consistency checks still
// apply. A name that is not a valid metric name is left out.
//
// # When it fails
//
// As the host part: practically never (memory). No sample yet, or a part
// that failed on the tick (the memory part, /proc/vmstat hidden), leaves
// its families out; that is the sample's failure, counted in
// dashd_sample_errors, not the scrape's.
type nodePart struct {
	src HostSource
}

func newNodePart(src HostSource) *nodePart { return &nodePart{src: src} }

// describe sends nothing: see nodePart.
func (p *nodePart) describe(chan<- *prometheus.Desc) {}

// unchecked marks the part as an uncheckedPart (scrape.go).
func (p *nodePart) unchecked() {}

// dynamicFamily is one prefix of kernel-named families and its type.
type dynamicFamily struct {
	prefix, help string
	part         string // the sampler's part (Snapshot.Errors) the values come from
	typ          prometheus.ValueType
	values       func(*system.NodeStats) []system.NamedValue
}

// dynamicFamilies lists the node part's families.
var dynamicFamilies = [...]dynamicFamily{
	{"node_memory_", "Memory information field ", "memory", prometheus.GaugeValue, func(n *system.NodeStats) []system.NamedValue { return n.Meminfo }},
	{"node_vmstat_", "/proc/vmstat information field ", "vmstat", prometheus.UntypedValue, func(n *system.NodeStats) []system.NamedValue { return n.VMStat }},
	{"node_sockstat_", "Number of sockets in state ", "sockstat", prometheus.GaugeValue, func(n *system.NodeStats) []system.NamedValue { return n.Sockstat }},
	{"node_netstat_", "Statistic ", "netstat", prometheus.UntypedValue, func(n *system.NodeStats) []system.NamedValue { return n.Netstat }},
}

func (p *nodePart) collect(s *sink) error {
	snap, ok := p.src.System()
	if !ok {
		return nil
	}
	failed := snapshotFailures(snap.Errors)
	seen := map[string]bool{}
	for _, f := range dynamicFamilies {
		if failed[f.part] {
			continue // a failed part's values are not exported as if current
		}
		for _, v := range f.values(&snap.Node) {
			name := f.prefix + v.Name
			if seen[name] || !validMetricName(name) {
				continue
			}
			seen[name] = true
			s.add(desc(name, f.help+v.Name+"."), f.typ, v.Value)
		}
	}
	return nil
}

// validMetricName reports whether name is a classic Prometheus metric
// name ([a-zA-Z_:][a-zA-Z0-9_:]*), so a kernel's odd field name cannot
// break the scrape.
func validMetricName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == ':' || (i > 0 && c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}
