package metrics

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Bounds of the textfile collector: a directory is read at every scrape,
// so what one scrape reads is bounded whatever lands in it.
const (
	// TextfileMaxFiles is the most *.prom files read per scrape (in name
	// order); more is an error (node_textfile_scrape_error 1).
	TextfileMaxFiles = 256
	// TextfileMaxFileBytes is the largest file read; a larger one is
	// skipped and reported.
	TextfileMaxFileBytes = 1 << 20
)

// textfile is node_exporter's textfile collector: the *.prom files of one
// directory, read at scrape time, validated with the Prometheus text
// parser and merged into /metrics. A bad file (unparsable, too large,
// client-side timestamps, a family that clashes with dashd's own or with
// another file's) is left out and reported as node_textfile_scrape_error
// 1 and in the log; it never fails the scrape. Every file read in full
// gets node_textfile_mtime_seconds{file} (its path), as node_exporter 1.5.
//
// Reads run on a goroutine of their own under the parts' time limit: a
// directory on a hung network filesystem costs one goroutine, and scrapes
// report an error while it is stuck instead of starting another.
type textfile struct {
	dir     string
	log     *slog.Logger
	timeout time.Duration
	// stuck counts reads that outlived their scrape and have not returned.
	stuck atomic.Int64
	// failing is whether the latest read had errors, so a bad file is
	// logged when it appears, not at every scrape.
	failing atomic.Bool
}

// reservedPrefixes are family names a textfile may never use, whether or
// not dashd exported them on this scrape.
var reservedPrefixes = [...]string{"dashd_", "node_textfile_", "probe_"}

// read reads the directory under the time limit. own reports whether a
// family name is dashd's.
func (t *textfile) read(own func(string) bool) []*dto.MetricFamily {
	if n := t.stuck.Load(); n > 0 {
		return t.result(nil, nil, []error{fmt.Errorf("textfile: %d earlier reads of %s have not returned", n, t.dir)})
	}
	type out struct {
		fams   []*dto.MetricFamily
		mtimes map[string]float64
		errs   []error
	}
	done := make(chan out, 1)
	var claimed atomic.Bool // as scrapeCollector.run: decided once, by whoever comes first
	go func() {
		f, m, e := t.readDir(own)
		done <- out{f, m, e}
		if !claimed.CompareAndSwap(false, true) {
			t.stuck.Add(-1)
		}
	}()
	timer := time.NewTimer(t.timeout)
	defer timer.Stop()
	select {
	case o := <-done:
		return t.result(o.fams, o.mtimes, o.errs)
	case <-timer.C:
		if claimed.CompareAndSwap(false, true) {
			t.stuck.Add(1)
			return t.result(nil, nil, []error{fmt.Errorf("textfile: reading %s took longer than %s", t.dir, t.timeout)})
		}
		o := <-done
		return t.result(o.fams, o.mtimes, o.errs)
	}
}

// result adds the two node_textfile_* families and logs errors on change.
func (t *textfile) result(fams []*dto.MetricFamily, mtimes map[string]float64, errs []error) []*dto.MetricFamily {
	mt := &dto.MetricFamily{
		Name: ptr("node_textfile_mtime_seconds"),
		Help: ptr("Unixtime mtime of textfiles successfully read."),
		Type: dto.MetricType_GAUGE.Enum(),
	}
	for _, f := range slices.Sorted(func(yield func(string) bool) {
		for k := range mtimes {
			if !yield(k) {
				return
			}
		}
	}) {
		mt.Metric = append(mt.Metric, &dto.Metric{
			Label: []*dto.LabelPair{{Name: ptr("file"), Value: ptr(f)}},
			Gauge: &dto.Gauge{Value: ptr(mtimes[f])},
		})
	}
	if len(mt.Metric) > 0 {
		fams = append(fams, mt)
	}
	failed := 0.0
	if len(errs) > 0 {
		failed = 1
		if !t.failing.Swap(true) {
			t.log.Warn("metrics: textfile collector", "dir", t.dir, "err", errors.Join(errs...))
		}
	} else if t.failing.Swap(false) {
		t.log.Info("metrics: textfile collector recovered", "dir", t.dir)
	}
	fams = append(fams, &dto.MetricFamily{
		Name:   ptr("node_textfile_scrape_error"),
		Help:   ptr("1 if there was an error opening or reading a file, 0 otherwise"),
		Type:   dto.MetricType_GAUGE.Enum(),
		Metric: []*dto.Metric{{Gauge: &dto.Gauge{Value: ptr(failed)}}},
	})
	return fams
}

