package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/model"
)

// Sign-in and roles over plain HTTP (issue #15): a whole dashd from real
// parts (newTestStack) with an auth: section, and net/http clients on
// loopback. Client addresses other than 127.0.0.1 reach the server the
// way a reverse proxy on this machine sends them: X-Forwarded-For from
// 127.0.0.1, which dashd believes (and from 127.0.0.2, which it does not).

// The secrets of the auth tests. Everyone's password is the same; each
// token is distinct, since a presented token names its configured entry.
const (
	authTPassword     = "correct horse battery staple"
	authTTokenRead    = "dashd-test-token-read-0123456789"
	authTTokenMetrics = "dashd-test-token-metrics-0123456789"
	authTTokenWrite   = "dashd-test-token-write-0123456789"
)

// The users of the auth tests, one per role.
const (
	authTViewer   = "vera"
	authTOperator = "otto"
	authTAdmin    = "ada"
)

// authTHashes are the argon2id hashes of the password and tokens, made
// once per test binary: each costs tens of milliseconds and 19 MiB, and
// package auth offers no cheaper parameters (on purpose: Hash is what
// `dashd passwd` prints).
var authTHashes = sync.OnceValues(func() (map[string]string, error) {
	out := map[string]string{}
	for _, s := range []string{authTPassword, authTTokenRead, authTTokenMetrics, authTTokenWrite} {
		h, err := auth.Hash([]byte(s))
		if err != nil {
			return nil, err
		}
		out[s] = h
	}
	return out, nil
})

// authTHead is the auth: section of the tests: mode local with a viewer,
// an operator and an admin, a token of each scope, and auth.public when
// public is given (the defaults, badges and healthz, otherwise).
func authTHead(t testing.TB, public ...string) string {
	t.Helper()
	h, err := authTHashes()
	if err != nil {
		t.Fatalf("hash: %v", err)
	}
	var b strings.Builder
	b.WriteString("auth:\n  mode: local\n  users:\n")
	for _, u := range []struct{ name, role string }{{authTViewer, "viewer"}, {authTOperator, "operator"}, {authTAdmin, "admin"}} {
		fmt.Fprintf(&b, "    - name: %s\n      password_hash: %q\n      role: %s\n", u.name, h[authTPassword], u.role)
	}
	b.WriteString("  tokens:\n")
	for _, tk := range []struct{ name, secret, scope string }{
		{"reader", authTTokenRead, "read"}, {"scraper", authTTokenMetrics, "metrics"}, {"writer", authTTokenWrite, "write"},
	} {
		fmt.Fprintf(&b, "    - name: %s\n      hash: %q\n      scope: %s\n", tk.name, h[tk.secret], tk.scope)
	}
	if len(public) > 0 {
		fmt.Fprintf(&b, "  public: [%s]\n", strings.Join(public, ", "))
	}
	return b.String()
}

// authTStack is a dashd in mode local with one HTTP check, "web", whose
// target the test can flip.
func authTStack(t *testing.T, public ...string) (*testStack, *flipServer) {
	t.Helper()
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{head: authTHead(t, public...), checks: httpCheckYAML("web", "frontend", target.url)})
	return st, target
}

// authTResp is a response read to the end (or, for a stream, its head).
type authTResp struct {
	code    int
	header  http.Header
	cookies []*http.Cookie
	body    string
}

