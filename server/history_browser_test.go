package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// pointAt moves the mouse to the slot of the chart that holds the instant
// at (a real pointer event, as a user's) and returns the readout under the
// chart and the slot's start as the browser shows times (its own locale
// and zone).
func pointAt(t *testing.T, ctx context.Context, chart string, at time.Time) (readout, slotTime string) {
	t.Helper()
	geo := evalString(t, ctx, fmt.Sprintf(`(() => { const p = document.querySelector('#hc-%s .hplot'); p.scrollIntoView({block: 'center'});
		const r = p.getBoundingClientRect(), d = p.dataset, n = +d.n;
		const i = Math.max(0, Math.min(n - 1, Math.floor((%d - +d.t0) / +d.st)));
		const f = {hour: '2-digit', minute: '2-digit', hour12: false};
		if (d.tf === 's') f.second = '2-digit';
		return [r.left + r.width * (i + 0.5) / n, r.top + r.height / 2, new Date(+d.t0 + i * +d.st).toLocaleString([], f)].join('|'); })()`, chart, at.UnixMilli()))
	parts := strings.Split(geo, "|")
	var x, y float64
	if _, err := fmt.Sscanf(parts[0]+" "+parts[1], "%g %g", &x, &y); err != nil || len(parts) != 3 {
		t.Fatalf("plot geometry %q: %v", geo, err)
	}
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, x-3, y), chromedp.MouseEvent(chromedp.MouseMoved, x, y)); err != nil {
		t.Fatal(err)
	}
	sel := fmt.Sprintf(`document.querySelector('#hc-%s .hread').textContent`, chart)
	pollTrue(t, ctx, "a readout under chart "+chart, sel+` !== ''`)
	return evalString(t, ctx, sel), parts[2]
}

