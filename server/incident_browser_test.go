package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// TestIncidentBrowser_Flow: the incident flow in real Chromium, two
// people in two browser contexts (two sessions). A check goes down: the
// incident opens live on the first one's dashboard, unacknowledged; the
// second acknowledges it from its page, and the first's dashboard says
// who is on it, live. Both on the incident's page: a chat line from one
// appears on the other and the sender's input clears. The check recovers:
// the incident resolves live on both pages and the buttons go; the
// check's page shows its MTTA/MTTR.
func TestIncidentBrowser_Flow(t *testing.T) {
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{checks: httpCheckYAML("web", "frontend", target.url)})
	ann := browsertest.New(t, browsertest.WithTimeout(120*time.Second))
	bob := browsertest.NewIsolated(t, ann)
	// Mode none: people are who their session says (the name cookie).
	authTPlantCookie(t, ann, st.url, nameCookie, "ann")
	authTPlantCookie(t, bob, st.url, nameCookie, "bob")

	navigate(t, ann, st.url+"/")
	connected(t, ann)
	pollTrue(t, ann, "web up", `!!document.querySelector('#check-web.st-up')`)
	if evalString(t, ann, `document.querySelector('#incident-banner').hidden ? 'hidden' : 'shown'`) != "hidden" {
		t.Fatal("the banner shows before anything failed")
	}
	evalString(t, ann, `(window.__marker = 'same-page', '')`)

	target.code.Store(500)
	pollTrue(t, ann, "the incident to open live on the dashboard",
		`(b => !b.hidden && b.textContent.includes('#1 web is down') && b.textContent.includes('unacknowledged'))(document.querySelector('#incident-banner'))`)

	navigate(t, bob, st.url+"/incidents/1")
	connected(t, bob)
	pollTrue(t, bob, "the opening in the timeline", `document.querySelector('#incident-timeline').textContent.includes('up → down')`)
	if err := chromedp.Do(bob, chromedp.Click(chromedp.CSS("#inc-ack"))); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, ann, "who is on it, live on the first dashboard",
		`document.querySelector('#incident-banner').textContent.includes('acknowledged by bob')`)
	if evalString(t, ann, `window.__marker || ''`) != "same-page" {
		t.Fatal("the dashboard reloaded")
	}

	navigate(t, ann, st.url+"/incidents/1")
	connected(t, ann)
	pollTrue(t, ann, "the header says who is on it", `document.querySelector('#incident-head').textContent.includes('acknowledged by bob')`)
	// Times are the browser's local ones, written by the page.
	pollTrue(t, ann, "local times", `(t => t.textContent === new Date(t.getAttribute('datetime')).toLocaleString())(document.querySelector('#incident-head time'))`)

	// A chat line each way: it reaches the other page, the sender's
	// input clears.
	for _, m := range []struct {
		name     string
		from, to context.Context
		text     string
	}{{"bob to ann", bob, ann, "restarting nginx now"}, {"ann to bob", ann, bob, "thanks, watching the graphs"}} {
		if err := chromedp.Do(m.from, chromedp.SendKeys(chromedp.CSS("#inc-chat-input"), m.text), chromedp.Click(chromedp.CSS(".chat-form button"))); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		pollTrue(t, m.to, m.name+": the line on the other page", fmt.Sprintf(`document.querySelector('#incident-timeline').textContent.includes(%q)`, m.text))
		pollTrue(t, m.from, m.name+": the input to clear", `document.querySelector('#inc-chat-input').value === ''`)
	}

	target.code.Store(200)
	for _, p := range []struct {
		name string
		ctx  context.Context
	}{{"ann", ann}, {"bob", bob}} {
		pollTrue(t, p.ctx, p.name+": the incident to resolve live",
			`document.querySelector('#incident-head').textContent.includes('resolved') && document.querySelector('#incident-timeline').textContent.includes('everything recovered')`)
		pollTrue(t, p.ctx, p.name+": the acknowledge button to go", `document.querySelector('#inc-ack').offsetParent === null`)
	}
	screenshot(t, ann, "incident-resolved-light", 1280, 900, "light")

	// The check page's panel fetches its MTTA/MTTR once it loads.
	navigate(t, ann, st.url+"/checks/web")
	pollTrue(t, ann, "the check's MTTA/MTTR", `(p => p.textContent.includes('30 days') && p.textContent.includes('90 days') && !p.textContent.includes('Loading'))(document.querySelector('#check-incidents'))`)
}
