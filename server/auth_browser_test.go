package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"html"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/internal/browsertest"
)

// Sign-in and roles in real Chromium (issue #15): the login form, the
// live dashboard of a signed-in user, sign-out closing the session's
// streams, what a viewer is shown and refused, cross-site forms, and no
// session fixation. Waits poll under generous timeouts (pollTrue,
// authTPoll).

// authTPoll waits until the JavaScript expression is true in the page,
// across navigations (pollTrue stops at the first one: a form submitted
// and a redirect followed are navigations).
func authTPoll(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	var last error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](expr))
		if err == nil && ok {
			return
		}
		last = err
		time.Sleep(100 * time.Millisecond)
	}
	page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText.slice(0, 2000) : "")`))
	t.Fatalf("waiting for %s (%s): last error %v\npage: %s", what, expr, last, page)
}

// authTBrowserLogin fills in and submits the login form the browser is on.
func authTBrowserLogin(t *testing.T, ctx context.Context, user, password string) {
	t.Helper()
	authTPoll(t, ctx, "the login form", `location.pathname === '/login' && !!document.querySelector('form.login-form #username')`)
	evalString(t, ctx, `(document.querySelector('#username').value = '', document.querySelector('#password').value = '', '')`)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#username"), user),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("form.login-form button[type=submit]")),
	); err != nil {
		t.Fatalf("submit the login form: %v", err)
	}
}

// authTBrowserCookie returns the value of the browser's cookie name for
// the dashd at base ("" when it has none). HttpOnly cookies are out of the
// page's reach; the DevTools protocol reads them as the browser keeps them.
func authTBrowserCookie(t *testing.T, ctx context.Context, base, name string) string {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatalf("read cookies: %v", err)
	}
	for _, c := range res.Cookies {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// authTPlantCookie sets a cookie in the browser for the dashd at base, as
// an attacker who could write the victim's cookies would.
func authTPlantCookie(t *testing.T, ctx context.Context, base, name, value string) {
	t.Helper()
	yes := true
	if _, err := chromedp.Call(ctx, network.SetCookie, network.SetCookieParams{
		Name: name, Value: value, URL: base + "/", Path: "/", HTTPOnly: &yes, SameSite: network.CookieSameSiteLax,
	}); err != nil {
		t.Fatalf("plant cookie %s: %v", name, err)
	}
	if got := authTBrowserCookie(t, ctx, base, name); got != value {
		t.Fatalf("planted cookie %s reads %q, want %q", name, got, value)
	}
}

// authTAsCookie is a client that sends the session cookie id.
func authTAsCookie(t *testing.T, st *testStack, id string) *authTClient {
	c := authTNewClient(t, st)
	c.hc.Jar = nil
	c.hdr.Set("Cookie", authCookie+"="+id)
	return c
}

// authTWaitFor polls cond until it holds or a generous deadline passes.
func authTWaitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLong)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// authTWatchConsole collects the tab's console messages from now on; the
// returned function lists those that contain word.
func authTWatchConsole(t *testing.T, ctx context.Context) func(word string) []string {
	t.Helper()
	wctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	var msgs []string
	done := make(chan struct{})
	messages := chromedp.Console(wctx)
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			msgs = append(msgs, m.String())
			mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return func(word string) []string {
		mu.Lock()
		defer mu.Unlock()
		var out []string
		for _, m := range msgs {
			if strings.Contains(m, word) {
				out = append(out, m)
			}
		}
		return out
	}
}

// authTOpenStream opens /api/events with the session cookie id and
// returns a channel closed when the server ends the stream.
func authTOpenStream(t *testing.T, st *testStack, id string) <-chan struct{} {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", st.url+"/api/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Cookie", authCookie+"="+id)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatalf("open the stream: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		t.Fatalf("open the stream: status %d", resp.StatusCode)
	}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
		}
	}()
	return ended
}

// TestAuthBrowser_LoginLiveLogout: an operator signs in with the form, the
// dashboard is live (a check going down reaches the page through the
// stream), and the page's Sign out button ends the session: the page ends
// on /login, the server closes the session's streams (one held open
// outside the browser ends too), and the old cookie opens nothing.
func TestAuthBrowser_LoginLiveLogout(t *testing.T) {
	st, target := authTStack(t)
	ctx := browsertest.New(t, browsertest.WithTimeout(120*time.Second))
	console := authTWatchConsole(t, ctx)

	navigate(t, ctx, st.url+"/")
	authTBrowserLogin(t, ctx, authTOperator, authTPassword)
	authTPoll(t, ctx, "the dashboard after sign-in", `location.pathname === '/' && !!document.querySelector('#checks')`)
	connected(t, ctx)
	pollTrue(t, ctx, "the user's name and a Sign out button", `document.querySelector('.who')?.textContent.includes('otto') && !!document.querySelector('.who button')`)
	pollTrue(t, ctx, "web up", `!!document.querySelector('#check-web.st-up')`)

	id := authTBrowserCookie(t, ctx, st.url, authCookie)
	if id == "" {
		t.Fatal("no session cookie after sign-in")
	}
	key := auth.SessionKey(id)
	authTWaitFor(t, "the page's stream under the session", func() bool { return slices.Contains(st.hub.Sessions(), key) })

	evalString(t, ctx, `(window.__marker = 'same-page', '')`)
	target.code.Store(500)
	pollTrue(t, ctx, "web down through the stream", `!!document.querySelector('#check-web.st-down')`)
	if evalString(t, ctx, `window.__marker || ''`) != "same-page" {
		t.Fatal("the page reloaded instead of following the stream")
	}

	// A second stream of the same session, held outside the browser: only
	// the server can end it.
	held := authTOpenStream(t, st, id)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".who button"))); err != nil {
		t.Fatalf("click Sign out: %v", err)
	}
	authTPoll(t, ctx, "the login page after sign-out", `location.pathname === '/login' && !!document.querySelector('#username')`)
	select {
	case <-held:
	case <-time.After(waitLong):
		t.Fatal("the session's stream outside the browser is still open after sign-out")
	}
	authTWaitFor(t, "no stream left for the session", func() bool {
		return !slices.Contains(st.hub.Sessions(), key) && st.hub.ClientCount() == 0
	})
	if got := authTBrowserCookie(t, ctx, st.url, authCookie); got != "" {
		t.Errorf("the browser still holds a session cookie after sign-out")
	}
	if v := console("Content Security Policy"); len(v) > 0 {
		t.Errorf("the page broke its Content-Security-Policy: %q", v)
	}
	old := authTAsCookie(t, st, id)
	if r := old.do("GET", "/api/events", ""); r.code != http.StatusUnauthorized {
		t.Errorf("the old cookie opens /api/events: %d, want 401", r.code)
	}
	if r := old.do("GET", "/", "", "Accept", "text/html"); r.code != http.StatusSeeOther {
		t.Errorf("the old cookie opens the dashboard: %d, want 303 to /login", r.code)
	}
	if list, err := st.db.Sessions(authTOperator); err != nil || len(list) != 0 {
		t.Errorf("sessions left for %s: %v (%v)", authTOperator, list, err)
	}
}

// TestAuthBrowser_SignOutButton: the header's Sign out button works on
// every kind of page, with a stream or without one (the audit page has
// none, so nothing but the button's own answer can take it to /login),
// and breaks no Content-Security-Policy on the way.
func TestAuthBrowser_SignOutButton(t *testing.T) {
	tests := []struct {
		name, user, page string
	}{
		{"dashboard", authTOperator, "/"},
		{"chat", authTViewer, "/chat/ops"},
		{"audit page without a stream", authTAdmin, "/audit"},
	}
	st, _ := authTStack(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := browsertest.New(t, browsertest.WithTimeout(90*time.Second))
			console := authTWatchConsole(t, ctx)
			navigate(t, ctx, st.url+"/login?next="+tt.page)
			authTBrowserLogin(t, ctx, tt.user, authTPassword)
			authTPoll(t, ctx, "the page after sign-in", fmt.Sprintf(`location.pathname === %q && !!document.querySelector('.who button')`, tt.page))
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(".who button"))); err != nil {
				t.Fatalf("click Sign out: %v", err)
			}
			authTPoll(t, ctx, "the login page after sign-out", `location.pathname === '/login' && !!document.querySelector('#username')`)
			if v := console("Content Security Policy"); len(v) > 0 {
				t.Errorf("the page broke its Content-Security-Policy: %q", v)
			}
			if list, err := st.db.Sessions(tt.user); err != nil || len(list) != 0 {
				t.Errorf("sessions left for %s: %+v (%v)", tt.user, list, err)
			}
		})
	}
}

// TestAuthBrowser_RevokedSessionLeavesPage: when a session ends elsewhere
// ("sign out everywhere" from another device), the server closes the
// open page's stream and the page, meeting 401 on its reconnect, goes to
// the login form by itself, to come back where it was.
func TestAuthBrowser_RevokedSessionLeavesPage(t *testing.T) {
	st, _ := authTStack(t)
	ctx := browsertest.New(t, browsertest.WithTimeout(90*time.Second))
	navigate(t, ctx, st.url+"/alerts")
	authTBrowserLogin(t, ctx, authTOperator, authTPassword)
	authTPoll(t, ctx, "the alerts page after sign-in", `location.pathname === '/alerts' && !!document.querySelector('#conn')`)
	connected(t, ctx)

	other := authTNewClient(t, st)
	other.mustLogin(authTOperator)
	if r := other.write("POST", "/logout/everywhere", ""); r.code != http.StatusOK {
		t.Fatalf("sign out everywhere = %d: %s", r.code, r.body)
	}
	authTPoll(t, ctx, "the page to go to the login form", `location.pathname === '/login' && new URLSearchParams(location.search).get('next') === '/alerts'`)
	authTBrowserLogin(t, ctx, authTOperator, authTPassword)
	authTPoll(t, ctx, "back where it was after signing in again", `location.pathname === '/alerts'`)
}

// TestAuthBrowser_ViewerCannotWrite: a viewer is not shown the chat and
// silence forms, and the server refuses even a hand-made request with the
// viewer's cookie (403 with what the role may not do); nothing is stored.
// The same requests with an operator's cookie go through, so the refusal
// is the role's.
func TestAuthBrowser_ViewerCannotWrite(t *testing.T) {
	st, _ := authTStack(t)
	ctx := browsertest.New(t, browsertest.WithTimeout(120*time.Second))

	navigate(t, ctx, st.url+"/chat/ops")
	authTBrowserLogin(t, ctx, authTViewer, authTPassword)
	authTPoll(t, ctx, "the chat page", `location.pathname === '/chat/ops' && !!document.querySelector('#chat-log')`)
	connected(t, ctx)
	if got := evalString(t, ctx, `String(!!document.querySelector('#chat-input') || !!document.querySelector('form.chat-form'))`); got != "false" {
		t.Error("a viewer is shown the chat form")
	}
	if s := evalString(t, ctx, `document.querySelector('main').textContent`); !strings.Contains(s, "can read this room but not post") {
		t.Errorf("the chat page does not say why there is no form: %.500s", s)
	}
	navigate(t, ctx, st.url+"/alerts")
	connected(t, ctx)
	if got := evalString(t, ctx, `String(!!document.querySelector('.silence-form') || !!document.querySelector('#sil-comment'))`); got != "false" {
		t.Error("a viewer is shown the silence form")
	}

	id := authTBrowserCookie(t, ctx, st.url, authCookie)
	if id == "" {
		t.Fatal("no session cookie after sign-in")
	}
	writes := []struct {
		name, method, path, body, refusal string
		ok                                int // the operator's answer
	}{
		{"chat", "POST", "/chat/ops/send", `{"message":"from a viewer"}`, "viewer may not post in the chat", http.StatusOK},
		{"silence form", "POST", "/alerts/silences", `{"silenceChecks":"web","silenceFor":"1h","silenceComment":"from a viewer"}`,
			"viewer may not create or expire silences", http.StatusOK},
		{"silence API", "POST", "/api/v1/silences", `{"checks":["web"],"duration":"1h","comment":"from a viewer"}`,
			"viewer may not create or expire silences", http.StatusCreated},
	}
	viewer := authTAsCookie(t, st, id)
	for _, w := range writes {
		t.Run("viewer "+w.name, func(t *testing.T) {
			r := viewer.write(w.method, w.path, w.body)
			if r.code != http.StatusForbidden || !strings.Contains(r.body, w.refusal) {
				t.Errorf("%s %s = %d %q, want 403 saying %q", w.method, w.path, r.code, r.body, w.refusal)
			}
		})
	}
	if msgs, err := st.db.ChatLatest("ops", 10); err != nil || len(msgs) != 0 {
		t.Errorf("chat stored after the viewer's attempts: %+v (%v)", msgs, err)
	}
	if r := viewer.do("GET", "/api/v1/silences", ""); r.code != http.StatusOK || !strings.Contains(r.body, `"silences":[]`) {
		t.Errorf("silences after the viewer's attempts: %d %s", r.code, r.body)
	}

	op := authTNewClient(t, st)
	op.mustLogin(authTOperator)
	for _, w := range writes {
		if r := op.write(w.method, w.path, w.body); r.code != w.ok {
			t.Errorf("operator %s %s = %d, want %d: %s", w.method, w.path, r.code, w.ok, r.body)
		}
	}
	if msgs, _ := st.db.ChatLatest("ops", 10); len(msgs) != 1 || msgs[0].Author != authTOperator {
		t.Errorf("the operator's message: %+v, want one by %s", msgs, authTOperator)
	}
}

// authTAttacker serves pages from another origin that make the victim's
// browser write to dashd: auto-submitting forms, and a fetch that needs a
// CORS preflight.
func authTAttacker(t *testing.T, dashd string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	form := func(action, enctype string, fields ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, `<!doctype html><title>win a prize</title><body onload="document.forms[0].submit()"><form method="post" action="%s%s" enctype="%s">`,
			dashd, action, enctype)
		for i := 0; i+1 < len(fields); i += 2 {
			fmt.Fprintf(&b, `<input type="hidden" name="%s" value="%s">`, html.EscapeString(fields[i]), html.EscapeString(fields[i+1]))
		}
		b.WriteString(`</form></body>`)
		return b.String()
	}
	// A text/plain form body is name=value: a JSON body that way.
	jsonForm := func(action, json string) string {
		cut := strings.LastIndex(json, `"`)
		return form(action, "text/plain", json[:cut]+`-`, json[cut:])
	}
	pages := map[string]string{
		"/login":    form("/login", "application/x-www-form-urlencoded", "username", authTViewer, "password", authTPassword, "csrf", "0123456789abcdef", "next", "/"),
		"/chat":     jsonForm("/chat/ops/send", `{"message":"csrf"}`),
		"/silence":  jsonForm("/alerts/silences", `{"silenceChecks":"web","silenceFor":"1h","silenceComment":"csrf"}`),
		"/silences": jsonForm("/api/v1/silences", `{"checks":["web"],"duration":"1h","comment":"csrf"}`),
		"/fetch": `<!doctype html><title>loading</title><script>
fetch("` + dashd + `/chat/ops/send", {method: "POST", mode: "cors", credentials: "include",
  headers: {"Datastar-Request": "true", "Content-Type": "application/json"}, body: '{"message":"csrf fetch"}'})
  .then(r => { document.title = "sent " + r.status }, e => { document.title = "blocked" });
</script>`,
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, p)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// TestAuthBrowser_CrossSiteForms: pages from another origin (a second
// loopback port: same site, other origin; and localhost: another site)
// make the signed-in operator's browser post dashd's login form and its
// chat and silence routes. Each is refused and nothing changes: no
// message, no silence, no session for the attacker's account, the
// victim's session as it was.
func TestAuthBrowser_CrossSiteForms(t *testing.T) {
	st, _ := authTStack(t)
	ctx := browsertest.New(t, browsertest.WithTimeout(150*time.Second))
	navigate(t, ctx, st.url+"/login")
	authTBrowserLogin(t, ctx, authTOperator, authTPassword)
	authTPoll(t, ctx, "the dashboard after sign-in", `location.pathname === '/' && !!document.querySelector('#checks')`)
	id := authTBrowserCookie(t, ctx, st.url, authCookie)

	attacker := authTAttacker(t, st.url)
	_, port, _ := net.SplitHostPort(attacker)
	origins := []struct{ name, base string }{
		{"same site, other origin", "http://" + attacker},
		{"other site", "http://localhost:" + port},
	}
	// From another site the browser withholds the SameSite=Lax session
	// cookie, so a route may refuse for want of a sign-in before it looks
	// at where the request came from: refused either way.
	forms := []struct {
		page     string
		refusals []string
	}{
		{"/login", []string{"sign-in refused"}},
		{"/chat", []string{"must come from a dashd page"}},
		{"/silence", []string{"must come from a dashd page"}},
		{"/silences", []string{"must come from a dashd page", "sign in first"}},
	}
	for _, o := range origins {
		for _, f := range forms {
			t.Run(o.name+" "+f.page, func(t *testing.T) {
				navigate(t, ctx, o.base+f.page)
				authTPoll(t, ctx, "the form's answer from dashd", fmt.Sprintf(`location.href.startsWith(%q) && document.readyState === 'complete'`, st.url))
				body := evalString(t, ctx, `document.body ? document.body.innerText : ''`)
				if !slices.ContainsFunc(f.refusals, func(r string) bool { return strings.Contains(body, r) }) {
					t.Errorf("dashd answered %q, want a refusal saying one of %q", body, f.refusals)
				}
			})
		}
		t.Run(o.name+" fetch", func(t *testing.T) {
			navigate(t, ctx, o.base+"/fetch")
			authTPoll(t, ctx, "the fetch to settle", `document.title === 'blocked' || document.title.startsWith('sent')`)
			if got := evalString(t, ctx, `document.title`); got != "blocked" {
				t.Errorf("a cross-origin fetch with Datastar-Request was answered: %s", got)
			}
		})
	}

	if msgs, err := st.db.ChatLatest("ops", 10); err != nil || len(msgs) != 0 {
		t.Errorf("chat stored by cross-site posts: %+v (%v)", msgs, err)
	}
	if sils, err := st.db.Silences(time.Time{}); err != nil || len(sils) != 0 {
		t.Errorf("silences stored by cross-site posts: %+v (%v)", sils, err)
	}
	if list, err := st.db.Sessions(authTViewer); err != nil || len(list) != 0 {
		t.Errorf("the attacker's account was signed in: %+v (%v)", list, err)
	}
	if got := authTBrowserCookie(t, ctx, st.url, authCookie); got != id {
		t.Errorf("the victim's session cookie changed: %q, was %q", got, id)
	}
	if r := authTAsCookie(t, st, id).do("GET", "/api/v1/checks", ""); r.code != http.StatusOK {
		t.Errorf("the victim's session no longer works: %d", r.code)
	}
}