// cookie returns the Set-Cookie of name, or nil.
func (r authTResp) cookie(name string) *http.Cookie {
	for _, c := range r.cookies {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// authTClient is one client of the test dashd: a browser-like cookie jar
// (optional), headers sent with every request, and no redirects
// followed, so that each answer is seen as sent.
type authTClient struct {
	t    testing.TB
	base string
	hc   *http.Client
	hdr  http.Header
}

// authTNewClient is a client with a cookie jar, like a browser.
func authTNewClient(t testing.TB, st *testStack) *authTClient {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &authTClient{t: t, base: st.url, hdr: http.Header{}, hc: &http.Client{
		Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// from makes the client's requests come from addr, as a reverse proxy on
// this machine says with X-Forwarded-For.
func (c *authTClient) from(addr string) *authTClient {
	c.hdr.Set("X-Forwarded-For", addr)
	return c
}

// do sends a request (hdr: name, value pairs) and reads the answer; a
// stream (text/event-stream) is closed once its head arrived.
func (c *authTClient) do(method, path, body string, hdr ...string) authTResp {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	for k, v := range c.hdr {
		req.Header[k] = slices.Clone(v)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out := authTResp{code: resp.StatusCode, header: resp.Header, cookies: resp.Cookies()}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil {
			c.t.Fatalf("%s %s: read: %v", method, path, err)
		}
		out.body = string(b)
	}
	return out
}

// write sends what a dashd page sends for an action: a same-origin
// Datastar request with the signals as JSON.
func (c *authTClient) write(method, path, body string) authTResp {
	c.t.Helper()
	return c.do(method, path, body, "Datastar-Request", "true", "Content-Type", "application/json",
		"Origin", c.base, "Sec-Fetch-Site", "same-origin")
}

// authTCSRF finds the login form's CSRF token.
var authTCSRF = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// loginForm fetches the login page and returns its CSRF token (the jar
// keeps the cookie it pairs with).
func (c *authTClient) loginForm() string {
	c.t.Helper()
	r := c.do("GET", "/login", "", "Accept", "text/html")
	m := authTCSRF.FindStringSubmatch(r.body)
	if r.code != http.StatusOK || m == nil {
		c.t.Fatalf("GET /login = %d without a CSRF token:\n%.2000s", r.code, r.body)
	}
	return m[1]
}

// postLogin posts the login form as a browser does.
func (c *authTClient) postLogin(csrf, user, password string, hdr ...string) authTResp {
	c.t.Helper()
	form := url.Values{"csrf": {csrf}, "next": {"/"}, "username": {user}, "password": {password}}
	return c.do("POST", "/login", form.Encode(), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
}

// login fills in and posts the login form.
func (c *authTClient) login(user, password string) authTResp {
	c.t.Helper()
	return c.postLogin(c.loginForm(), user, password)
}

// mustLogin signs in or fails the test; it returns the session cookie.
func (c *authTClient) mustLogin(user string) string {
	c.t.Helper()
	r := c.login(user, authTPassword)
	ck := r.cookie(authCookie)
	if r.code != http.StatusSeeOther || ck == nil || ck.Value == "" {
		c.t.Fatalf("sign-in as %s = %d (cookie %v):\n%.2000s", user, r.code, ck, r.body)
	}
	return ck.Value
}

// TestAuthHTTP_CookieFlags: the session and CSRF cookies are HttpOnly,
// SameSite=Lax, Path=/; Secure when the request arrived over TLS as a
// trusted proxy (loopback) says with X-Forwarded-Proto, and not when
// anyone else says so or nobody does.
func TestAuthHTTP_CookieFlags(t *testing.T) {
	st, _ := authTStack(t)
	tests := []struct {
		name       string
		local      string // the client's own address
		proto      string // X-Forwarded-Proto sent
		wantSecure bool
	}{
		{"plain HTTP", "127.0.0.1", "", false},
		{"trusted proxy says https", "127.0.0.1", "https", true},
		{"untrusted peer says https", "127.0.0.2", "https", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(tt.local)}, Timeout: 10 * time.Second}
			c := &authTClient{t: t, base: st.url, hdr: http.Header{}, hc: &http.Client{
				Timeout:       30 * time.Second,
				Transport:     &http.Transport{DialContext: dialer.DialContext},
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}}
			if tt.proto != "" {
				c.hdr.Set("X-Forwarded-Proto", tt.proto)
			}
			check := func(step string, ck *http.Cookie) {
				t.Helper()
				if ck == nil {
					t.Fatalf("%s: no cookie set", step)
				}
				if !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.Secure != tt.wantSecure {
					t.Errorf("%s: cookie %s: HttpOnly=%v SameSite=%v Path=%q Secure=%v; want HttpOnly, Lax, /, Secure=%v",
						step, ck.Name, ck.HttpOnly, ck.SameSite, ck.Path, ck.Secure, tt.wantSecure)
				}
			}
			page := c.do("GET", "/login", "", "Accept", "text/html")
			check("login page", page.cookie(csrfCookie))
			m := authTCSRF.FindStringSubmatch(page.body)
			if m == nil {
				t.Fatalf("no CSRF token in the login page:\n%.1000s", page.body)
			}
			// No jar: a jar keeps Secure cookies from plain HTTP, and the
			// point is what the server sets.
			r := c.postLogin(m[1], authTOperator, authTPassword, "Cookie", csrfCookie+"="+m[1])
			if r.code != http.StatusSeeOther {
				t.Fatalf("sign-in = %d:\n%.1000s", r.code, r.body)
			}
			check("sign-in", r.cookie(authCookie))
			out := c.write("POST", "/logout", "")
			gone := out.cookie(authCookie)
			if gone == nil || gone.Value != "" || (gone.MaxAge >= 0 && !gone.Expires.Before(time.Now())) {
				t.Errorf("sign-out does not clear the session cookie: %+v", gone)
			}
		})
	}
}

// TestAuthHTTP_Throttle: wrong passwords slow down per user (from any
// address) and per address (for any user) with 429, Retry-After and the
// login page's message; an unknown user and a wrong password get the same
// answer. The throttle is keyed: another user from another address is
// not slowed.
func TestAuthHTTP_Throttle(t *testing.T) {
	st, _ := authTStack(t)
	const attempts = 10 // delays double from 1 s after 3 free failures: one of these must be refused

	// throttled posts wrong passwords until one is refused, each from
	// addr(i) for user(i); every answer must be 401 or 429.
	throttled := func(t *testing.T, user, addr func(i int) string) authTResp {
		t.Helper()
		for i := 0; i < attempts; i++ {
			c := authTNewClient(t, st).from(addr(i))
			r := c.login(user(i), "wrong password")
			switch r.code {
			case http.StatusUnauthorized:
				if !strings.Contains(r.body, "Wrong user name or password.") {
					t.Fatalf("attempt %d: 401 without the message:\n%.2000s", i, r.body)
				}
			case http.StatusTooManyRequests:
				return r
			default:
				t.Fatalf("attempt %d: status %d, want 401 or 429:\n%.2000s", i, r.code, r.body)
			}
		}
		t.Fatalf("%d wrong passwords and no 429", attempts)
		return authTResp{}
	}
	checkRefusal := func(t *testing.T, r authTResp) {
		t.Helper()
		wait := r.header.Get("Retry-After")
		if wait == "" || wait == "0" {
			t.Errorf("429 without a Retry-After: %v", r.header)
		}
		if want := "Too many failed attempts: wait " + wait + " s and try again."; !strings.Contains(r.body, want) {
			t.Errorf("429 page lacks %q:\n%.2000s", want, r.body)
		}
		if !strings.Contains(r.body, `name="username"`) {
			t.Errorf("429 is not the login page:\n%.2000s", r.body)
		}
	}

	t.Run("per user from many addresses", func(t *testing.T) {
		r := throttled(t, func(int) string { return authTOperator }, func(i int) string { return fmt.Sprintf("10.1.0.%d", i+1) })
		checkRefusal(t, r)
		// Even the right password waits now: nothing is verified.
		if r := authTNewClient(t, st).from("10.1.1.1").login(authTOperator, authTPassword); r.code != http.StatusTooManyRequests {
			t.Errorf("the right password while throttled = %d, want 429", r.code)
		}
	})
	t.Run("per address for many users", func(t *testing.T) {
		r := throttled(t, func(i int) string { return fmt.Sprintf("nobody%d", i) }, func(int) string { return "10.2.0.1" })
		checkRefusal(t, r)
		// A real user from that address waits too.
		if r := authTNewClient(t, st).from("10.2.0.1").login(authTAdmin, authTPassword); r.code != http.StatusTooManyRequests {
			t.Errorf("a real user from the throttled address = %d, want 429", r.code)
		}
	})
	t.Run("others are not slowed", func(t *testing.T) {
		authTNewClient(t, st).from("10.3.0.1").mustLogin(authTAdmin)
	})
	t.Run("unknown user and wrong password answer alike", func(t *testing.T) {
		answer := func(addr, user string) (int, string) {
			r := authTNewClient(t, st).from(addr).login(user, "wrong password")
			// The page keeps what was typed and carries a fresh token.
			body := strings.ReplaceAll(r.body, `value="`+user+`"`, `value="USER"`)
			body = authTCSRF.ReplaceAllString(body, `name="csrf" value="TOKEN"`)
			return r.code, body
		}
		unknownCode, unknown := answer("10.4.0.1", "mallory")
		wrongCode, wrong := answer("10.4.0.2", authTViewer)
		if unknownCode != http.StatusUnauthorized || wrongCode != http.StatusUnauthorized {
			t.Errorf("unknown user = %d, wrong password = %d; want 401 both", unknownCode, wrongCode)
		}
		if unknown != wrong {
			t.Errorf("the answers differ:\nunknown user:\n%s\nwrong password:\n%s", unknown, wrong)
		}
	})
}

// TestAuthHTTP_BearerTokens: each token scope opens exactly what the
// issue says (read: the API; metrics: /metrics; write: the API and its
// writes; none: the pages), a wrong token is 401, and nothing is a 500.
func TestAuthHTTP_BearerTokens(t *testing.T) {
	st, _ := authTStack(t)
	silence := `{"checks":["web"],"duration":"1h","comment":"maintenance"}`
	routes := []struct {
		name, method, path, body string
	}{
		{"metrics", "GET", "/metrics", ""},
		{"API read", "GET", "/api/v1/checks", ""},
		{"API write", "POST", "/api/v1/silences", silence},
		{"page", "GET", "/", ""},
		{"stream", "GET", "/api/events", ""},
	}
	tests := []struct {
		name  string
		token string
		want  []int // per route
	}{
		{"read", authTTokenRead, []int{403, 200, 403, 403, 403}},
		{"metrics", authTTokenMetrics, []int{200, 403, 403, 403, 403}},
		{"write", authTTokenWrite, []int{403, 200, 201, 403, 403}},
		{"wrong", "not-a-token", []int{401, 401, 401, 401, 401}},
		{"none", "", []int{401, 401, 401, 401, 401}},
	}
	for j, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, rt := range routes {
				c := authTNewClient(t, st)
				// A wrong token counts against its address: each from its own,
				// so that the answer stays 401 rather than turning into 429.
				c.from(fmt.Sprintf("10.5.%d.%d", j, i+1))
				if tt.token != "" {
					c.hdr.Set("Authorization", "Bearer "+tt.token)
				}
				hdr := []string{}
				if rt.body != "" {
					hdr = append(hdr, "Content-Type", "application/json")
				}
				r := c.do(rt.method, rt.path, rt.body, hdr...)
				if r.code != tt.want[i] {
					t.Errorf("%s %s = %d, want %d: %.300s", rt.method, rt.path, r.code, tt.want[i], r.body)
				}
				if r.code == 401 && r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s %s: 401 without WWW-Authenticate", rt.method, rt.path)
				}
				if r.code >= 400 && strings.TrimSpace(r.body) == "" {
					t.Errorf("%s %s: %d without a message", rt.method, rt.path, r.code)
				}
			}
		})
	}
	sils, err := st.db.Silences(time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(sils) != 1 || !strings.Contains(sils[0].Author, "writer") {
		t.Errorf("silences stored: %+v; want one, by the write token", sils)
	}
}

