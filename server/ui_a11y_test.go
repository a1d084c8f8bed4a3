package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
	"github.com/dashd/dashd/model"
)

// The accessibility audit (issue #16): every HTML page of a dashd with
// data on it, audited by axe-core (the npm devDependency, installed by
// `npm ci`; never embedded in the binary) in real Chromium, in the light
// and the dark colour scheme, as served and once its stream connected and
// patched it; the dashboard also at a phone's width. A serious or
// critical violation fails the test; moderate and minor ones are logged.
// A GET route that is neither a page of the audit nor listed in
// a11yNotPages fails it too, so a new page cannot skip the audit.

// a11yAxePath is axe-core's browser bundle, from the repository root.
var a11yAxePath = filepath.Join("..", "node_modules", "axe-core", "axe.min.js")

// a11yPage is one page of the audit.
type a11yPage struct {
	route string // the registered GET route that renders it
	path  string // what the browser opens
}

// a11yNotPages are the GET routes that render no HTML page, with why.
var a11yNotPages = map[string]string{
	"/healthz":                             "plain-text probe",
	"/readyz":                              "plain-text probe",
	"/metrics":                             "Prometheus text",
	"/licenses":                            "plain-text notices",
	"/auth/login":                          "OIDC redirect (mode oidc only)",
	"/auth/callback":                       "OIDC redirect (mode oidc only)",
	"/hosts/:host/checks/:check/incidents": "SSE patch of an agent check page's incident figures (audited within /hosts/:host/checks/:name)",
	"/checks/:check/incidents":             "SSE patch of the check page's incident figures (audited within /checks/:name)",
	"/status/feed.atom":                    "Atom feed",
	"/api/events":                          "SSE stream",
	"/api/notifications/connect":           "SSE stream",
}

// a11yIsPage reports whether the GET route renders an HTML page: every
// route but the streams, the assets, the API, the badges and a11yNotPages.
func a11yIsPage(route string) bool {
	if _, ok := a11yNotPages[route]; ok {
		return false
	}
	for _, p := range []string{"/static/", "/api/"} {
		if strings.HasPrefix(route, p) {
			return false
		}
	}
	return !strings.Contains(route, "/badge/") && !strings.HasSuffix(route, "/events") && !strings.HasSuffix(route, "/connect")
}

// a11yAxe reads axe-core's bundle: a loud skip when npm ci has not
// installed it, a failure when browser tests are required (CI).
func a11yAxe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(a11yAxePath)
	if err != nil {
		if os.Getenv(browsertest.RequireEnv) != "" {
			t.Fatalf("axe-core missing at %s and %s is set: run `npm ci` (make test does): %v", a11yAxePath, browsertest.RequireEnv, err)
		}
		t.Skipf("SKIPPED: axe-core missing at %s (run `npm ci`); accessibility NOT audited (%v)", a11yAxePath, err)
	}
	return string(b)
}

// a11yViolation is what the audit reports of one axe violation.
type a11yViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		HTML    string `json:"html"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
	Count int `json:"count"`
}

func (v a11yViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s, %d nodes): %s", v.ID, v.Impact, v.Count, v.Help)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n      %v %s\n        %s", n.Target, n.HTML, strings.ReplaceAll(n.Summary, "\n", " / "))
	}
	return b.String()
}

// a11yRun injects axe into the current document (once) and runs it.
const a11yRun = `(async () => {
	const r = await axe.run(document, {resultTypes: ['violations']});
	return JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
		nodes: v.nodes.slice(0, 4).map(n => ({target: n.target, html: n.html.slice(0, 240), failureSummary: n.failureSummary}))})));
})()`

// a11yAudit runs axe on the page in both colour schemes and returns the
// serious and critical violations, described; the others are logged.
func a11yAudit(t *testing.T, ctx context.Context, axeSrc, what string) []string {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === 'object' || (() => {`+axeSrc+"\n;return typeof axe === 'object'})()")); err != nil {
		t.Fatalf("%s: inject axe-core: %v", what, err)
	}
	var bad []string
	for _, scheme := range []string{"light", "dark"} {
		a11yScheme(t, ctx, scheme)
		out, err := chromedp.Run(ctx, chromedp.Evaluate[string](a11yRun, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatalf("%s (%s): axe.run: %v", what, scheme, err)
		}
		var vs []a11yViolation
		if err := json.Unmarshal([]byte(out), &vs); err != nil {
			t.Fatalf("%s (%s): axe result: %v: %.500s", what, scheme, err, out)
		}
		for _, v := range vs {
			if v.Impact == "serious" || v.Impact == "critical" {
				bad = append(bad, fmt.Sprintf("%s, %s scheme: %s", what, scheme, v))
			} else {
				t.Logf("a11y (not failing) %s, %s scheme: %s", what, scheme, v)
			}
		}
	}
	return bad
}