// authTRandomID is a well-formed session id nobody issued.
func authTRandomID(t *testing.T) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// TestAuthBrowser_SessionFixation: a session id in the browser before
// sign-in (planted by an attacker: a made-up one, or the attacker's own
// session) is never the one after it; the made-up one never becomes a
// session, the attacker's ends, and the streams run under the new one.
func TestAuthBrowser_SessionFixation(t *testing.T) {
	tests := []struct {
		name string
		// plant returns the dashd_auth value to plant.
		plant func(t *testing.T, st *testStack) string
	}{
		{"made-up session id", func(t *testing.T, _ *testStack) string { return authTRandomID(t) }},
		{"the attacker's own session", func(t *testing.T, st *testStack) string {
			return authTNewClient(t, st).from("10.7.0.1").mustLogin(authTViewer)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := authTStack(t)
			ctx := browsertest.New(t, browsertest.WithTimeout(90*time.Second))
			planted := tt.plant(t, st)
			plantedTab := strings.Repeat("ab", 16) // a dashd_session (tab id) chosen by the attacker
			authTPlantCookie(t, ctx, st.url, authCookie, planted)
			authTPlantCookie(t, ctx, st.url, sessionCookie, plantedTab)

			navigate(t, ctx, st.url+"/login?next=/")
			authTBrowserLogin(t, ctx, authTOperator, authTPassword)
			authTPoll(t, ctx, "the dashboard after sign-in", `location.pathname === '/' && !!document.querySelector('#checks')`)
			connected(t, ctx)

			id := authTBrowserCookie(t, ctx, st.url, authCookie)
			if id == "" || id == planted {
				t.Fatalf("session cookie after sign-in %q; planted %q", id, planted)
			}
			key := auth.SessionKey(id)
			authTWaitFor(t, "the page's stream under the new session", func() bool { return slices.Contains(st.hub.Sessions(), key) })
			for _, s := range st.hub.Sessions() {
				if s == plantedTab || s == auth.SessionKey(planted) {
					t.Errorf("a stream runs under a planted id %q", s)
				}
			}
			if r := authTAsCookie(t, st, planted).do("GET", "/api/v1/checks", ""); r.code != http.StatusUnauthorized {
				t.Errorf("the planted cookie opens the API: %d, want 401", r.code)
			}
			if r := authTAsCookie(t, st, id).do("GET", "/api/v1/checks", ""); r.code != http.StatusOK {
				t.Errorf("the new cookie does not open the API: %d", r.code)
			}
			if list, _ := st.db.Sessions(authTViewer); len(list) != 0 {
				t.Errorf("the attacker's session outlived the victim's sign-in: %+v", list)
			}
		})
	}
}
