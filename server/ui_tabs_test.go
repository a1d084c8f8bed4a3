package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dashd/dashd/internal/browsertest"
)

// Headless Chromium never hides a tab: every tab stays "visible", so a test
// cannot make the browser do what it does when the user switches tabs. These
// two helpers do it by hand, exactly as the browser would: flip
// document.hidden and fire visibilitychange.
const (
	hideTab = `(Object.defineProperty(document, 'hidden', {value: true, configurable: true}),
		Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true}),
		document.dispatchEvent(new Event('visibilitychange')), '')`
	showTab = `(delete document.hidden, delete document.visibilityState,
		document.dispatchEvent(new Event('visibilitychange')), '')`
)

// TestUI_EightTabs: eight tabs of one browser on the dashboard. Browsers
// allow six HTTP/1.1 connections per origin and a page holds one stream; the
// client closes the stream of a hidden tab (its default) and reopens it,
// with full state from the hub's on-connect, when the tab is shown again. So
// eight (or eighty) tabs never exhaust the connections, and every tab, when
// looked at, is live and current.
func TestUI_EightTabs(t *testing.T) {
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{checks: httpCheckYAML("web", "", target.url)})
	first := browsertest.New(t, browsertest.WithTimeout(100*time.Second))
	tabs := []context.Context{first}
	for len(tabs) < 8 {
		tabs = append(tabs, browsertest.NewTab(t, first))
	}
	for i, ctx := range tabs {
		if i > 0 {
			evalString(t, tabs[i-1], hideTab) // the user switches to the next tab
		}
		navigate(t, ctx, st.url+"/")
		connected(t, ctx)
		pollTrue(t, ctx, fmt.Sprintf("tab %d shows web up", i), `!!document.querySelector('#check-web.st-up')`)
	}

	target.code.Store(500)
	for i, ctx := range tabs {
		prev := tabs[(i+len(tabs)-1)%len(tabs)]
		evalString(t, prev, hideTab)
		evalString(t, ctx, showTab)
		pollTrue(t, ctx, fmt.Sprintf("tab %d shows web down", i), `!!document.querySelector('#check-web.st-down') && !!document.querySelector('#conn.live')`)
		// And it keeps moving while in front.
		const stat = `document.querySelector('#card-procs .val').textContent + document.querySelector('#card-cpu .val').textContent + document.querySelector('#card-mem .sub').textContent + document.querySelector('#card-cpu .spark').outerHTML`
		v := evalString(t, ctx, stat)
		pollTrue(t, ctx, fmt.Sprintf("tab %d stat update", i), fmt.Sprintf(`(%s) !== %q`, stat, v))
	}
	if n := st.hub.RoomCounts()["dashboard"]; n > 2 {
		t.Logf("note: %d dashboard streams still registered (closed ones are noticed at the next heartbeat)", n)
	}
}
