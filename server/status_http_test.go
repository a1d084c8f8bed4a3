package server

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/model"
)

// statusHead is the status_page: section of the tests: group frontend
// (check web) under public names; the check secret-db is not shown.
func statusHead(enabled bool) string {
	e := "false"
	if enabled {
		e = "true"
	}
	return "status_page:\n  enabled: " + e + "\n  title: Example Services\n  groups: [frontend]\n" +
		"  names: {web: Website}\n  group_names: {frontend: Web}\n"
}

// statusStack is a dashd in mode local with the status page (enabled or
// not, public or not), the check web on a target the test flips, and
// secret-db (group internal) on the same target, not on the page.
func statusStack(t *testing.T, enabled bool, public ...string) (*testStack, *flipServer) {
	t.Helper()
	target := newFlipServer(t)
	st := newTestStack(t, stackOptions{head: authTHead(t, public...) + statusHead(enabled),
		checks: httpCheckYAML("web", "frontend", target.url) + httpCheckYAML("secret-db", "internal", target.url)})
	return st, target
}

// TestStatusHTTP_Access: enabled false is 404 for everyone; enabled and
// public is anyone's (page, feed, stream); enabled and not public is
// signed-in viewers' only.
func TestStatusHTTP_Access(t *testing.T) {
	tests := []struct {
		name    string
		enabled bool
		public  []string
		signIn  bool
		accept  string
		want    map[string]int // path -> status
	}{
		{"off, public", false, []string{"status"}, false, "text/html",
			map[string]int{"/status": 404, "/status/feed.atom": 404, "/status/events": 404}},
		{"off, signed in", false, nil, true, "text/html",
			map[string]int{"/status": 404, "/status/feed.atom": 404}},
		{"on, public, anonymous", true, []string{"status"}, false, "text/html",
			map[string]int{"/status": 200, "/status/feed.atom": 200, "/status/events": 200}},
		{"on, not public, anonymous browser", true, nil, false, "text/html",
			map[string]int{"/status": 303, "/status/feed.atom": 303}},
		{"on, not public, anonymous reader", true, nil, false, "application/atom+xml",
			map[string]int{"/status": 401, "/status/feed.atom": 401, "/status/events": 401}},
		{"on, not public, signed-in viewer", true, nil, true, "text/html",
			map[string]int{"/status": 200, "/status/feed.atom": 200, "/status/events": 200}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, _ := statusStack(t, tt.enabled, tt.public...)
			c := authTNewClient(t, st)
			if tt.signIn {
				c.mustLogin(authTViewer)
			}
			for path, want := range tt.want {
				r := c.do("GET", path, "", "Accept", tt.accept)
				if r.code != want {
					t.Errorf("GET %s = %d, want %d: %.300s", path, r.code, want, r.body)
				}
				if want == 303 && !strings.HasPrefix(r.header.Get("Location"), "/login?next="+url.QueryEscape(path)) {
					t.Errorf("GET %s redirects to %q, want the login page", path, r.header.Get("Location"))
				}
				if path == "/status" && want == 200 {
					cc := "private, max-age=30"
					if len(tt.public) > 0 {
						cc = "public, max-age=30"
					}
					if got := r.header.Get("Cache-Control"); got != cc {
						t.Errorf("Cache-Control = %q, want %q", got, cc)
					}
					if r.cookie(sessionCookie) != nil {
						t.Error("the status page issued a session cookie: its bytes are shared")
					}
				}
			}
		})
	}
}

// TestStatusHTTP_ETag: the page and the feed carry an ETag; the same tag
// in If-None-Match is a bodiless 304; the gzipped page is its own
// representation with its own tag.
func TestStatusHTTP_ETag(t *testing.T) {
	st, _ := statusStack(t, true, "status")
	tests := []struct {
		name, path, encoding, wantEncoding string
	}{
		{"page", "/status", "", ""},
		{"page gzipped", "/status", "gzip", "gzip"},
		{"feed", "/status/feed.atom", "", ""},
	}
	tags := map[string]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := statusGet(t, st.url+tt.path, "Accept-Encoding", tt.encoding)
			etag := r.Header.Get("ETag")
			if r.StatusCode != 200 || etag == "" || r.Header.Get("Content-Encoding") != tt.wantEncoding {
				t.Fatalf("GET %s = %d, ETag %q, Content-Encoding %q", tt.path, r.StatusCode, etag, r.Header.Get("Content-Encoding"))
			}
			if tags[etag] {
				t.Errorf("ETag %s is shared by two representations", etag)
			}
			tags[etag] = true
			body := statusBody(t, r)
			if tt.path == "/status" && !strings.Contains(body, "<title>Example Services</title>") {
				t.Errorf("body is not the page: %.200s", body)
			}
			again := statusGet(t, st.url+tt.path, "Accept-Encoding", tt.encoding, "If-None-Match", etag)
			if b := statusBody(t, again); again.StatusCode != http.StatusNotModified || b != "" {
				t.Errorf("with If-None-Match: %d, %d bytes; want 304 without a body", again.StatusCode, len(b))
			}
			other := statusGet(t, st.url+tt.path, "Accept-Encoding", tt.encoding, "If-None-Match", `"other"`)
			if other.StatusCode != 200 {
				t.Errorf("with another tag: %d, want 200", other.StatusCode)
			}
		})
	}
}