// clickTo clicks the link sel, as a user, and waits until its page has
// loaded (evaluations fail while the old document goes: they are retried).
func clickTo(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	href := evalString(t, ctx, fmt.Sprintf(`document.querySelector(%q).href`, sel))
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatalf("click %s: %v", sel, err)
	}
	deadline := time.Now().Add(waitLong)
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '|' + document.readyState`))
		if err == nil && got == href+"|complete" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("click %s: the page %s did not load (at %q, %v)", sel, href, got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestUI_HistoryLive: in a browser in India's time zone, a stat card opens
// its history; an interface's page switches ranges; the pointer reads
// values, and "no data" over the ten minutes dashd was stopped; the right
// edge of the CPU chart moves on without a reload.
func TestUI_HistoryLive(t *testing.T) {
	st := newHistoryStack(t)
	now := time.Now()
	ctx := browsertest.New(t, browsertest.WithTimeout(150*time.Second))
	err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}

	// A stat card opens its history.
	navigate(t, ctx, st.url+"/")
	connected(t, ctx)
	pollTrue(t, ctx, "the network card", `!!document.querySelector('#card-net .card-link')`)
	clickTo(t, ctx, "#card-net .card-link")
	pollTrue(t, ctx, "the network history", `location.pathname === '/host/net' && !!document.querySelector('#history-charts')`)
	connected(t, ctx)
	// The stream carried the browser's offset: the charts are redrawn in
	// India's time, and the cookie makes the next page right at once.
	pollTrue(t, ctx, "axes in local time", `document.querySelector('.hist-src').textContent.includes('UTC+05:30')`)

	// An item of the group, then the ranges.
	clickTo(t, ctx, `.hist-items a[href="/host/net?iface=`+histIface+`"]`)
	pollTrue(t, ctx, "the interface's page", `location.search === '?iface=`+histIface+`' && document.querySelector('.hist-src').textContent.includes('UTC+05:30')`)
	connected(t, ctx)
	for _, r := range []struct{ name, source string }{{"6h", "minute rollups"}, {"7d", "hour rollups"}, {"1h", "raw samples"}} {
		sel := `.seg a[href*="range=` + r.name + `"]`
		if r.name == "1h" { // the default range: no parameter
			sel = `.seg a[href="/host/net?iface=` + histIface + `"]`
		}
		clickTo(t, ctx, sel)
		pollTrue(t, ctx, "range "+r.name, fmt.Sprintf(`document.querySelector('.seg a[aria-current]').textContent === %q && document.querySelector('.hist-src').textContent.includes(%q)`, r.name, r.source))
		connected(t, ctx)
	}
	screenshot(t, ctx, "history-net-light", 1280, 900, "light")

	// The pointer over the second run of samples reads both series in the
	// chart's unit, with the slot's local time; over the stop, no data.
	if off := evalString(t, ctx, `String(new Date().getTimezoneOffset())`); off != "-330" {
		t.Fatalf("the browser's offset is %s, not India's", off)
	}
	got, slotTime := pointAt(t, ctx, "h0", now.Add(-10*time.Minute))
	if !strings.Contains(got, "in 2 MiB/s") || !strings.Contains(got, "out 0.5 MiB/s") {
		t.Errorf("readout %q, want in 2 MiB/s and out 0.5 MiB/s", got)
	}
	if !strings.HasPrefix(got, slotTime+" · ") {
		t.Errorf("readout %q does not start with the slot's local time %q", got, slotTime)
	}
	if vis := evalString(t, ctx, `getComputedStyle(document.querySelector('#hc-h0 .hcur')).display`); vis == "none" {
		t.Error("no cursor line under the pointer")
	}
	if got, _ := pointAt(t, ctx, "h0", now.Add(-30*time.Minute)); !strings.Contains(got, "no data") {
		t.Errorf("readout over the stop %q, want no data", got)
	}
	// The viewport as it is (a full-page capture moves the pointer away).
	evalString(t, ctx, `(document.documentElement.dataset.theme = 'dark', '')`)
	pointAt(t, ctx, "h0", now.Add(-5*time.Minute))
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(artifacts(t), "history-net-readout-dark.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	// Leaving the charts hides the readout.
	if err := chromedp.Do(ctx, chromedp.MouseEvent(chromedp.MouseMoved, 2, 2)); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, ctx, "the readout to go", `document.querySelector('#hc-h0 .hread').textContent === ''`)

	// The cookie makes the HTML itself local from now on.
	html := evalString(t, ctx, `(() => { const x = new XMLHttpRequest(); x.open('GET', '/host/cpu', false); x.send(); return x.responseText; })()`)
	if !strings.Contains(html, "times in UTC+05:30") {
		t.Errorf("a page loaded after the first one is not in local time from its first byte: %.200s", html)
	}

	// The CPU page, from the sampler: the right edge moves on live.
	navigate(t, ctx, st.url+"/host/cpu")
	connected(t, ctx)
	pollTrue(t, ctx, "cpu samples at the right edge", `(document.querySelector('#he-h0')?.dataset.vals || '') !== ''`)
	evalString(t, ctx, `(window.__marker = 'same-page', '')`)
	edge := `(() => { const e = document.querySelector('#he-h0'), p = document.querySelector('#hc-h0 .hplot'); return p.dataset.t0 + '|' + e.dataset.vals + '|' + e.innerHTML; })()`
	before := evalString(t, ctx, edge)
	pollTrue(t, ctx, "the right edge to move", fmt.Sprintf(`%s !== %q`, edge, before))
	if evalString(t, ctx, `window.__marker || ''`) != "same-page" {
		t.Fatal("the page reloaded")
	}
	// The readout reads the open slot too.
	got, _ = pointAt(t, ctx, "h0", time.Now())
	if !regexp.MustCompile(`busy [0-9.]+%`).MatchString(got) {
		t.Errorf("readout at the right edge %q, want busy N%%", got)
	}
	screenshot(t, ctx, "history-cpu-phone-dark", 390, 844, "dark")
}