// TestAuthHTTP_PublicSurfaces: /metrics and the API are token-only by
// default and open to anyone when auth.public lists them; writes and
// pages never are; badges and /healthz are public by default.
func TestAuthHTTP_PublicSurfaces(t *testing.T) {
	type probe struct {
		method, path string
		want         int
	}
	silence := `{"checks":["web"],"duration":"1h","comment":"x"}`
	tests := []struct {
		name   string
		public []string
		probes []probe
	}{
		{"defaults", nil, []probe{
			{"GET", "/metrics", 401}, {"GET", "/api/v1/checks", 401}, {"GET", "/healthz", 200}, {"GET", "/badge/web.svg", 200},
			{"POST", "/api/v1/silences", 401}, {"GET", "/", 401},
		}},
		{"metrics public", []string{"metrics"}, []probe{
			{"GET", "/metrics", 200}, {"GET", "/api/v1/checks", 401}, {"GET", "/badge/web.svg", 401}, {"GET", "/healthz", 401},
		}},
		{"metrics and API public", []string{"metrics", "api", "badges", "healthz"}, []probe{
			{"GET", "/metrics", 200}, {"GET", "/api/v1/checks", 200}, {"GET", "/api/v1/silences", 200},
			{"POST", "/api/v1/silences", 401}, {"GET", "/api/v1/audit", 401}, {"GET", "/", 401}, {"GET", "/api/events", 401},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := authTStack(t, tt.public...)
			c := authTNewClient(t, st)
			for _, p := range tt.probes {
				hdr := []string{}
				body := ""
				if p.method == "POST" {
					hdr, body = []string{"Content-Type", "application/json"}, silence
				}
				if r := c.do(p.method, p.path, body, hdr...); r.code != p.want {
					t.Errorf("anonymous %s %s = %d, want %d: %.300s", p.method, p.path, r.code, p.want, r.body)
				}
			}
		})
	}
}

