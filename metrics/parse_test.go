package metrics

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// families is a parsed scrape, by family name.
type families map[string]*dto.MetricFamily

// parseText parses the Prometheus text format.
func parseText(t testing.TB, body []byte) families {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("parse text: %v\n%s", err, body)
	}
	return fams
}

// parseResponse parses a body in the format its Content-Type names
// (OpenMetrics or text), with expfmt's decoder for that format.
func parseResponse(t testing.TB, resp *http.Response, body []byte) families {
	t.Helper()
	dec := expfmt.NewDecoder(bytes.NewReader(body), expfmt.ResponseFormat(resp.Header))
	fams := families{}
	for {
		var f dto.MetricFamily
		err := dec.Decode(&f)
		if errors.Is(err, io.EOF) {
			return fams
		}
		if err != nil {
			t.Fatalf("parse %s: %v\n%s", resp.Header.Get("Content-Type"), err, body)
		}
		fams[f.GetName()] = &f
	}
}

// labelKey is a series' identity within its family.
func labelKey(m *dto.Metric) string {
	pairs := make([]string, 0, len(m.GetLabel()))
	for _, l := range m.GetLabel() {
		pairs = append(pairs, l.GetName()+"="+l.GetValue())
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// find returns the first series of family name whose labels include the
// given name/value pairs, or nil.
func (fs families) find(name string, labels ...string) *dto.Metric {
	f, ok := fs[name]
	if !ok {
		return nil
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for i := 0; i+1 < len(labels); i += 2 {
			if v, ok := have[labels[i]]; !ok || v != labels[i+1] {
				continue next
			}
		}
		return m
	}
	return nil
}

// value is a series' value, whatever its type.
func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Untyped != nil:
		return m.GetUntyped().GetValue()
	}
	return -1
}

// noDuplicates fails for a series that appears twice in one family.
func noDuplicates(t testing.TB, fs families) {
	t.Helper()
	for name, f := range fs {
		seen := map[string]bool{}
		for _, m := range f.GetMetric() {
			k := labelKey(m)
			if seen[k] {
				t.Errorf("duplicate series %s{%s}", name, k)
			}
			seen[k] = true
		}
	}
}
