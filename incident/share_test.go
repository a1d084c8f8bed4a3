package incident

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dashd/dashd/model"
)

// TestRefOf_Bounded: an incident's Ref names at most MaxRefSubjects
// subjects of at most MaxRefBytes, the first check and the first rule
// first, so a storm's action fits the actions stream and the receiving
// hub takes it.
func TestRefOf_Bounded(t *testing.T) {
	many := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	long := strings.Repeat("c", 100) + "@" + strings.Repeat("h", 60) + "-%04d"
	tests := []struct {
		name      string
		checks    []string
		rules     []string
		wantN     int
		wantFirst []string
	}{
		{"small", []string{"web", "db"}, []string{"rule:cpu"}, 3, []string{"web", "rule:cpu", "db"}},
		{"a storm of checks", many(3000, "check-%04d@web"), []string{"rule:cpu"}, MaxRefSubjects, []string{"check-0000@web", "rule:cpu", "check-0001@web"}},
		{"long names", many(300, long), nil, MaxRefBytes / len(fmt.Sprintf(long, 0)), []string{fmt.Sprintf(long, 0)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref := refOf(model.Incident{Checks: tt.checks, Rules: tt.rules, Started: t0, Title: strings.Repeat("t", 1000)})
			n := 0
			for _, s := range ref.Subjects {
				n += len(s)
			}
			if len(ref.Subjects) != tt.wantN || n > MaxRefBytes || len(ref.Title) > MaxRefTitle {
				t.Errorf("%d subjects of %d bytes, title %d bytes; want %d subjects", len(ref.Subjects), n, len(ref.Title), tt.wantN)
			}
			if !slices.Equal(ref.Subjects[:len(tt.wantFirst)], tt.wantFirst) {
				t.Errorf("first subjects %q, want %q", ref.Subjects[:len(tt.wantFirst)], tt.wantFirst)
			}
		})
	}
}

// TestSiteRef_QualifiesOwnSubjects: a hub's own checks and rules are
// shared qualified with its fleet host name; subjects about fleet hosts
// stay as they are; FleetRef keeps only the latter.
func TestSiteRef_QualifiesOwnSubjects(t *testing.T) {
	tests := []struct {
		subject, site string
		fleet         bool
	}{
		{"web", "web@hub-a", false},
		{"rule:cpu-high", "rule:cpu-high@hub-a", false},
		{"dashd:storage", "dashd:storage@hub-a", false},
		{"http@web-1", "http@web-1", true},
		{"rule:disk:/var@web-1", "rule:disk:/var@web-1", true},
		{"host:web-1", "host:web-1", true},
	}
	for _, tt := range tests {
		t.Run(tt.subject, func(t *testing.T) {
			ref := SiteRef(Ref{Subjects: []string{tt.subject}, Started: t0}, "hub-a")
			if !slices.Equal(ref.Subjects, []string{tt.site}) {
				t.Errorf("SiteRef: %q, want %q", ref.Subjects, tt.site)
			}
			if FleetSubject(tt.subject) != tt.fleet {
				t.Errorf("FleetSubject(%q) = %v, want %v", tt.subject, !tt.fleet, tt.fleet)
			}
			if _, ok := FleetRef(Ref{Subjects: []string{tt.subject}, Started: t0}); ok != tt.fleet {
				t.Errorf("FleetRef kept %q: %v, want %v", tt.subject, ok, tt.fleet)
			}
		})
	}
}
