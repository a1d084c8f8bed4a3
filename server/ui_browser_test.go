package server

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// Browser tests: real headless Chromium against a whole dashd (newTestStack)
// on a free port. Waits poll the page (chromedp.Poll) under generous
// timeouts: the machine is shared and slow, and nothing here is a timing
// assertion.

const waitLong = 20 * time.Second

// pollTrue waits until the JavaScript expression is true in the page.
func pollTrue(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(waitLong),
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.querySelector('main') ? document.querySelector('main').outerHTML.slice(0, 3000) : document.documentElement.outerHTML.slice(0, 3000)"))
		t.Fatalf("waiting for %s (%s): %v\npage: %s", what, expr, err, html)
	}
}

func evalString(t *testing.T, ctx context.Context, expr string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

func navigate(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("navigate %s: %v", url, err)
	}
}

// connected waits until the page's single stream is open.
func connected(t *testing.T, ctx context.Context) {
	t.Helper()
	pollTrue(t, ctx, "the stream to connect", `!!document.querySelector('#conn.live')`)
}

// artifacts is where screenshots go (git-ignored).
func artifacts(t *testing.T) string {
	dir := filepath.Join("..", "test-artifacts")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func screenshot(t *testing.T, ctx context.Context, name string, width, height int64, theme string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.EmulateViewport(width, height),
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(`(document.documentElement.dataset.theme=%q, true)`, theme)))
			return err
		}),
		chromedp.Sleep(400*time.Millisecond),
	)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(artifacts(t), name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestUI_DashboardLive: the page connects, a stat updates without a reload,
// a check turning 200 -> 500 shows down within two check intervals and the
// notification count goes up. Screenshots in four variants.
func TestUI_DashboardLive(t *testing.T) {
	target := newFlipServer(t)
	checks := httpCheckYAML("web", "frontend", target.url) + httpCheckYAML("api", "backend", target.url)
	// Short sparkline steps so the screenshots show a filled sparkline.
	st := newTestStack(t, stackOptions{checks: checks, sample: 100 * time.Millisecond, sparkStep: 200 * time.Millisecond, sparkPoints: 30})
	ctx := browsertest.New(t, browsertest.WithTimeout(90*time.Second))

	navigate(t, ctx, st.url+"/")
	connected(t, ctx)
	pollTrue(t, ctx, "both checks up", `document.querySelectorAll('#checks .check.st-up').length === 2`)

	// A stat changes without reload: the processes card's signal text or the
	// CPU value moves; mark the document so a reload would be noticed.
	evalString(t, ctx, `(window.__marker = 'same-page', '')`)
	first := evalString(t, ctx, `document.querySelector('#card-cpu .val').textContent + '|' + document.querySelector('#card-procs .sub').textContent + '|' + document.querySelector('#spark-cpu').outerHTML.length`)
	pollTrue(t, ctx, "a stat to change", fmt.Sprintf(`(document.querySelector('#card-cpu .val').textContent + '|' + document.querySelector('#card-procs .sub').textContent + '|' + document.querySelector('#spark-cpu').outerHTML.length) !== %q`, first))
	if evalString(t, ctx, `window.__marker || ''`) != "same-page" {
		t.Fatal("the page reloaded")
	}

	before := evalString(t, ctx, `document.querySelector('#unread-count').textContent`)
	target.code.Store(500)
	// Two check intervals (1s each) plus generous slack for a busy machine.
	pollTrue(t, ctx, "web down on the dashboard", `!!document.querySelector('#check-web.st-down') && !!document.querySelector('#check-api.st-down')`)
	pollTrue(t, ctx, "the unread count to go up", fmt.Sprintf(`document.querySelector('#unread-count').textContent !== %q && getComputedStyle(document.querySelector('#unread-count')).display !== 'none'`, before))
	pollTrue(t, ctx, "the status badge to say down", `document.querySelector('#status-badge').textContent.includes('down')`)
	pollTrue(t, ctx, "the event list", `document.querySelector('#events').textContent.includes('up → down')`)

	pollTrue(t, ctx, "sparklines with history", `(document.querySelector('#spark-cpu path')?.getAttribute('d') || '').split(' ').length > 50`)
	for _, v := range []struct {
		name          string
		width, height int64
		theme         string
	}{
		{"dashboard-desktop-dark", 1440, 900, "dark"},
		{"dashboard-desktop-light", 1440, 900, "light"},
		{"dashboard-phone-dark", 390, 844, "dark"},
		{"dashboard-phone-light", 390, 844, "light"},
	} {
		screenshot(t, ctx, v.name, v.width, v.height, v.theme)
	}

	// Opening the panel marks everything read, in this tab and the session's others.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900), chromedp.Click(chromedp.CSS("#notif-button"))); err != nil {
		t.Fatal(err)
	}
	pollTrue(t, ctx, "the panel to list the notification", `document.querySelector('#notif-list').textContent.includes('web')`)
	pollTrue(t, ctx, "unread to drop to zero", `getComputedStyle(document.querySelector('#unread-count')).display === 'none'`)
	screenshot(t, ctx, "dashboard-notifications-light", 1440, 900, "light")
	if s := evalString(t, ctx, `document.body.innerText`); !strings.Contains(s, "web is down") {
		t.Errorf("panel text lacks the notification title: %.300s", s)
	}
}
