package auth

import (
	"testing"

	"github.com/dashd/dashd/config"
)

func TestPrincipal_Can(t *testing.T) {
	actions := []Action{View, ReadAPI, ReadMetrics, Chat, Silence, Acknowledge, RunCheck, Admin}
	// want lists, per principal, the actions allowed in the order of
	// actions: V=View R=ReadAPI M=ReadMetrics C=Chat S=Silence A=Acknowledge
	// X=RunCheck D=Admin; "-" is refused.
	tests := []struct {
		name string
		p    Principal
		want string
	}{
		{"viewer session", Principal{Name: "v", Role: config.RoleViewer, Via: ViaSession}, "VRM-----"},
		{"operator session", Principal{Name: "o", Role: config.RoleOperator, Via: ViaSession}, "VRMCSAX-"},
		{"admin session", Principal{Name: "a", Role: config.RoleAdmin, Via: ViaSession}, "VRMCSAXD"},
		{"viewer via proxy", Principal{Name: "v", Role: config.RoleViewer, Via: ViaProxy}, "VRM-----"},
		{"operator via proxy", Principal{Name: "o", Role: config.RoleOperator, Via: ViaProxy}, "VRMCSAX-"},
		{"mode none", Everyone(), "VRMCSAXD"},
		{"token read", Principal{Name: "t", Scope: config.ScopeRead, Via: ViaToken}, "-R------"},
		{"token metrics", Principal{Name: "t", Scope: config.ScopeMetrics, Via: ViaToken}, "--M-----"},
		{"token write", Principal{Name: "t", Scope: config.ScopeWrite, Via: ViaToken}, "-R--SAX-"},
		{"token role ignored", Principal{Name: "t", Role: config.RoleAdmin, Scope: config.ScopeRead, Via: ViaToken}, "-R------"},
		{"token unknown scope", Principal{Name: "t", Scope: "all", Via: ViaToken}, "--------"},
		{"anonymous", Principal{}, "--------"},
		{"role without via", Principal{Name: "x", Role: config.RoleAdmin}, "--------"},
		{"unknown role", Principal{Name: "x", Role: "root", Via: ViaSession}, "--------"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := make([]byte, len(actions))
			for i, a := range actions {
				got[i] = '-'
				if tt.p.Can(a) {
					got[i] = "VRMCSAXD"[i]
				}
			}
			if string(got) != tt.want {
				t.Fatalf("Can = %s, want %s", got, tt.want)
			}
		})
	}
	if (Principal{Role: config.RoleAdmin, Via: ViaSession}).Can(Action(0)) || (Principal{Role: config.RoleAdmin, Via: ViaSession}).Can(Admin+1) {
		t.Error("an admin may take an action that does not exist")
	}
}
