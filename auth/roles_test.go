package auth

import (
	"slices"
	"strings"
	"testing"

	"github.com/dashd/dashd/config"
)

func TestRoleFor(t *testing.T) {
	rg := config.RoleGroups{Admin: []string{"root", "sre-leads"}, Operator: []string{"sre"}, Viewer: []string{"staff"}}
	tests := []struct {
		name   string
		groups []string
		def    string
		want   string
	}{
		{"highest wins", []string{"staff", "sre", "sre-leads"}, "", config.RoleAdmin},
		{"operator", []string{"sre", "staff"}, config.RoleViewer, config.RoleOperator},
		{"viewer group", []string{"staff"}, "", config.RoleViewer},
		{"default", []string{"sales"}, config.RoleViewer, config.RoleViewer},
		{"default never lowers", []string{"sre"}, config.RoleAdmin, config.RoleOperator},
		{"no role", []string{"sales"}, "", ""},
		{"no groups", nil, "", ""},
		{"case matters", []string{"SRE"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RoleFor(tt.groups, rg, tt.def); got != tt.want {
				t.Fatalf("RoleFor(%v, default %q) = %q, want %q", tt.groups, tt.def, got, tt.want)
			}
		})
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"Zoë Müller", true},
		{"alice@example.org", true},
		{strings.Repeat("a", MaxNameLen), true},
		{strings.Repeat("a", MaxNameLen+1), false},
		{"", false},
		{"alice\nadmin", false},
		{"alice\x00", false},
		{"\x1b[31mred", false},
		{"bad\xffutf8", false},
		{" alice", false},
		{"alice\u0085", false},
	}
	for _, tt := range tests {
		if got := validName(tt.name); got != tt.ok {
			t.Errorf("validName(%q) = %v, want %v", tt.name, got, tt.ok)
		}
	}
}

func TestCleanGroups(t *testing.T) {
	in := []string{" sre ", "sre", "", "op\ns", "dev", strings.Repeat("g", maxGroupLen+1)}
	if got := cleanGroups(in); !slices.Equal(got, []string{"sre", "dev"}) {
		t.Fatalf("cleanGroups = %q", got)
	}
	many := make([]string, 3*maxGroups)
	for i := range many {
		many[i] = "g" + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + strings.Repeat("y", i/50)
	}
	if got := cleanGroups(many); len(got) != maxGroups {
		t.Fatalf("cleanGroups kept %d groups, bound is %d", len(got), maxGroups)
	}
}