// a11yScheme emulates prefers-color-scheme; the pages follow it unless the
// theme toggle was used (it never is here).
func a11yScheme(t *testing.T, ctx context.Context, scheme string) {
	t.Helper()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		t.Fatalf("emulate %s scheme: %v", scheme, err)
	}
	// The page's own view of it, to be sure the emulation took.
	want := fmt.Sprintf(`matchMedia('(prefers-color-scheme: %s)').matches`, scheme)
	pollTrue(t, ctx, scheme+" scheme", want)
}

// a11yOpen opens path and waits until it loaded; when the page has a
// stream, also until it connected and a patch changed the document after
// it loaded (its live state).
func a11yOpen(t *testing.T, ctx context.Context, base, path string) {
	t.Helper()
	navigate(t, ctx, base+path)
	authTPoll(t, ctx, path+" to load", `document.readyState === 'complete'`)
	if got := evalString(t, ctx, `location.pathname + location.search`); got != a11yPathOnly(path) {
		t.Fatalf("opened %s, the browser is on %s", path, got)
	}
	if evalString(t, ctx, `document.querySelector('#conn') ? 'stream' : ''`) == "stream" {
		connected(t, ctx)
		pollTrue(t, ctx, path+": a patch from the stream", `window.__a11yMutations > 0`)
	}
}

// a11yPathOnly is path with its query as the browser writes it.
func a11yPathOnly(path string) string {
	u, err := url.Parse(path)
	if err != nil || u.RawQuery == "" {
		return path
	}
	return u.EscapedPath() + "?" + u.RawQuery
}

// a11yCountMutations makes every document of the tab count the changes to
// it after DOMContentLoaded (the stream's patches) in window.__a11yMutations.
func a11yCountMutations(t *testing.T, ctx context.Context) {
	t.Helper()
	const script = `window.__a11yMutations = 0;
document.addEventListener('DOMContentLoaded', () => new MutationObserver(l => { window.__a11yMutations += l.length })
	.observe(document.documentElement, {subtree: true, childList: true, characterData: true, attributes: true}));`
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script}); err != nil {
		t.Fatalf("count mutations: %v", err)
	}
}

// a11yStack is a dashd in mode local with data on every page: web down
// (an open incident, acknowledged, with a public note and a chat line;
// a firing alert delivered to a loopback webhook; notifications), api
// silenced, the ops chat with messages, the status page with a group,
// stored host history for an interface and a filesystem, and the audit
// log from the sign-ins. The test flips the target back to 200 to watch
// the dashboard recover live.
func a11yStack(t *testing.T) (*testStack, *flipServer, model.Incident) {
	t.Helper()
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) }))
	t.Cleanup(rcv.Close)
	target := newFlipServer(t)
	target.code.Store(503)
	dir := t.TempDir()
	writeHostHistory(t, filepath.Join(dir, "dashd.db"), time.Now())
	head := authTHead(t, "status") + statusHead(true) +
		"alerts:\n  group_wait: 0s\n  channels:\n    - name: ops-hook\n      type: webhook\n      url: " + rcv.URL + "/hook\n  routes:\n    - channels: [ops-hook]\n"
	checks := httpCheckYAML("web", "frontend", target.url) + httpCheckYAML("api", "backend", target.url)
	st := newTestStack(t, stackOptions{dir: dir, head: head, checks: checks})

	inc := statusWaitIncident(t, st, "web")
	ctx := context.Background()
	if _, err := st.srv.deps.Alerts.AddSilence(ctx, model.Silence{Checks: []string{"api"}, End: time.Now().Add(2 * time.Hour),
		Author: authTOperator, Comment: "deploying the api"}); err != nil {
		t.Fatalf("silence: %v", err)
	}
	d := st.srv.deps.Incidents
	if err := d.Ack(ctx, inc.ID, authTOperator, "127.0.0.1"); err != nil {
		t.Fatalf("ack: %v", err)
	}
	if err := d.Note(ctx, inc.ID, authTOperator, "127.0.0.1", "We are looking into slow logins.", true); err != nil {
		t.Fatalf("note: %v", err)
	}
	if err := d.Chat(ctx, inc.ID, authTOperator, "127.0.0.1", "restarting the frontend"); err != nil {
		t.Fatalf("incident chat: %v", err)
	}
	c := authTNewClient(t, st)
	c.mustLogin(authTOperator)
	for _, m := range []string{"is anyone on web?", "yes, looking"} {
		if r := c.write("POST", "/chat/ops/send", fmt.Sprintf(`{"message":%q}`, m)); r.code != http.StatusOK {
			t.Fatalf("chat = %d: %s", r.code, r.body)
		}
	}
	return st, target, inc
}