// TestStatusHTTP_NothingLeaks: with web and secret-db down and an
// incident holding a public note, a private note and chat, the page and
// the feed show the public note and nothing internal: not the check that
// is not chosen, not the reason (nor the target's address in it), not
// the private note, not the chat, not who wrote.
func TestStatusHTTP_NothingLeaks(t *testing.T) {
	st, target := statusStack(t, true, "status")
	target.code.Store(503)
	inc := statusWaitIncident(t, st, "web")
	ctx := context.Background()
	for _, n := range []struct {
		text   string
		public bool
	}{{"We are looking into slow logins.", true}, {"PRIVATE: restarted secret-db on db7", false}} {
		if err := st.srv.deps.Incidents.Note(ctx, inc.ID, authTOperator, "127.0.0.1", n.text, n.public); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.srv.deps.Incidents.Chat(ctx, inc.ID, authTOperator, "127.0.0.1", "CHAT: anyone on it?"); err != nil {
		t.Fatal(err)
	}
	ws, _ := st.runner.Status("web")
	if ws.Reason == "" {
		t.Fatal("web has no reason to hide")
	}
	targetHost := strings.TrimSuffix(strings.TrimPrefix(target.url, "http://"), "/")
	internals := []string{"secret-db", "internal", ws.Reason, targetHost, "PRIVATE", "CHAT", authTOperator, "127.0.0.1", inc.Title, "testhost"}

	page := statusBody(t, statusGet(t, st.url+"/status"))
	for _, want := range []string{"Website", "Web", "Outage", "We are looking into slow logins.", "Service disruption: Website",
		`<link rel="alternate" type="application/atom+xml"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	feed := statusBody(t, statusGet(t, st.url+"/status/feed.atom"))
	var f struct {
		Entries []struct {
			Title   string `xml:"title"`
			Content string `xml:"content"`
		} `xml:"http://www.w3.org/2005/Atom entry"`
	}
	if err := xml.Unmarshal([]byte(feed), &f); err != nil {
		t.Fatalf("feed: %v\n%s", err, feed)
	}
	if len(f.Entries) != 1 || !strings.Contains(f.Entries[0].Content, "We are looking into slow logins.") {
		t.Errorf("feed entries = %+v, want the incident with its public note", f.Entries)
	}
	for _, s := range internals {
		if strings.Contains(page, s) {
			t.Errorf("the page leaks %q", s)
		}
		if strings.Contains(feed, s) {
			t.Errorf("the feed leaks %q", s)
		}
	}
}

// TestStatusHTTP_Reload: the page follows the configuration in force
// without a restart: a new title, then off (404).
func TestStatusHTTP_Reload(t *testing.T) {
	st, _ := statusStack(t, true, "status")
	if b := statusBody(t, statusGet(t, st.url+"/status")); !strings.Contains(b, "Example Services") {
		t.Fatalf("first page: %.200s", b)
	}
	cfg := *st.latest.Config()
	cfg.StatusPage.Title = "Renamed Services"
	st.latest.SetConfig(&cfg)
	// The served page is checked against the live state at most once a
	// second.
	deadline := time.Now().Add(10 * time.Second)
	for {
		b := statusBody(t, statusGet(t, st.url+"/status"))
		if strings.Contains(b, "<title>Renamed Services</title>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the new title never showed: %.300s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
	off := cfg
	off.StatusPage.Enabled = false
	st.latest.SetConfig(&off)
	if r := statusGet(t, st.url+"/status"); r.StatusCode != 404 {
		t.Errorf("after turning it off: %d, want 404", r.StatusCode)
	}
}

// TestStatusRoutes_Reserved: every route of dashd's own sits under a
// first path segment config.ReservedPaths names (or is "/"), so a status
// page path that validation accepts never collides with one.
func TestStatusRoutes_Reserved(t *testing.T) {
	st, _ := statusStack(t, true, "status")
	reserved := map[string]bool{}
	for _, r := range config.ReservedPaths() {
		reserved[r] = true
	}
	for _, r := range st.srv.App().GetRoutes(true) {
		if r.Path == "/" || r.Path == "/status" || strings.HasPrefix(r.Path, "/status/") {
			continue
		}
		first, _, _ := strings.Cut(strings.TrimPrefix(r.Path, "/"), "/")
		if !reserved[first] {
			t.Errorf("route %s %s is not under config.ReservedPaths(): add %q there", r.Method, r.Path, first)
		}
	}
}

// statusWaitIncident waits for the open incident involving check.
func statusWaitIncident(t *testing.T, st *testStack, check string) model.Incident {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, inc := range st.srv.deps.Incidents.Open() {
			if inc.Involves(check) {
				return inc
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	var states []collectors.Status
	states = append(states, st.runner.Statuses()...)
	t.Fatalf("no incident opened for %s; checks: %+v", check, states)
	return model.Incident{}
}

// statusGet sends a GET with header pairs (an empty value sends none) and
// no transparent decompression.
func statusGet(t *testing.T, u string, hdr ...string) *http.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] != "" {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	r, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// statusBody reads (and un-gzips) a response's body.
func statusBody(t *testing.T, r *http.Response) string {
	t.Helper()
	defer r.Body.Close()
	b, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	if err != nil {
		t.Fatal(err)
	}
	if r.Header.Get("Content-Encoding") == "gzip" && len(b) > 0 {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	return string(b)
}