// authTRule says who may use a route.
type authTRule int

const (
	authTRulePublic authTRule = iota + 1 // open to everyone by design
	authTRuleViewer                      // guarded; a viewer may use it
	authTRuleAbove                       // guarded; beyond a viewer (operator, admin, or mode none only)
	// authTRuleOff: off in the tests' configuration, so 404 to everyone
	// before any guard (the status page: status_page.enabled is false;
	// status_http_test.go walks its guard with it on).
	authTRuleOff
)

// authTRoutes classifies every route dashd serves (HEAD as GET). A route
// missing here fails TestAuthHTTP_EveryRouteRefuses: a new route must be
// classified, which is how an unguarded one gets noticed. endsSession
// marks the routes that sign out: the viewer's walk leaves them out (the
// anonymous walk covers their guard).
func authTRoutes() map[string]struct {
	rule        authTRule
	endsSession bool
} {
	type r = struct {
		rule        authTRule
		endsSession bool
	}
	return map[string]r{
		// Public by design: assets and notices, sign-in and sign-out,
		// health (auth.public healthz by default), badges (badges).
		"GET /static/*":                        {authTRulePublic, false},
		"GET /licenses":                        {authTRulePublic, false},
		"GET /login":                           {authTRulePublic, false},
		"POST /login":                          {authTRulePublic, false},
		"POST /logout":                         {authTRulePublic, true},
		"GET /auth/login":                      {authTRulePublic, false},
		"GET /auth/callback":                   {authTRulePublic, false},
		"GET /healthz":                         {authTRulePublic, false},
		"GET /readyz":                          {authTRulePublic, false},
		"GET /badge/:check.svg":                {authTRulePublic, false},
		"GET /badge/:check/uptime/:window.svg": {authTRulePublic, false},
		"GET /badge/:check/latency.svg":        {authTRulePublic, false},
		"GET /badge/:check/shields.json":       {authTRulePublic, false},

		// What a viewer reads.
		"GET /":                             {authTRuleViewer, false},
		"GET /metrics":                      {authTRuleViewer, false},
		"GET /api/status":                   {authTRuleViewer, false},
		"GET /api/checks/:check/status":     {authTRuleViewer, false},
		"GET /api/events":                   {authTRuleViewer, false},
		"GET /checks/:name":                 {authTRuleViewer, false},
		"GET /api/notifications/connect":    {authTRuleViewer, false},
		"POST /api/notifications/read":      {authTRuleViewer, false},
		"GET /chat/:room":                   {authTRuleViewer, false},
		"GET /chat/:room/connect":           {authTRuleViewer, false},
		"GET /alerts":                       {authTRuleViewer, false},
		"GET /host/:group":                  {authTRuleViewer, false},
		"GET /host/:group/events":           {authTRuleViewer, false},
		"GET /api/v1/system":                {authTRuleViewer, false},
		"GET /api/v1/checks":                {authTRuleViewer, false},
		"GET /api/v1/checks/:check":         {authTRuleViewer, false},
		"GET /api/v1/checks/:check/history": {authTRuleViewer, false},
		"GET /api/v1/series":                {authTRuleViewer, false},
		"GET /api/v1/series/*":              {authTRuleViewer, false},
		"GET /api/v1/events":                {authTRuleViewer, false},
		"GET /api/v1/alerts":                {authTRuleViewer, false},
		"GET /api/v1/silences":              {authTRuleViewer, false},
		"GET /api/v1/channels":              {authTRuleViewer, false},
		"GET /api/v1/deliveries":            {authTRuleViewer, false},
		"GET /api/v1/openapi.json":          {authTRuleViewer, false},
		"GET /api/v1/hosts":                 {authTRuleViewer, false},
		// The fleet (issue #18): host-scoped API, pages and streams are
		// read like today's; hosts' badges are badges.
		"GET /api/v1/hosts/:host":                   {authTRuleViewer, false},
		"GET /api/v1/hosts/:host/checks":            {authTRuleViewer, false},
		"GET /api/v1/hosts/:host/checks/:check":     {authTRuleViewer, false},
		"GET /api/v1/hosts/:host/series":            {authTRuleViewer, false},
		"GET /api/v1/hosts/:host/series/*":          {authTRuleViewer, false},
		"GET /api/v1/hosts/:host/events":            {authTRuleViewer, false},
		"GET /api/fleet/events":                     {authTRuleViewer, false},
		"GET /hosts/:host":                          {authTRuleViewer, false},
		"GET /hosts/:host/events":                   {authTRuleViewer, false},
		"GET /hosts/:host/checks/:name":             {authTRuleViewer, false},
		"GET /hosts/:host/checks/:check/incidents":  {authTRuleViewer, false},
		"GET /hosts/:host/badge/:check.svg":         {authTRulePublic, false},
		"GET /hosts/:host/badge/:check/latency.svg": {authTRulePublic, false},
		// Incidents (issue #16): read by viewers, acted on by operators.
		"GET /incidents":               {authTRuleViewer, false},
		"GET /incidents/events":        {authTRuleViewer, false},
		"GET /incidents/:id":           {authTRuleViewer, false},
		"GET /incidents/:id/events":    {authTRuleViewer, false},
		"GET /checks/:check/incidents": {authTRuleViewer, false},
		"GET /api/v1/incidents":        {authTRuleViewer, false},
		"GET /api/v1/incidents/:id":    {authTRuleViewer, false},
		"POST /incidents/:id/ack":      {authTRuleAbove, false},
		"POST /incidents/:id/note":     {authTRuleAbove, false},
		"POST /incidents/:id/resolve":  {authTRuleAbove, false},
		"POST /incidents/:id/hold":     {authTRuleAbove, false},
		"POST /incidents/:id/release":  {authTRuleAbove, false},
		"POST /incidents/:id/chat":     {authTRuleAbove, false},
		"POST /logout/everywhere":      {authTRuleViewer, true},

		// Beyond a viewer.
		"POST /api/session/name":           {authTRuleAbove, false}, // a name of one's own: mode none only
		"POST /chat/:room/send":            {authTRuleAbove, false},
		"POST /alerts/silences":            {authTRuleAbove, false},
		"POST /alerts/silences/:id/expire": {authTRuleAbove, false},
		"POST /alerts/channels/:name/test": {authTRuleAbove, false},
		"POST /api/v1/silences":            {authTRuleAbove, false},
		"DELETE /api/v1/silences/:id":      {authTRuleAbove, false},
		"POST /api/v1/checks/:check/run":   {authTRuleAbove, false},
		"GET /audit":                       {authTRuleAbove, false},
		"GET /api/v1/audit":                {authTRuleAbove, false},

		// The status page (issue #16) is off here: public only when it is
		// enabled and "status" is in auth.public, read like the dashboard
		// when only enabled.
		"GET /status":           {authTRuleOff, false},
		"GET /status/feed.atom": {authTRuleOff, false},
		"GET /status/events":    {authTRuleOff, false},
	}
}

