package server

import (
	"testing"

	"github.com/dashd/dashd/internal/browsertest"
	"github.com/dashd/dashd/model"
)

// TestFleet_Browser: in Chromium, the overview shows two agents worst
// first, a check going down on the other one moves it first live (no
// reload), and a host page shows the host's checks and goes live.
func TestFleet_Browser(t *testing.T) {
	fs := newFleetStack(t)
	web, _ := startTwoAgents(t, fs)
	ctx := browsertest.New(t)

	navigate(t, ctx, fs.url+"/")
	connected(t, ctx)
	order := `[...document.querySelectorAll('#fleet-grid [data-host]')].map(e => e.dataset.host)`
	pollTrue(t, ctx, "db-1 before web-1", order+`.indexOf('db-1') < `+order+`.indexOf('web-1')`)
	// Mark the page: a reload would lose the mark.
	evalString(t, ctx, `window.__kept = 'yes'; 'ok'`)

	web.check("nginx", model.StateUp, model.StateDown, "HTTP 503")
	pollTrue(t, ctx, "web-1 moved first live", order+`[0] === 'web-1'`)
	pollTrue(t, ctx, "web-1's tile down", `document.querySelector('#fleet-grid [data-host="web-1"]').classList.contains('st-down')`)
	if got := evalString(t, ctx, `window.__kept || ''`); got != "yes" {
		t.Errorf("the page was reloaded: the move must come over the stream")
	}

	navigate(t, ctx, fs.url+"/hosts/db-1")
	connected(t, ctx)
	pollTrue(t, ctx, "db-1's check", `!!document.querySelector('a[href="/hosts/db-1/checks/postgres"]')`)
	pollTrue(t, ctx, "db-1's CPU card", `document.querySelector('#card-cpu .val').textContent.includes('90')`)
}
