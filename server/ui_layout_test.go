package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// cutTextJS lists the card and tile texts that do not fit their box: wider
// than the element (scrollWidth > clientWidth), or running past the card
// that clips them. Empty when no text is cut.
const cutTextJS = `(() => {
	const bad = [];
	for (const el of document.querySelectorAll('.card h2, .card .hint, .card .val, .card .sub, .check-name, .check-meta > span, .check .reason, .group-h')) {
		if (!el.offsetParent) continue; // not displayed
		const box = el.closest('.card, .check, .group').getBoundingClientRect(), r = el.getBoundingClientRect();
		if (el.scrollWidth > el.clientWidth + 1 || r.right > box.right + 1 || r.left < box.left - 1) {
			bad.push((el.closest('[id]') || el).id + ' ' + el.className + ': "' + el.textContent.trim() + '" ' + el.scrollWidth + '>' + el.clientWidth);
		}
	}
	return bad.join('\n');
})()`

// rowsJS counts the items of a grid per row (by their top edge), top first.
func rowsJS(selector string) string {
	return `(() => {
	const rows = new Map();
	for (const el of document.querySelectorAll(` + strconv.Quote(selector) + `)) {
		const top = Math.round(el.getBoundingClientRect().top);
		rows.set(top, (rows.get(top) || 0) + 1);
	}
	return [...rows.keys()].sort((a, b) => a - b).map(k => rows.get(k)).join(',');
})()`
}

// TestUI_Layout loads the dashboard at common widths and checks what a new
// user saw go wrong: no card text is cut, the stat grid has no half-empty
// row, small check groups share a row instead of stacking into a
// staircase, and on a phone the checks come before the host cards.
func TestUI_Layout(t *testing.T) {
	target := newFlipServer(t)
	// Long names and reasons on purpose; two small groups.
	checks := httpCheckYAML("web", "frontend", target.url) +
		httpCheckYAML("payments-api-eu-west-1-primary", "backend", target.url) +
		"  - {name: db-replica-connection-pool, type: tcp, group: backend, address: '127.0.0.1:1', interval: 1s, timeout: 500ms, fail_after: 1}\n"
	st := newTestStack(t, stackOptions{checks: checks})
	ctx := browsertest.New(t, browsertest.WithTimeout(120*time.Second))

	navigate(t, ctx, st.url+"/")
	connected(t, ctx)
	pollTrue(t, ctx, "every check has a result", `document.querySelectorAll('#checks .check.st-up, #checks .check.st-down').length === 3`)

	tests := []struct {
		width      int64
		shareRow   bool // the two groups side by side
		checksHigh bool // the checks above the host cards
	}{
		{1920, true, false},
		{1400, true, false},
		{1024, true, false},
		{768, false, false},
		{390, false, true},
	}
	for _, tt := range tests {
		t.Run(strconv.FormatInt(tt.width, 10), func(t *testing.T) {
			if err := chromedp.Do(ctx, chromedp.EmulateViewport(tt.width, 900), chromedp.Sleep(300*time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			if cut := evalString(t, ctx, cutTextJS); cut != "" {
				t.Errorf("text cut at %d px:\n%s", tt.width, cut)
			}
			rows := strings.Split(evalString(t, ctx, rowsJS("#stats > .card")), ",")
			first, _ := strconv.Atoi(rows[0])
			last, _ := strconv.Atoi(rows[len(rows)-1])
			if len(rows) > 1 && last < first-1 {
				t.Errorf("stat cards per row %v at %d px: the last row is not balanced with the first", rows, tt.width)
			}
			groups := evalString(t, ctx, rowsJS("#checks .group"))
			if tt.shareRow && groups != "2" {
				t.Errorf("check groups per row %q at %d px, want both groups on one row", groups, tt.width)
			}
			if tt.width <= 640 && groups != "1,1" {
				t.Errorf("check groups per row %q at %d px, want one group per row on a phone", groups, tt.width)
			}
			above := evalString(t, ctx, `String(document.querySelector('#checks').getBoundingClientRect().top < document.querySelector('#stats').getBoundingClientRect().top)`)
			if (above == "true") != tt.checksHigh {
				t.Errorf("checks above the host cards: %s at %d px, want %v", above, tt.width, tt.checksHigh)
			}
			screenshot(t, ctx, "layout-"+strconv.FormatInt(tt.width, 10), tt.width, 900, "light")
		})
	}
}

// TestUI_HeartbeatStrip: each check tile shows its last results as bars,
// newest right, with when, state and latency in each bar's title; new
// results arrive live (bar by bar) and a failing check's bars are red.
func TestUI_HeartbeatStrip(t *testing.T) {
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{checks: httpCheckYAML("web", "edge", target.url)})
	ctx := browsertest.New(t, browsertest.WithTimeout(90*time.Second))
	navigate(t, ctx, st.url+"/")
	connected(t, ctx)
	evalString(t, ctx, `(window.__marker = 'same-page', '')`)

	pollTrue(t, ctx, "a first bar", `document.querySelectorAll('#hb-web > i.hb-up').length >= 1`)
	n, _ := strconv.Atoi(evalString(t, ctx, `String(document.querySelectorAll('#hb-web > i').length)`))
	pollTrue(t, ctx, "more bars, live", `document.querySelectorAll('#hb-web > i').length >= `+strconv.Itoa(n+2))
	title := evalString(t, ctx, `document.querySelector('#hb-web > i:last-child').getAttribute('title')`)
	if !regexp.MustCompile(`^\d\d:\d\d:\d\d up \d+ (µs|ms)$`).MatchString(title) {
		t.Errorf("newest bar's title %q, want time, state and latency", title)
	}
	if role := evalString(t, ctx, `document.querySelector('#hb-web > i').getAttribute('role') || ''`); role != "img" {
		t.Errorf("bar role %q: its title is its accessible name only as an img", role)
	}

	target.code.Store(500)
	pollTrue(t, ctx, "a red bar, newest right", `document.querySelector('#hb-web > i:last-child').classList.contains('hb-down')`)
	if evalString(t, ctx, `window.__marker || ''`) != "same-page" {
		t.Fatal("the page reloaded")
	}
	// A strip never shows more than 30 bars, however long the page stays.
	pollTrue(t, ctx, "30 bars at most", `document.querySelectorAll('#hb-web > i').length >= 8`)
	shown := evalString(t, ctx, `String([...document.querySelectorAll('#hb-web > i')].filter(i => i.offsetParent).length)`)
	if v, _ := strconv.Atoi(shown); v > 30 {
		t.Errorf("%s bars shown, want at most 30", shown)
	}
}
