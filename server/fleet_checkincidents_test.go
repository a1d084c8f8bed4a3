package server

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/internal/browsertest"
	"github.com/dashd/dashd/model"
)

// TestFleet_CheckIncidentsPerHost: an agent's check page leads back
// through its host and asks the host-scoped incidents route, which counts
// the incidents about "<check>@<host>": not the hub's own check of that
// name, not another host's.
func TestFleet_CheckIncidentsPerHost(t *testing.T) {
	fs := newFleetStack(t)
	startTwoAgents(t, fs)
	m, ok := fs.srv.deps.Incidents.(*incident.Manager)
	if !ok {
		t.Fatalf("the stack's incidents are a %T, not the Manager", fs.srv.deps.Incidents)
	}
	// As the hub's ingester hands over the agent's event.
	down := model.Event{Time: time.Now(), Kind: model.EventCheck, Check: "nginx", From: model.StateUp, To: model.StateDown, Reason: "refused"}
	if err := m.HostEvent(context.Background(), "web-1", down); err != nil {
		t.Fatal(err)
	}

	code, page := fs.get("/hosts/web-1/checks/nginx")
	if code != http.StatusOK {
		t.Fatalf("agent check page = %d", code)
	}
	for _, want := range []string{`@get(&#39;/hosts/web-1/checks/nginx/incidents&#39;)`, `<a href="/hosts/web-1">web-1</a>`} {
		if !strings.Contains(page, want) {
			t.Errorf("agent check page lacks %s", want)
		}
	}
	if n := strings.Count(page, "/checks/nginx/incidents"); n != 1 {
		t.Errorf("agent check page names %d incidents routes, want the host's alone", n)
	}

	tests := []struct {
		name string
		path string
		code int
		want string // in the answer
	}{
		{"the host's check", "/hosts/web-1/checks/nginx/incidents", 200, `<th scope="row">30 days</th><td>1</td>`},
		{"another host's check", "/hosts/db-1/checks/postgres/incidents", 200, `<th scope="row">30 days</th><td>0</td>`},
		{"a check the host has not", "/hosts/db-1/checks/nginx/incidents", 404, "no check"},
		{"an unknown host", "/hosts/nope-9/checks/nginx/incidents", 404, "no fleet host"},
		{"the hub's own name: its own check", "/hosts/testhost/checks/nginx/incidents", 404, "unknown check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := fs.get(tt.path)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("GET %s = %d, want %d with %q:\n%.1500s", tt.path, code, tt.code, tt.want, body)
			}
		})
	}
}

// TestFleet_BrowserCheckIncidents: in Chromium, an agent's check page
// loads its incidents panel from the host-scoped route: one incident
// about the agent's check in the last 30 days.
func TestFleet_BrowserCheckIncidents(t *testing.T) {
	fs := newFleetStack(t)
	startTwoAgents(t, fs)
	m, ok := fs.srv.deps.Incidents.(*incident.Manager)
	if !ok {
		t.Fatalf("the stack's incidents are a %T, not the Manager", fs.srv.deps.Incidents)
	}
	down := model.Event{Time: time.Now(), Kind: model.EventCheck, Check: "nginx", From: model.StateUp, To: model.StateDown, Reason: "refused"}
	if err := m.HostEvent(context.Background(), "web-1", down); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	navigate(t, ctx, fs.url+"/hosts/web-1/checks/nginx")
	pollTrue(t, ctx, "the panel's figures loaded",
		`[...document.querySelectorAll('#check-incidents tbody tr')].map(r => r.cells[0].textContent.trim()).join(',') !== ''`)
	if got := evalString(t, ctx, `document.querySelector('#check-incidents tbody tr td').textContent.trim()`); got != "1" {
		t.Errorf("incidents in 30 days on the agent's check page: %q, want 1", got)
	}
}
