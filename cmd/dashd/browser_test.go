package main

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// TestBrowser_Smoke loads the real daemon's dashboard in headless Chromium and
// sees the embedded Datastar client run: the page's stream connects (the
// server's on-connect patch flips the connection badge through data-class) and
// a data-text bound stat card shows its signal's value.
func TestBrowser_Smoke(t *testing.T) {
	ctx := browsertest.New(t, browsertest.WithTimeout(60*time.Second))
	dir := t.TempDir()
	d := startDaemon(t, "--config", writeConfig(t, dir, ""), "--data", filepath.Join(dir, "dashd.db"))

	if err := chromedp.Do(ctx, chromedp.Navigate(d.url("/"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`!!document.querySelector("#conn.live")`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.outerHTML.slice(0, 2000)"))
		t.Fatalf("the page's stream never connected (Datastar not running?): %v\n%s", err, html)
	}
	// CPU needs two samples; the value arrives by a signal patch.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelector('[data-text*="cpu"]').textContent.includes('%')`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		cpu, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('[data-text*="cpu"]').textContent`))
		t.Fatalf("CPU card shows %q, want a percentage: %v", cpu, err)
	}
}
