package server

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// corsTOrigin is the origin the CORS tests allow; corsTOther one they do
// not.
const (
	corsTOrigin = "https://portal.example.org"
	corsTOther  = "https://evil.example"
)

// corsTHead is the server: section allowing corsTOrigin.
const corsTHead = "server:\n  cors:\n    allowed_origins: [\"" + corsTOrigin + "\"]\n"

// corsTStack is a whole dashd with CORS for corsTOrigin (head adds other
// sections) and one check, "web", that is up.
func corsTStack(t *testing.T, head string) *testStack {
	t.Helper()
	target := newFlipServer(t)
	return newTestStack(t, stackOptions{head: head, checks: httpCheckYAML("web", "frontend", target.url)})
}

// corsTProbe is one request of the CORS tests and the CORS answer it
// must get: allowOrigin is the Access-Control-Allow-Origin wanted ("":
// none), status the status wanted (0: any).
type corsTProbe struct {
	name          string
	method, path  string
	hdr           []string
	status        int
	allowOrigin   string
	wantVary      bool // Vary names Origin
	allowsMethods string
}

// check sends p and checks its CORS headers; no answer ever allows
// credentials.
func (p corsTProbe) check(t *testing.T, c *authTClient) {
	t.Helper()
	r := c.do(p.method, p.path, "", p.hdr...)
	if p.status != 0 && r.code != p.status {
		t.Errorf("status %d, want %d: %.300s", r.code, p.status, r.body)
	}
	if r.code >= 500 {
		t.Errorf("status %d: %.300s", r.code, r.body)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != p.allowOrigin {
		t.Errorf("Access-Control-Allow-Origin %q, want %q", got, p.allowOrigin)
	}
	if got := r.header.Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("Access-Control-Allow-Credentials %q: credentials are never allowed", got)
	}
	if got := r.header.Get("Access-Control-Allow-Methods"); got != p.allowsMethods {
		t.Errorf("Access-Control-Allow-Methods %q, want %q", got, p.allowsMethods)
	}
	vary := strings.Contains(strings.Join(r.header.Values("Vary"), ","), "Origin")
	if p.wantVary && !vary {
		t.Errorf("Vary %q lacks Origin: caches would mix answers to different origins", r.header.Values("Vary"))
	}
	if p.allowOrigin == "" {
		for k := range r.header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("CORS header %s: %q on an answer that allows no origin", k, r.header.Get(k))
			}
		}
	}
}

// preflight is the head of a browser's preflight asking for method.
func preflight(origin, method string) []string {
	return []string{"Origin", origin, "Access-Control-Request-Method", method}
}