// readDir reads every *.prom file and merges their families.
func (t *textfile) readDir(own func(string) bool) ([]*dto.MetricFamily, map[string]float64, []error) {
	var errs []error
	entries, err := os.ReadDir(t.dir)
	if err != nil {
		return nil, nil, []error{fmt.Errorf("textfile: read directory: %w", err)}
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".prom") {
			names = append(names, e.Name())
		}
	}
	if len(names) > TextfileMaxFiles {
		errs = append(errs, fmt.Errorf("textfile: %d files, only the first %d read", len(names), TextfileMaxFiles))
		names = names[:TextfileMaxFiles]
	}
	merged := map[string]*dto.MetricFamily{}
	seriesSeen := map[string]bool{}
	mtimes := map[string]float64{}
	for _, name := range names {
		path := filepath.Join(t.dir, name)
		fams, mtime, err := readTextfile(path)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ferrs := mergeTextfile(path, fams, merged, seriesSeen, own); len(ferrs) > 0 {
			errs = append(errs, ferrs...)
		}
		mtimes[path] = mtime
	}
	out := make([]*dto.MetricFamily, 0, len(merged))
	for _, f := range merged {
		out = append(out, f)
	}
	return out, mtimes, errs
}

// readTextfile reads and parses one file, bounded in size; a file with
// client-side timestamps is refused as node_exporter refuses it.
func readTextfile(path string) (map[string]*dto.MetricFamily, float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("textfile: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, fmt.Errorf("textfile: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, 0, fmt.Errorf("textfile: %s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, TextfileMaxFileBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("textfile: read %s: %w", path, err)
	}
	if len(b) > TextfileMaxFileBytes {
		return nil, 0, fmt.Errorf("textfile: %s: larger than %d bytes, skipped", path, TextfileMaxFileBytes)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(b)))
	if err != nil {
		return nil, 0, fmt.Errorf("textfile: parse %s: %w", path, err)
	}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			if m.TimestampMs != nil {
				return nil, 0, fmt.Errorf("textfile: %s: %s has a client-side timestamp, which is not supported", path, name)
			}
		}
	}
	return fams, float64(st.ModTime().UnixNano()) / 1e9, nil
}

// mergeTextfile adds one file's families to merged, refusing (and
// reporting) a family that is dashd's own, that another file declared
// with another type, or a series another file already has.
func mergeTextfile(path string, fams map[string]*dto.MetricFamily, merged map[string]*dto.MetricFamily, seriesSeen map[string]bool, own func(string) bool) []error {
	var errs []error
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range fams {
			if !yield(k) {
				return
			}
		}
	}) {
		fam := fams[name]
		if ownFamily(name, own) {
			errs = append(errs, fmt.Errorf("textfile: %s: family %s is dashd's own; refused", path, name))
			continue
		}
		if len(fam.GetMetric()) == 0 {
			continue
		}
		prev, ok := merged[name]
		if ok && prev.GetType() != fam.GetType() {
			errs = append(errs, fmt.Errorf("textfile: %s: family %s is %s here and %s in another file; refused", path, name, fam.GetType(), prev.GetType()))
			continue
		}
		if !ok {
			prev = &dto.MetricFamily{Name: fam.Name, Help: fam.Help, Type: fam.Type}
			merged[name] = prev
		}
		for _, m := range fam.GetMetric() {
			key := seriesKey(name, m)
			if seriesSeen[key] {
				errs = append(errs, fmt.Errorf("textfile: %s: series %s repeated; refused", path, key))
				continue
			}
			seriesSeen[key] = true
			prev.Metric = append(prev.Metric, m)
		}
	}
	return errs
}

// ownFamily reports whether name is dashd's: exported on this scrape, or
// under a reserved prefix, or one of the summary/histogram suffixes of
// such a family.
func ownFamily(name string, own func(string) bool) bool {
	for _, p := range reservedPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	if own(name) {
		return true
	}
	for _, suf := range [...]string{"_bucket", "_sum", "_count", "_total", "_created", "_info"} {
		if base, ok := strings.CutSuffix(name, suf); ok && own(base) {
			return true
		}
	}
	return false
}

// seriesKey identifies one series: the name and its sorted label pairs.
func seriesKey(name string, m *dto.Metric) string {
	ls := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	slices.Sort(ls)
	return name + "{" + strings.Join(ls, ",") + "}"
}

// gatherer is /metrics' Gatherer: the registry, then the textfile
// families (when a directory is configured), in name order.
type gatherer struct {
	reg prometheus.Gatherer
	tf  *textfile // nil: off
}

// Gather implements prometheus.Gatherer. The registry's error (a part's
// bad metric) is passed on with what it gathered; the textfile collector
// never adds one.
func (g gatherer) Gather() ([]*dto.MetricFamily, error) {
	mfs, err := g.reg.Gather()
	if g.tf == nil {
		return mfs, err
	}
	own := make(map[string]bool, len(mfs))
	for _, f := range mfs {
		own[f.GetName()] = true
	}
	mfs = append(mfs, g.tf.read(func(n string) bool { return own[n] })...)
	slices.SortFunc(mfs, func(a, b *dto.MetricFamily) int { return strings.Compare(a.GetName(), b.GetName()) })
	return mfs, err
}

// ptr returns a pointer to v, for the client_model structs.
func ptr[T any](v T) *T { return &v }