// a11yPages lists the pages of the audit, signed in as an admin.
func a11yPages(t *testing.T, st *testStack, inc model.Incident) []a11yPage {
	t.Helper()
	pages := []a11yPage{
		{"/", "/"},
		{"/checks/:name", "/checks/web"},
		{"/checks/:name", "/checks/web?range=7d"},
		{"/incidents", "/incidents"},
		{"/incidents/:id", fmt.Sprintf("/incidents/%d", inc.ID)},
		{"/alerts", "/alerts"},
		{"/chat/:room", "/chat/ops"},
		{"/audit", "/audit"},
		{"/status", "/status"},
	}
	for _, g := range []string{"cpu", "memory", "swap", "load", "net", "disk", "processes", "dashd", "fs"} {
		pages = append(pages, a11yPage{"/host/:group", "/host/" + g})
	}
	// One item page of each kind that has items: the stored fixtures, and
	// a disk if the sampler found one.
	pages = append(pages, a11yPage{"/host/:group", "/host/net?iface=" + url.QueryEscape(histIface)},
		a11yPage{"/host/:group", "/host/fs?mount=" + url.QueryEscape(histMount)})
	names, err := st.db.SeriesNames()
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if dev, ok := strings.CutPrefix(n, "disk.read_bytes{dev="); ok {
			pages = append(pages, a11yPage{"/host/:group", "/host/disk?dev=" + url.QueryEscape(strings.TrimSuffix(dev, "}"))})
			break
		}
	}
	return pages
}

// a11yCheckRoutes fails when a GET route renders a page that the audit
// does not visit.
func a11yCheckRoutes(t *testing.T, st *testStack, audited []string) {
	t.Helper()
	var missing []string
	for _, r := range st.srv.app.GetRoutes(true) {
		if r.Method == http.MethodGet && a11yIsPage(r.Path) && !slices.Contains(audited, r.Path) {
			missing = append(missing, r.Path)
		}
	}
	if len(missing) > 0 {
		t.Errorf("GET routes %v render pages the accessibility audit does not visit: add them to a11yPages (or, if they render no HTML page, to a11yNotPages)", missing)
	}
}