// authTFill puts values into a route's parameters.
func authTFill(path string) string {
	p := strings.NewReplacer(":host", "nohost", ":check", "web", ":name", "web", ":room", "ops", ":id", "1", ":window", "24h", ":group", "cpu").Replace(path)
	if strings.HasSuffix(p, "/*") {
		p = strings.TrimSuffix(p, "*") + "cpu.total"
	}
	return p
}

// TestAuthHTTP_EveryRouteRefuses walks every route of the app, as an
// anonymous client and as a viewer, as an API client and (GET) as a
// browser navigating: every refusal is 401 (a 303 to the login page for
// a browser not signed in) or 403 with a message, never a 500 or a 200;
// what a viewer may use answers without a refusal.
func TestAuthHTTP_EveryRouteRefuses(t *testing.T) {
	st, _ := authTStack(t)
	rules := authTRoutes()
	type route struct{ method, path string }
	var routes []route
	seen := map[string]bool{}
	for _, r := range st.srv.App().GetRoutes(true) {
		if k := r.Method + " " + r.Path; !seen[k] {
			seen[k] = true
			routes = append(routes, route{r.Method, r.Path})
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].method+routes[i].path < routes[j].method+routes[j].path })
	if len(routes) < len(rules) {
		t.Fatalf("only %d routes listed: %v", len(routes), routes)
	}

	anon := authTNewClient(t, st)
	viewer := authTNewClient(t, st)
	viewer.mustLogin(authTViewer)
	walkers := []struct {
		name     string
		c        *authTClient
		signedIn bool
	}{{"anonymous", anon, false}, {"viewer", viewer, true}}

	for _, rt := range routes {
		key := rt.method + " " + rt.path
		rule, ok := rules[key]
		if !ok && rt.method == "HEAD" {
			rule, ok = rules["GET "+rt.path]
		}
		if !ok {
			t.Errorf("route %s is not classified in authTRoutes: say who may use it", key)
			continue
		}
		path := authTFill(rt.path)
		for _, w := range walkers {
			if w.signedIn && rule.endsSession {
				continue
			}
			// As an API client or a dashd page's Datastar request: a write
			// passes the same-origin check, so the guard decides.
			var r authTResp
			switch rt.method {
			case "GET", "HEAD":
				r = w.c.do(rt.method, path, "")
			default:
				r = w.c.write(rt.method, path, "{}")
			}
			refusal := r.code == http.StatusUnauthorized || r.code == http.StatusForbidden
			switch {
			case r.code >= 500 && r.code != http.StatusServiceUnavailable:
				t.Errorf("%s %s %s = %d: %.300s", w.name, rt.method, path, r.code, r.body)
			case rule.rule == authTRuleOff:
				if r.code != http.StatusNotFound {
					t.Errorf("%s %s %s = %d, want 404 (off here): %.300s", w.name, rt.method, path, r.code, r.body)
				}
			case rule.rule == authTRulePublic:
				// Open to all, though it may refuse for reasons of its own
				// (the login form's CSRF token): never for want of a sign-in.
				if r.code == http.StatusUnauthorized {
					t.Errorf("%s %s %s = %d on a public route: %.300s", w.name, rt.method, path, r.code, r.body)
				}
			case w.signedIn && rule.rule == authTRuleViewer:
				if refusal {
					t.Errorf("%s %s %s = %d, want no refusal: %.300s", w.name, rt.method, path, r.code, r.body)
				}
			case !w.signedIn && r.code != http.StatusUnauthorized:
				t.Errorf("%s %s %s = %d, want 401: %.300s", w.name, rt.method, path, r.code, r.body)
			case w.signedIn && r.code != http.StatusForbidden:
				t.Errorf("%s %s %s = %d, want 403: %.300s", w.name, rt.method, path, r.code, r.body)
			case rt.method != "HEAD" && strings.TrimSpace(r.body) == "":
				t.Errorf("%s %s %s = %d without a message", w.name, rt.method, path, r.code)
			}

			// As a browser navigating to the page.
			if rt.method != "GET" {
				continue
			}
			r = w.c.do("GET", path, "", "Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
			loc := r.header.Get("Location")
			toLogin := r.code == http.StatusSeeOther && strings.HasPrefix(loc, "/login")
			switch {
			case r.code >= 500 && r.code != http.StatusServiceUnavailable:
				t.Errorf("%s browser GET %s = %d: %.300s", w.name, path, r.code, r.body)
			case rule.rule == authTRuleOff:
				if r.code != http.StatusNotFound {
					t.Errorf("%s browser GET %s = %d %s, want 404 (off here)", w.name, path, r.code, loc)
				}
			case rule.rule == authTRulePublic || (w.signedIn && rule.rule == authTRuleViewer):
				if r.code == http.StatusUnauthorized || r.code == http.StatusForbidden || toLogin {
					t.Errorf("%s browser GET %s = %d %s, want no refusal", w.name, path, r.code, loc)
				}
			case !w.signedIn:
				if want := "/login?next=" + url.QueryEscape(path); r.code != http.StatusSeeOther || loc != want {
					t.Errorf("%s browser GET %s = %d Location %q, want 303 to %s", w.name, path, r.code, loc, want)
				}
			case r.code != http.StatusForbidden || strings.TrimSpace(r.body) == "":
				t.Errorf("%s browser GET %s = %d %q, want 403 with a message", w.name, path, r.code, r.body)
			}
		}
	}
	// The walk changed nothing a viewer may not change.
	if msgs, _ := st.db.ChatLatest("ops", 10); len(msgs) != 0 {
		t.Errorf("chat messages stored by the walk: %+v", msgs)
	}
	if sils, _ := st.db.Silences(time.Time{}); len(sils) != 0 {
		t.Errorf("silences stored by the walk: %+v", sils)
	}
}