// TestCORS_AllowedOrigin: with server.cors.allowed_origins set, the read
// API and badges answer preflights for GET and HEAD from a listed origin
// and name it on their answers, with Vary: Origin; other origins, other
// methods, writes and other routes get no CORS header at all.
func TestCORS_AllowedOrigin(t *testing.T) {
	st := corsTStack(t, corsTHead)
	origin := []string{"Origin", corsTOrigin}
	silence := `{"checks":["web"],"duration":"1h","comment":"x"}`
	tests := []corsTProbe{
		{name: "preflight GET, API", method: "OPTIONS", path: "/api/v1/checks", hdr: preflight(corsTOrigin, "GET"),
			status: http.StatusNoContent, allowOrigin: corsTOrigin, wantVary: true, allowsMethods: "GET, HEAD"},
		{name: "preflight HEAD, API", method: "OPTIONS", path: "/api/v1/checks/web/history", hdr: preflight(corsTOrigin, "HEAD"),
			status: http.StatusNoContent, allowOrigin: corsTOrigin, wantVary: true, allowsMethods: "GET, HEAD"},
		{name: "preflight GET, badge", method: "OPTIONS", path: "/badge/web.svg", hdr: preflight(corsTOrigin, "GET"),
			status: http.StatusNoContent, allowOrigin: corsTOrigin, wantVary: true, allowsMethods: "GET, HEAD"},
		{name: "preflight GET, origin in capitals", method: "OPTIONS", path: "/api/v1/checks", hdr: preflight("HTTPS://Portal.Example.org", "GET"),
			status: http.StatusNoContent, allowOrigin: "HTTPS://Portal.Example.org", wantVary: true, allowsMethods: "GET, HEAD"},
		{name: "preflight POST refused", method: "OPTIONS", path: "/api/v1/silences", hdr: preflight(corsTOrigin, "POST"), wantVary: true},
		{name: "preflight DELETE refused", method: "OPTIONS", path: "/api/v1/silences/1", hdr: preflight(corsTOrigin, "DELETE"), wantVary: true},
		{name: "preflight from another origin", method: "OPTIONS", path: "/api/v1/checks", hdr: preflight(corsTOther, "GET"), wantVary: true},
		{name: "preflight of a page", method: "OPTIONS", path: "/", hdr: preflight(corsTOrigin, "GET")},
		{name: "GET API", method: "GET", path: "/api/v1/checks", hdr: origin, status: 200, allowOrigin: corsTOrigin, wantVary: true},
		{name: "HEAD API", method: "HEAD", path: "/api/v1/checks/web", hdr: origin, status: 200, allowOrigin: corsTOrigin, wantVary: true},
		{name: "GET badge", method: "GET", path: "/badge/web.svg", hdr: origin, status: 200, allowOrigin: corsTOrigin, wantVary: true},
		{name: "GET shields.json", method: "GET", path: "/badge/web/shields.json", hdr: origin, status: 200, allowOrigin: corsTOrigin, wantVary: true},
		// An error is readable too, so a page can show why.
		{name: "GET API error", method: "GET", path: "/api/v1/checks/nope", hdr: origin, status: 404, allowOrigin: corsTOrigin, wantVary: true},
		{name: "GET from another origin", method: "GET", path: "/api/v1/checks", hdr: []string{"Origin", corsTOther}, status: 200, wantVary: true},
		{name: "GET without Origin", method: "GET", path: "/api/v1/checks", status: 200},
		{name: "GET a page", method: "GET", path: "/", hdr: origin, status: 200},
		{name: "GET metrics", method: "GET", path: "/metrics", hdr: origin, status: 200},
		{name: "POST a write", method: "POST", path: "/api/v1/silences", hdr: append([]string{"Content-Type", "application/json"}, origin...), status: http.StatusForbidden, wantVary: true},
		{name: "DELETE a write", method: "DELETE", path: "/api/v1/silences/1", hdr: origin, status: http.StatusForbidden, wantVary: true},
		{name: "POST run", method: "POST", path: "/api/v1/checks/web/run", hdr: append([]string{"Content-Type", "application/json"}, origin...), status: http.StatusForbidden, wantVary: true},
	}
	c := authTNewClient(t, st)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.method == "POST" {
				// A body, so that the refusal is the origin's.
				r := c.do(tt.method, tt.path, silence, tt.hdr...)
				if r.code != tt.status || r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Credentials") != "" {
					t.Errorf("= %d with Access-Control-Allow-Origin %q: want %d and no CORS header", r.code, r.header.Get("Access-Control-Allow-Origin"), tt.status)
				}
				return
			}
			tt.check(t, c)
		})
	}
	if sils, _ := st.db.Silences(time.Time{}); len(sils) != 0 {
		t.Errorf("a cross-origin write stored silences: %+v", sils)
	}
}

// TestCORS_OffByDefault: without allowed_origins nothing carries a CORS
// header, preflights included.
func TestCORS_OffByDefault(t *testing.T) {
	st := corsTStack(t, "")
	c := authTNewClient(t, st)
	for _, tt := range []corsTProbe{
		{name: "preflight", method: "OPTIONS", path: "/api/v1/checks", hdr: preflight(corsTOrigin, "GET")},
		{name: "GET API", method: "GET", path: "/api/v1/checks", hdr: []string{"Origin", corsTOrigin}, status: 200},
		{name: "GET badge", method: "GET", path: "/badge/web.svg", hdr: []string{"Origin", corsTOrigin}, status: 200},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, c) })
	}
}

// TestCORS_WithSignIn: with sign-in on, a listed origin still gets the
// preflight and can read the refusal (401 and its WWW-Authenticate), and
// a page sending its own API token reads the API; no answer allows
// credentials, so a user's cookie session never serves another origin.
func TestCORS_WithSignIn(t *testing.T) {
	st := corsTStack(t, authTHead(t)+corsTHead)
	origin := []string{"Origin", corsTOrigin}
	c := authTNewClient(t, st)
	for _, tt := range []corsTProbe{
		{name: "preflight", method: "OPTIONS", path: "/api/v1/checks", hdr: preflight(corsTOrigin, "GET"),
			status: http.StatusNoContent, allowOrigin: corsTOrigin, wantVary: true, allowsMethods: "GET, HEAD"},
		{name: "GET without a token", method: "GET", path: "/api/v1/checks", hdr: origin, status: http.StatusUnauthorized, allowOrigin: corsTOrigin, wantVary: true},
		{name: "GET with a read token", method: "GET", path: "/api/v1/checks", hdr: append([]string{"Authorization", "Bearer " + authTTokenRead}, origin...),
			status: http.StatusOK, allowOrigin: corsTOrigin, wantVary: true},
		{name: "GET a badge (public)", method: "GET", path: "/badge/web.svg", hdr: origin, status: http.StatusOK, allowOrigin: corsTOrigin, wantVary: true},
	} {
		t.Run(tt.name, func(t *testing.T) { tt.check(t, c) })
	}
	r := c.do("GET", "/api/v1/checks", "", origin...)
	if got := r.header.Get("Access-Control-Expose-Headers"); !strings.Contains(got, "WWW-Authenticate") {
		t.Errorf("Access-Control-Expose-Headers %q: a page cannot read why it was refused", got)
	}
}