// TestUI_A11yEveryPage: axe-core finds no serious or critical violation
// on any page, in either colour scheme, as served and live; the dashboard
// also at 390 px wide.
func TestUI_A11yEveryPage(t *testing.T) {
	axeSrc := a11yAxe(t)
	st, target, inc := a11yStack(t)
	pages := a11yPages(t, st, inc)
	// The fleet's pages are audited by TestUI_A11yFleetPages.
	audited := []string{"/login"}
	for _, p := range append(pages, a11yFleetPages...) {
		audited = append(audited, p.route)
	}
	a11yCheckRoutes(t, st, audited)

	ctx := browsertest.New(t, browsertest.WithTimeout(8*time.Minute))
	a11yCountMutations(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	var bad []string
	// Signed out: the login form (with an error, as after a wrong
	// password), and the public status page.
	navigate(t, ctx, st.url+"/status")
	authTPoll(t, ctx, "the public status page", `location.pathname === '/status' && document.readyState === 'complete'`)
	bad = append(bad, a11yAudit(t, ctx, axeSrc, "/status (signed out)")...)
	navigate(t, ctx, st.url+"/")
	authTBrowserLogin(t, ctx, authTAdmin, "wrong password")
	authTPoll(t, ctx, "the sign-in refused", `location.pathname === '/login' && document.readyState === 'complete' && !!document.querySelector('form.login-form #username')`)
	bad = append(bad, a11yAudit(t, ctx, axeSrc, "/login (signed out, after a wrong password)")...)
	navigate(t, ctx, st.url+"/login")
	authTPoll(t, ctx, "the login page", `location.pathname === '/login' && document.readyState === 'complete'`)
	bad = append(bad, a11yAudit(t, ctx, axeSrc, "/login (signed out)")...)

	authTBrowserLogin(t, ctx, authTAdmin, authTPassword)
	authTPoll(t, ctx, "the dashboard after sign-in", `location.pathname === '/' && !!document.querySelector('#checks')`)
	bad = append(bad, a11yAuditPages(t, ctx, axeSrc, st.url, pages)...)

	// The dashboard live: after the checks recovered while it was open
	// (state changes, the incident banner, unread notifications: all by
	// the stream), with the notifications panel open, and at a phone's
	// width.
	a11yOpen(t, ctx, st.url, "/")
	pollTrue(t, ctx, "web down on the dashboard", `!!document.querySelector('#check-web.st-down')`)
	target.code.Store(200)
	pollTrue(t, ctx, "web up, live", `!!document.querySelector('#check-web.st-up')`)
	pollTrue(t, ctx, "unread notifications", `getComputedStyle(document.querySelector('#unread-count')).display !== 'none'`)
	bad = append(bad, a11yAudit(t, ctx, axeSrc, "/ (live)")...)
	bad = append(bad, a11yBadgeContrast(t, ctx, "#unread-count")...)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#notif-button"))); err != nil {
		t.Fatalf("open the notifications: %v", err)
	}
	pollTrue(t, ctx, "the notifications listed", `document.querySelector('#notif-list').textContent.includes('web')`)
	bad = append(bad, a11yAudit(t, ctx, axeSrc, "/ (notifications open)")...)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	a11yOpen(t, ctx, st.url, "/")
	bad = append(bad, a11yAudit(t, ctx, axeSrc, "/ (390 px)")...)

	if len(bad) > 0 {
		t.Errorf("%d serious or critical accessibility violations:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Error("the browser timed out")
	}
}

// a11yContrast is the WCAG contrast ratio of an element's text colour on
// its own opaque background colour.
const a11yContrast = `(sel => {
	const lum = c => { const v = c.match(/[\d.]+/g).slice(0, 3).map(x => +x / 255)
		.map(x => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4); return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
	const s = getComputedStyle(document.querySelector(sel)), a = lum(s.color), b = lum(s.backgroundColor);
	return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
})`

// a11yBadgeContrast checks the contrast of a badge of a few characters
// (the unread count) in both colour schemes: axe leaves text that short
// undecided ("incomplete"), so it would never report it.
func a11yBadgeContrast(t *testing.T, ctx context.Context, sel string) []string {
	t.Helper()
	var bad []string
	for _, scheme := range []string{"light", "dark"} {
		a11yScheme(t, ctx, scheme)
		ratio, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf("%s(%q)", a11yContrast, sel)))
		if err != nil {
			t.Fatalf("contrast of %s: %v", sel, err)
		}
		if ratio < 4.5 {
			bad = append(bad, fmt.Sprintf("/ (live), %s scheme: %s has a contrast of %.2f:1, under 4.5:1", scheme, sel, ratio))
		}
	}
	return bad
}

// a11yAuditPages opens and audits each page.
func a11yAuditPages(t *testing.T, ctx context.Context, axeSrc, base string, pages []a11yPage) []string {
	t.Helper()
	var bad []string
	for _, p := range pages {
		a11yOpen(t, ctx, base, p.path)
		bad = append(bad, a11yAudit(t, ctx, axeSrc, p.path)...)
	}
	return bad
}

// a11yFleetPages are the pages of a hub with agents (web-1 and db-1 of
// startTwoAgents; testhost is the hub's own host).
var a11yFleetPages = []a11yPage{
	{"/", "/"},
	{"/hosts/:host", "/hosts/web-1"},
	{"/hosts/:host", "/hosts/testhost"},
	{"/hosts/:host/checks/:name", "/hosts/web-1/checks/nginx"},
}

// TestUI_A11yFleetPages: on a hub with two agents (one with a check
// down), the fleet overview, a host's dashboard, the hub's own and an
// agent's check page have no serious or critical violation either.
func TestUI_A11yFleetPages(t *testing.T) {
	axeSrc := a11yAxe(t)
	fs := newFleetStack(t)
	web, _ := startTwoAgents(t, fs)
	web.check("nginx", model.StateUp, model.StateDown, "HTTP 503")
	ctx := browsertest.New(t, browsertest.WithTimeout(4*time.Minute))
	a11yCountMutations(t, ctx)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
	bad := a11yAuditPages(t, ctx, axeSrc, fs.url, a11yFleetPages)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatal(err)
	}
	a11yOpen(t, ctx, fs.url, "/")
	bad = append(bad, a11yAudit(t, ctx, axeSrc, "/ (fleet, 390 px)")...)
	if len(bad) > 0 {
		t.Errorf("%d serious or critical accessibility violations:\n  %s", len(bad), strings.Join(bad, "\n  "))
	}
}
