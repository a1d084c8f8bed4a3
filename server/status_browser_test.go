package server

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/flow"
	"github.com/dashd/dashd/internal/browsertest"
	"github.com/dashd/dashd/statuspage"
	"github.com/dashd/dashd/view"
)

// TestUI_StatusPageNoScript: with JavaScript off the status page is whole
// as served: the banner, the group and the check under their public
// names, 90 bars with dates, the open incident with its public note, the
// feed link; the check that is not chosen is nowhere.
func TestUI_StatusPageNoScript(t *testing.T) {
	st, target := statusStack(t, true, "status")
	target.code.Store(503)
	inc := statusWaitIncident(t, st, "web")
	if err := st.srv.deps.Incidents.Note(context.Background(), inc.ID, authTOperator, "127.0.0.1", "We are looking into slow logins.", true); err != nil {
		t.Fatal(err)
	}
	ctx := browsertest.New(t)
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	}))
	if err != nil {
		t.Fatal(err)
	}
	navigate(t, ctx, st.url+"/status")
	// Script is off: nothing can change the page after it loaded, so what
	// the DOM holds now is what the server sent. Read it through the
	// protocol (Evaluate runs regardless of the page's script setting).
	got := evalString(t, ctx, `JSON.stringify({
		banner: document.querySelector('#status-banner').textContent.trim(),
		groups: [...document.querySelectorAll('.sp-group h2')].map(e => e.textContent),
		checks: [...document.querySelectorAll('.sp-check')].map(e => e.querySelector('.sp-name').textContent + ': ' + e.querySelector('.sp-state').textContent.trim()),
		bars: document.querySelectorAll('.sp-check .sp-bars span').length,
		today: document.querySelector('.sp-check .sp-bars span:last-child').title,
		incident: document.querySelector('#status-incidents').textContent,
		feed: document.querySelector('link[rel=alternate][type="application/atom+xml"]').getAttribute('href'),
		css: getComputedStyle(document.querySelector('.sp-bars')).display,
		text: document.body.innerText})`)
	for _, want := range []string{`"banner":"Major outage"`, `"groups":["Web"]`, `"checks":["Website: Outage"]`, `"bars":90`,
		`"feed":"/status/feed.atom"`, `"css":"flex"`, "We are looking into slow logins.", "Service disruption: Website"} {
		if !strings.Contains(got, want) {
			t.Errorf("page without script lacks %s:\n%s", want, got)
		}
	}
	if today := time.Now().UTC().Format("2006-01-02"); !strings.Contains(got, `"today":"`+today+`: `) {
		t.Errorf("the last bar is not today (%s): %s", today, got)
	}
	for _, leak := range []string{"secret-db", "internal", "PRIVATE"} {
		if strings.Contains(got, leak) {
			t.Errorf("page shows %q", leak)
		}
	}
	screenshot(t, ctx, "status-noscript", 1000, 900, "light")
}

// TestUI_StatusPageLive: with JavaScript the page opens its stream and a
// check's state change arrives without a reload: the check's row and the
// banner change, the incident appears, the page is the same document.
func TestUI_StatusPageLive(t *testing.T) {
	st, target := statusStack(t, true, "status")
	rec, ok := st.srv.deps.Flow.(*flow.Recorder)
	if !ok {
		t.Fatalf("the stack's flow is a %T", st.srv.deps.Flow)
	}
	pub, err := statuspage.New(statuspage.Options{Latest: st.latest, Checks: st.runner, Uptime: st.db,
		Incidents: st.srv.deps.Incidents, Hub: st.hub, Events: rec.Subscribe("statuspage", 256), Debounce: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	pctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- pub.Run(pctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("publisher: %v", err)
		}
	})
	statusWaitUntil(t, "web up", func() bool { s, _ := st.runner.Status("web"); return s.State.String() == "up" })

	ctx := browsertest.New(t)
	navigate(t, ctx, st.url+"/status")
	pollTrue(t, ctx, "the first state", `document.querySelector('#status-banner').textContent.includes('All systems operational')`)
	evalString(t, ctx, `(window.__same = 'yes', '')`)
	statusWaitUntil(t, "the stream", func() bool { return st.hub.RoomCounts()[view.RoomStatus] > 0 })

	target.code.Store(503)
	pollTrue(t, ctx, "the outage, live", `document.querySelector('.sp-check .sp-state').textContent.includes('Outage') &&
		document.querySelector('#status-banner').textContent.includes('outage') &&
		document.querySelector('#status-incidents').textContent.includes('Service disruption: Website')`)
	if same := evalString(t, ctx, `window.__same || 'reloaded'`); same != "yes" {
		t.Errorf("the page reloaded (%s): the change did not arrive over the stream", same)
	}
	target.code.Store(200)
	pollTrue(t, ctx, "the recovery, live", `document.querySelector('.sp-check .sp-state').textContent.includes('Operational')`)
}

// statusWaitUntil polls cond for up to 20 s.
func statusWaitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: timed out", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
