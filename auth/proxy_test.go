package auth

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/dashd/dashd/config"
)

func TestFromProxy(t *testing.T) {
	cfg := config.DefaultAuth().Proxy
	cfg.TrustedPrefixes = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/24"), netip.MustParsePrefix("::1/128")}
	cfg.Roles = config.RoleGroups{Admin: []string{"admins"}, Operator: []string{"ops"}}
	noDefault := cfg
	noDefault.DefaultRole = ""

	tests := []struct {
		name    string
		cfg     config.AuthProxyCfg
		remote  string
		headers map[string]string
		want    Principal
		wantErr error
	}{
		{"trusted, groups map to operator", cfg, "10.0.0.5", map[string]string{"Remote-User": "alice", "Remote-Groups": "staff, ops"},
			Principal{Name: "alice", Role: config.RoleOperator, Via: ViaProxy, Groups: []string{"staff", "ops"}}, nil},
		{"highest group wins", cfg, "10.0.0.5", map[string]string{"Remote-User": "bob", "Remote-Groups": "ops,admins"},
			Principal{Name: "bob", Role: config.RoleAdmin, Via: ViaProxy, Groups: []string{"ops", "admins"}}, nil},
		{"default role", cfg, "10.0.0.5", map[string]string{"Remote-User": "carol"},
			Principal{Name: "carol", Role: config.RoleViewer, Via: ViaProxy}, nil},
		{"IPv4-mapped remote", cfg, "::ffff:10.0.0.5", map[string]string{"Remote-User": "carol"},
			Principal{Name: "carol", Role: config.RoleViewer, Via: ViaProxy}, nil},
		{"IPv6 loopback proxy", cfg, "::1", map[string]string{"Remote-User": "carol"},
			Principal{Name: "carol", Role: config.RoleViewer, Via: ViaProxy}, nil},
		{"untrusted remote", cfg, "10.0.1.5", map[string]string{"Remote-User": "admin", "Remote-Groups": "admins"}, Principal{}, ErrNoIdentity},
		{"trusted, nobody named", cfg, "10.0.0.5", map[string]string{}, Principal{}, ErrNoIdentity},
		{"control characters", cfg, "10.0.0.5", map[string]string{"Remote-User": "alice\r\nX-Admin: 1"}, Principal{}, ErrBadName},
		{"name too long", cfg, "10.0.0.5", map[string]string{"Remote-User": strings.Repeat("a", 129)}, Principal{}, ErrBadName},
		{"no role", noDefault, "10.0.0.5", map[string]string{"Remote-User": "dave", "Remote-Groups": "sales"}, Principal{}, ErrNoRole},
		{"invalid remote", cfg, "", map[string]string{"Remote-User": "alice"}, Principal{}, ErrNoIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var remote netip.Addr
			if tt.remote != "" {
				remote = addr(tt.remote)
			}
			p, err := FromProxy(remote, func(h string) string { return tt.headers[h] }, tt.cfg)
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("FromProxy error = %v, want %v", err, tt.wantErr)
			}
			if p.Name != tt.want.Name || p.Role != tt.want.Role || p.Via != tt.want.Via || !slices.Equal(p.Groups, tt.want.Groups) {
				t.Fatalf("FromProxy = %+v, want %+v", p, tt.want)
			}
		})
	}
}
