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

// TestFleet_BrowserCheckPage: in Chromium, an agent's check page is live:
// the check going down on the agent shows in its summary, its last
// results and its events without a reload, and the page offers no "Run
// now" (that would run the hub's own check of that name).
func TestFleet_BrowserCheckPage(t *testing.T) {
	fs := newFleetStack(t)
	web, _ := startTwoAgents(t, fs)
	ctx := browsertest.New(t)

	navigate(t, ctx, fs.url+"/hosts/web-1/checks/nginx")
	connected(t, ctx)
	summary := `document.querySelector('#check-summary')`
	pollTrue(t, ctx, "nginx up", summary+`.classList.contains('st-up')`)
	pollTrue(t, ctx, "today's uptime bar all up", `document.querySelector('#check-uptime .bars .bar:last-child').classList.contains('u-good')`)
	if n := evalString(t, ctx, `String(document.querySelectorAll('[data-on-click*="/run"]').length)`); n != "0" {
		t.Errorf("an agent's check page offers %s \"Run now\" buttons", n)
	}
	// Mark the page: a reload would lose the mark.
	evalString(t, ctx, `window.__kept = 'yes'; 'ok'`)

	web.check("nginx", model.StateUp, model.StateDown, "HTTP 503")
	pollTrue(t, ctx, "nginx down live", summary+`.classList.contains('st-down') && `+summary+`.textContent.includes('HTTP 503')`)
	pollTrue(t, ctx, "the failed result listed", `document.querySelector('#check-results').textContent.includes('HTTP 503')`)
	pollTrue(t, ctx, "the state change listed", `document.querySelector('#check-events').textContent.includes('up → down: HTTP 503')`)
	pollTrue(t, ctx, "today's uptime bar no longer all up", `!document.querySelector('#check-uptime .bars .bar:last-child').classList.contains('u-good')`)
	if got := evalString(t, ctx, `window.__kept || ''`); got != "yes" {
		t.Errorf("the page was reloaded: the change must come over the stream")
	}
}