// authTAudit reads the audit log through the API.
func authTAudit(t *testing.T, c *authTClient) []model.Event {
	t.Helper()
	r := c.do("GET", "/api/v1/audit", "")
	if r.code != http.StatusOK {
		t.Fatalf("GET /api/v1/audit = %d: %.500s", r.code, r.body)
	}
	var out struct {
		Events []model.Event `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatalf("audit JSON: %v\n%.500s", err, r.body)
	}
	// A sign-in is no state change: no check event's from and to.
	var raw struct {
		Events []map[string]any `json:"events"`
	}
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatalf("audit JSON: %v", err)
	}
	for _, e := range raw.Events {
		if _, ok := e["from"]; ok {
			t.Errorf("audit entry with a state change: %v", e)
		}
	}
	return out.Events
}

// TestAuthHTTP_Audit: a failed sign-in, a sign-in, a silence and a
// sign-out are in the audit log with the user and the client's address;
// only admins read it (page and API), not viewers, operators nor tokens.
func TestAuthHTTP_Audit(t *testing.T) {
	st, _ := authTStack(t)
	const failedFrom, otto = "10.9.0.1", "10.9.0.2"

	if r := authTNewClient(t, st).from(failedFrom).login(authTOperator, "wrong password"); r.code != http.StatusUnauthorized {
		t.Fatalf("wrong password = %d", r.code)
	}
	op := authTNewClient(t, st).from(otto)
	op.mustLogin(authTOperator)
	if r := op.write("POST", "/api/v1/silences", `{"checks":["web"],"duration":"1h","comment":"deploy"}`); r.code != http.StatusCreated {
		t.Fatalf("silence = %d: %s", r.code, r.body)
	}
	// Neither a viewer, nor an operator, nor a token reads the log.
	viewer := authTNewClient(t, st)
	viewer.mustLogin(authTViewer)
	token := authTNewClient(t, st)
	token.hdr.Set("Authorization", "Bearer "+authTTokenWrite)
	for _, who := range []struct {
		name string
		c    *authTClient
	}{{"viewer", viewer}, {"operator", op}, {"write token", token}} {
		for _, path := range []string{"/audit", "/api/v1/audit"} {
			if r := who.c.do("GET", path, "", "Accept", "text/html"); r.code != http.StatusForbidden || !strings.Contains(r.body, "may not") {
				t.Errorf("%s GET %s = %d %q, want 403 saying who may not", who.name, path, r.code, r.body)
			}
		}
	}
	if r := op.write("POST", "/logout", ""); r.code != http.StatusOK {
		t.Fatalf("sign-out = %d: %s", r.code, r.body)
	}

	admin := authTNewClient(t, st).from("10.9.0.3")
	admin.mustLogin(authTAdmin)
	want := []struct {
		kind       model.EventKind
		what, user string
		addr       string
	}{
		{model.EventAudit, "sign-in failed", authTOperator, failedFrom},
		{model.EventAudit, "signed in", authTOperator, otto},
		{model.EventSilence, "", authTOperator, otto},
		{model.EventAudit, "signed out", authTOperator, otto},
		{model.EventAudit, "signed in", authTAdmin, "10.9.0.3"},
	}
	evs := authTAudit(t, admin)
	for _, w := range want {
		found := slices.ContainsFunc(evs, func(e model.Event) bool {
			return e.Kind == w.kind && e.User == w.user && e.Address == w.addr && (w.what == "" || e.Reason == w.what)
		})
		if !found {
			t.Errorf("no %s event %q by %s from %s in the audit log: %+v", w.kind, w.what, w.user, w.addr, evs)
		}
	}
	page := admin.do("GET", "/audit", "", "Accept", "text/html")
	if page.code != http.StatusOK || !strings.Contains(page.body, "sign-in failed") || !strings.Contains(page.body, failedFrom) {
		t.Errorf("the audit page = %d without the failed sign-in from %s:\n%.3000s", page.code, failedFrom, page.body)
	}
}

// TestAuthHTTP_ModeNone: auth mode none on loopback is dashd as before:
// no sign-in anywhere, the API and metrics open, and the chat under a
// name the session chose.
func TestAuthHTTP_ModeNone(t *testing.T) {
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{checks: httpCheckYAML("web", "frontend", target.url)})
	c := authTNewClient(t, st)

	page := c.do("GET", "/", "", "Accept", "text/html")
	if page.code != http.StatusOK || !strings.Contains(page.body, `id="checks"`) {
		t.Fatalf("GET / = %d, want the dashboard:\n%.1000s", page.code, page.body)
	}
	if strings.Contains(page.body, "Sign out") || strings.Contains(page.body, "/logout") {
		t.Error("mode none shows a sign-out button")
	}
	tests := []struct {
		method, path string
		want         int
		location     string
	}{
		{"GET", "/login", http.StatusSeeOther, "/"},
		{"GET", "/api/v1/checks", http.StatusOK, ""},
		{"GET", "/metrics", http.StatusOK, ""},
		{"GET", "/chat/ops", http.StatusOK, ""},
		{"GET", "/alerts", http.StatusOK, ""},
	}
	for _, tt := range tests {
		r := c.do(tt.method, tt.path, "", "Accept", "text/html")
		if r.code != tt.want || r.header.Get("Location") != tt.location {
			t.Errorf("%s %s = %d %q, want %d %q", tt.method, tt.path, r.code, r.header.Get("Location"), tt.want, tt.location)
		}
	}
	// An Authorization header meant for something else (a proxy, a
	// scraper's default) changes nothing either: there is no token to check.
	for _, path := range []string{"/metrics", "/api/v1/checks", "/"} {
		if r := c.do("GET", path, "", "Authorization", "Bearer something-else"); r.code != http.StatusOK {
			t.Errorf("GET %s with a bearer token in mode none = %d, want 200: %.300s", path, r.code, r.body)
		}
	}
	if r := c.postLogin("x", authTOperator, authTPassword); r.code != http.StatusNotFound {
		t.Errorf("POST /login in mode none = %d, want 404", r.code)
	}

	if r := c.write("POST", "/api/session/name", `{"displayName":"zed"}`); r.code != http.StatusOK || r.cookie(nameCookie) == nil {
		t.Fatalf("choosing a name = %d (cookie %v): %s", r.code, r.cookie(nameCookie), r.body)
	}
	if r := c.write("POST", "/chat/ops/send", `{"message":"hello from zed"}`); r.code != http.StatusOK {
		t.Fatalf("chat = %d: %s", r.code, r.body)
	}
	msgs, err := st.db.ChatLatest("ops", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Author != "zed" || msgs[0].Text != "hello from zed" {
		t.Errorf("chat stored %+v, want one message by zed", msgs)
	}
}

// TestAuthHTTP_LoginNextStaysLocal: after sign-in the browser goes where
// it was going (next), but only ever to a path of this dashd: a next that
// names another site sends it to the dashboard instead.
func TestAuthHTTP_LoginNextStaysLocal(t *testing.T) {
	st, _ := authTStack(t)
	tests := []struct {
		next, want string
	}{
		{"/alerts?x=1", "/alerts?x=1"},
		{"/checks/web", "/checks/web"},
		{"", "/"},
		{"//evil.example/", "/"},
		{"/\\evil.example/", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.example", "/"},
	}
	for _, tt := range tests {
		t.Run(tt.next, func(t *testing.T) {
			c := authTNewClient(t, st)
			form := url.Values{"csrf": {c.loginForm()}, "next": {tt.next}, "username": {authTViewer}, "password": {authTPassword}}
			r := c.do("POST", "/login", form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
			if r.code != http.StatusSeeOther || r.header.Get("Location") != tt.want {
				t.Errorf("sign-in with next %q = %d to %q, want 303 to %q", tt.next, r.code, r.header.Get("Location"), tt.want)
			}
		})
	}
}
