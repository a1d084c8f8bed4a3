// Package browsertest starts headless Chromium for tests that must prove
// behaviour in a real browser (Datastar bytes, attributes, morphing).
//
// A test calls New to get a chromedp context bound to one tab, and NewTab or
// NewIsolated for more. Everything is torn down by t.Cleanup. When Chromium is
// not installed the test is skipped with a loud message, never passed
// silently.
package browsertest

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ExecPath is where the CI script and developers install Chromium.
const ExecPath = "/usr/bin/chromium"

// DefaultTimeout bounds the whole browser of one test: when it passes, the
// browser is killed and every pending action fails.
const DefaultTimeout = 60 * time.Second

// Option tunes New.
type Option func(*config)

type config struct {
	timeout time.Duration
}

// WithTimeout replaces DefaultTimeout.
func WithTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.timeout = d
		}
	}
}

// New starts headless Chromium and returns a chromedp context for its first
// tab, already started, so actions can run with chromedp.Run at once. The
// browser lives until the test ends or the timeout passes, whichever comes
// first. Console messages and uncaught exceptions of the tab go to t.Log.
//
// It calls t.Skip, loudly, when Chromium is missing, unless RequireEnv is set
// (as CI does), in which case a missing browser fails the test.
// RequireEnv names the environment variable that turns a missing Chromium
// from a skip into a failure.
const RequireEnv = "DASHD_REQUIRE_BROWSER"

func New(t testing.TB, opts ...Option) context.Context {
	t.Helper()
	cfg := config{timeout: DefaultTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := os.Stat(ExecPath); err != nil {
		if os.Getenv(RequireEnv) != "" {
			t.Fatalf("chromium not installed at %s and %s is set: browser tests must run (%v)", ExecPath, RequireEnv, err)
		}
		t.Skipf("SKIPPED: chromium not installed at %s; browser behaviour NOT tested (%v)", ExecPath, err)
	}

	// chromedp says: no timeout on the context of the first Run, because the
	// timeout kills the browser. Here that is the point: it bounds the test.
	base, cancelBase := context.WithTimeout(context.Background(), cfg.timeout)
	allocOpts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(ExecPath),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base, allocOpts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
		cancelBase()
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start chromium: %v", err)
	}
	logConsole(t, ctx)
	return ctx
}

// NewTab opens another tab in the same browser context as parent: it shares
// cookies and storage, like a second tab of one user.
func NewTab(t testing.TB, parent context.Context) context.Context {
	t.Helper()
	return newTarget(t, parent)
}

// NewIsolated opens a tab in a fresh browser context (like a separate
// incognito window): no cookies or storage shared with parent, so it acts as
// a second, independent user.
func NewIsolated(t testing.TB, parent context.Context) context.Context {
	t.Helper()
	return newTarget(t, parent, chromedp.WithNewBrowserContext())
}

func newTarget(t testing.TB, parent context.Context, opts ...chromedp.ContextOption) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: open tab: %v", err)
	}
	logConsole(t, ctx)
	return ctx
}

// logConsole copies the tab's console to the test log until the tab closes.
// The copying goroutine is waited for at cleanup, and it stops logging once
// the test is over (logging after the end of a test panics).
func logConsole(t testing.TB, ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	over := false
	done := make(chan struct{})
	messages := chromedp.Console(ctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
					mu.Lock()
					if !over {
						t.Logf("browser console: %v", err)
					}
					mu.Unlock()
				}
				return
			}
			mu.Lock()
			if !over {
				t.Logf("browser console: %s", m)
			}
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		over = true
		mu.Unlock()
		cancel()
		<-done
	})
}
