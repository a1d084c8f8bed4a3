package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"github.com/dashd/dashd/auth"
)

// authUser is a local user of a test configuration; the password is the
// name followed by "-secret".
type authUser struct{ name, role string }

// localUsers is an auth section in mode local with these users.
func localUsers(t *testing.T, users ...authUser) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("auth:\n  mode: local\n  users:\n")
	for _, u := range users {
		h, err := auth.Hash([]byte(u.name + "-secret"))
		if err != nil {
			t.Fatal(err)
		}
		b.WriteString("    - name: " + u.name + "\n      password_hash: \"" + h + "\"\n      role: " + u.role + "\n")
	}
	return b.String()
}

// browserClient keeps cookies and does not follow redirects.
func browserClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Jar: jar, Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// send makes one request and returns the answer with its body read.
func send(t *testing.T, c *http.Client, method, url string, body []byte, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, string(b)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)

// signIn fills in the login form as a browser does: GET /login for the
// form's CSRF token, then POST username and password. It returns the
// POST's answer (303 on success).
func signIn(t *testing.T, c *http.Client, base, user, password string) *http.Response {
	t.Helper()
	resp, page := send(t, c, "GET", base+"/login", nil, map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /login = %d: %s", resp.StatusCode, page)
	}
	m := csrfField.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the login page has no CSRF field:\n%s", page)
	}
	form := url.Values{"username": {user}, "password": {password}, "csrf": {m[1]}, "next": {"/"}}
	resp, body := send(t, c, "POST", base+"/login", []byte(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in of %s = %d, want 303:\n%s", user, resp.StatusCode, body)
	}
	return resp
}

// openStreamWith opens /api/events with c (its cookies) and collects what
// arrives until the test ends.
func openStreamWith(t *testing.T, c *http.Client, url string) *stream {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Datastar-Request", "true")
	// The client's timeout would cut the stream: this request has none.
	sc := *c
	sc.Timeout = 0
	resp, err := sc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		t.Fatalf("GET %s = %d: %s", url, resp.StatusCode, b)
	}
	s := &stream{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		b := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(b)
			s.mu.Lock()
			s.buf.Write(b[:n])
			if err != nil {
				s.err = err
			}
			s.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { resp.Body.Close(); <-s.done })
	return s
}

// silenceBody is a silence of everything for an hour.
var silenceBody = []byte(`{"duration":"1h","comment":"maintenance window"}`)

var jsonHeader = map[string]string{"Content-Type": "application/json"}

// postSilence creates a silence through the API and returns the status
// and the body.
func postSilence(t *testing.T, c *http.Client, base string, header map[string]string) (int, string) {
	t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	for k, v := range header {
		h[k] = v
	}
	resp, body := send(t, c, "POST", base+"/api/v1/silences", silenceBody, h)
	return resp.StatusCode, body
}

// silenceAuthor is the author of a created silence (a 201's body).
func silenceAuthor(t *testing.T, body string) string {
	t.Helper()
	var s struct{ Author string }
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("decoding the silence: %v\n%s", err, body)
	}
	return s.Author
}

// refusal checks that an answer is the refusal wanted (a 4xx, never a
// 5xx) with a body that says why.
func refusal(t *testing.T, what string, resp *http.Response, body string, want int, says string) {
	t.Helper()
	switch {
	case resp.StatusCode != want:
		t.Errorf("%s = %d, want %d: %s", what, resp.StatusCode, want, body)
	case !strings.Contains(body, says):
		t.Errorf("%s = %d %q, want a message saying %q", what, resp.StatusCode, body, says)
	}
}

// daemonOn starts dashd listening on listen and talks to it on
// 127.0.0.1 (whatever address it listens on, tests only send traffic
// to loopback).
func daemonOn(t *testing.T, listen string, args ...string) *child {
	t.Helper()
	d := newDaemon(t, append(args, "--listen", listen)...)
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		t.Fatal(err)
	}
	d.addr = net.JoinHostPort("127.0.0.1", port)
	return d
}

func freePort(t *testing.T) string {
	t.Helper()
	_, port, err := net.SplitHostPort(freeAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// TestRefuse_ExposedWithoutAuth: beyond loopback with auth.mode none,
// dashd exits 1 with one line saying how to enable auth or opt out, before
// it binds the port. The port is held on 127.0.0.1 by the test, so a dashd
// that tried to bind it would say "address already in use" instead.
func TestRefuse_ExposedWithoutAuth(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	_, port, _ := net.SplitHostPort(held.Addr().String())
	tests := []struct {
		name    string
		listen  string
		auth    string
		refused bool     // refused before binding (else: the control)
		want    []string // in the last line of output
	}{
		{"0.0.0.0, auth none", "0.0.0.0:" + port, "", true, []string{"refusing to start", "0.0.0.0:" + port, "auth.mode", "allow_unauthenticated"}},
		{"[::], auth none", "[::]:" + port, "", true, []string{"refusing to start", "[::]:" + port, "auth.mode", "allow_unauthenticated"}},
		{"all interfaces, auth none", ":" + port, "", true, []string{"refusing to start", "auth.mode", "allow_unauthenticated"}},
		{"0.0.0.0, auth none said explicitly", "0.0.0.0:" + port, "auth:\n  mode: none\n  allow_unauthenticated: false\n", true,
			[]string{"refusing to start", "auth.mode", "allow_unauthenticated"}},
		// The control: a dashd allowed to start does try the port, and
		// fails on it, so the cases above did not bind it.
		{"0.0.0.0, auth local binds", "0.0.0.0:" + port, localUsers(t, authUser{"alice", "viewer"}), false, []string{"address already in use"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			d := newDaemon(t, "--config", writeConfig(t, dir, tt.auth), "--data", filepath.Join(dir, "dashd.db"), "--listen", tt.listen)
			if code := d.wait(20 * time.Second); code != 1 {
				t.Fatalf("exit code = %d, want 1", code)
			}
			out := strings.TrimSpace(d.output())
			lines := strings.Split(out, "\n")
			last := lines[len(lines)-1]
			if !strings.HasPrefix(last, "dashd: ") {
				t.Errorf("last line %q does not start with \"dashd: \"", last)
			}
			for _, w := range tt.want {
				if !strings.Contains(last, w) {
					t.Errorf("last line %q does not say %q", last, w)
				}
			}
			if !tt.refused {
				return
			}
			if len(lines) != 1 {
				t.Errorf("%d lines of output, want exactly one:\n%s", len(lines), out)
			}
			if _, err := os.Stat(filepath.Join(dir, "dashd.db")); err == nil {
				t.Errorf("a refused start created the database")
			}
		})
	}
}

// TestRefuse_AllowUnauthenticatedWarnsAndSticks: the opt-out starts dashd
// on 0.0.0.0 with a warning banner on the dashboard; a reload that takes
// the opt-out back is rejected and the daemon keeps running.
func TestRefuse_AllowUnauthenticatedWarnsAndSticks(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "auth:\n  mode: none\n  allow_unauthenticated: true\n")
	d := daemonOn(t, "0.0.0.0:"+freePort(t), "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	d.waitHTTP()
	const banner = `class="warn-banner"`
	if resp, body := get(t, d.url("/")); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), banner) {
		t.Fatalf("GET / = %d; the page lacks the unauthenticated warning banner (%s)", resp.StatusCode, banner)
	} else if !strings.Contains(string(body), "allow_unauthenticated") {
		t.Errorf("the banner does not name auth.allow_unauthenticated")
	}

	writeConfig(t, dir, "auth:\n  mode: none\n  allow_unauthenticated: false\n")
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reload to be rejected", func() bool {
		return strings.Contains(d.output(), "configuration rejected") && strings.Contains(d.output(), "allow_unauthenticated")
	})
	select {
	case <-d.done:
		t.Fatalf("dashd exited after the rejected reload (%v)", d.err)
	default:
	}
	if resp, body := get(t, d.url("/")); resp.StatusCode != http.StatusOK || !strings.Contains(string(body), banner) {
		t.Fatalf("after the rejected reload GET / = %d, banner shown: %v", resp.StatusCode, strings.Contains(string(body), banner))
	}
	if strings.Contains(d.output(), `msg="configuration reloaded"`) {
		t.Fatalf("the reload taking back allow_unauthenticated was applied")
	}

	t.Run("no banner on loopback", func(t *testing.T) {
		dir := t.TempDir()
		d := startDaemon(t, "--config", writeConfig(t, dir, ""), "--data", filepath.Join(dir, "dashd.db"))
		if resp, body := get(t, d.url("/")); resp.StatusCode != http.StatusOK || strings.Contains(string(body), banner) {
			t.Fatalf("GET / on loopback = %d, banner shown: %v", resp.StatusCode, strings.Contains(string(body), banner))
		}
	})
}

// TestRefuse_AuthLocalStartsOnAllInterfaces: with auth on, 0.0.0.0 is
// fine, and nothing is served to anyone who has not signed in.
func TestRefuse_AuthLocalStartsOnAllInterfaces(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, localUsers(t, authUser{"alice", "viewer"}))
	d := daemonOn(t, "0.0.0.0:"+freePort(t), "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	d.waitHTTP()
	c := browserClient(t)
	resp, body := send(t, c, "GET", d.url("/"), nil, map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("GET / without signing in = %d Location %q, want 303 to /login: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = send(t, c, "GET", d.url("/api/v1/checks"), nil, nil)
	refusal(t, "GET /api/v1/checks without signing in", resp, body, http.StatusUnauthorized, "sign in")
	resp, body = send(t, c, "GET", d.url("/login"), nil, map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusOK || strings.Contains(body, `class="warn-banner"`) {
		t.Fatalf("GET /login = %d, banner shown: %v", resp.StatusCode, strings.Contains(body, `class="warn-banner"`))
	}
	signIn(t, c, d.url(""), "alice", "alice-secret")
	if resp, body := send(t, c, "GET", d.url("/api/v1/checks"), nil, nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/v1/checks signed in = %d: %s", resp.StatusCode, body)
	}
}

// TestAuth_ReloadRemovesUserAndChangesRole: a user removed from
// auth.users on SIGHUP is signed out at once, their open stream closed; a
// user whose role changed has the new role without signing in again.
func TestAuth_ReloadRemovesUserAndChangesRole(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, localUsers(t, authUser{"alice", "viewer"}, authUser{"bob", "viewer"}))
	d := startDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"))
	base := d.url("")
	alice, bob := browserClient(t), browserClient(t)
	signIn(t, alice, base, "alice", "alice-secret")
	signIn(t, bob, base, "bob", "bob-secret")

	bobStream := openStreamWith(t, bob, base+"/api/events")
	aliceStream := openStreamWith(t, alice, base+"/api/events")
	eventually(t, "both streams' first state", func() bool {
		return bobStream.contains("datastar-merge") && aliceStream.contains("datastar-merge")
	})
	if code, body := postSilence(t, alice, base, nil); code != http.StatusForbidden || !strings.Contains(body, "viewer may not") {
		t.Fatalf("viewer alice creating a silence = %d %s, want 403 saying what a viewer may not do", code, body)
	}

	writeConfig(t, dir, localUsers(t, authUser{"alice", "operator"}))
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "bob's stream to be closed", func() bool { return !bobStream.open() })
	if !strings.Contains(d.output(), "sessions updated for the new configuration") {
		t.Errorf("the reload did not log the sessions it ended:\n%s", d.output())
	}

	resp, body := send(t, bob, "GET", base+"/api/v1/checks", nil, nil)
	refusal(t, "removed user's API request", resp, body, http.StatusUnauthorized, "sign in")
	resp, _ = send(t, bob, "GET", base+"/", nil, map[string]string{"Accept": "text/html"})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("removed user's page = %d Location %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = send(t, bob, "GET", base+"/api/events", nil, map[string]string{"Datastar-Request": "true"})
	refusal(t, "removed user's stream reconnecting", resp, body, http.StatusUnauthorized, "sign in")

	code, body := postSilence(t, alice, base, nil)
	if code != http.StatusCreated {
		t.Fatalf("alice, now operator, creating a silence = %d %s, want 201", code, body)
	}
	if a := silenceAuthor(t, body); a != "alice" {
		t.Fatalf("silence author = %q, want the signed-in user alice", a)
	}
	if !aliceStream.open() {
		t.Fatalf("alice's stream was closed by a role change: %v", aliceStream.err)
	}
	keepsReceiving(t, aliceStream, "after her role changed")
}

// oidcProvider is a real OpenID Connect provider (mockoidc: discovery,
// JWKS, authorize, token with PKCE) on a loopback port of the test
// process. Its handlers are serialised: mockoidc's session map has no lock.
func oidcProvider(t *testing.T) *mockoidc.MockOIDC {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	if err := m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			next.ServeHTTP(w, r)
		})
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Shutdown(); err != nil {
			t.Errorf("provider shutdown: %v", err)
		}
	})
	return m
}

// TestAuth_OIDCRoundTrip signs in through a real provider with a browser
// (a cookie jar following redirects): /auth/login, the provider,
// /auth/callback; the groups claim decides the role.
func TestAuth_OIDCRoundTrip(t *testing.T) {
	p := oidcProvider(t)
	addr := freeAddr(t)
	base := "http://" + addr
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "auth:\n  mode: oidc\n  oidc:\n"+
		"    issuer: "+p.Issuer()+"\n    client_id: "+p.ClientID+"\n    client_secret: "+p.ClientSecret+"\n"+
		"    redirect_url: "+base+"/auth/callback\n    scopes: [openid, profile, email, groups]\n"+
		"    default_role: \"\"\n    roles:\n      operator: [ops]\n      viewer: [staff]\n")
	d := newDaemon(t, "--config", cfg, "--data", filepath.Join(dir, "dashd.db"), "--listen", addr)
	d.addr = addr
	d.waitHTTP()

	// signInVia follows the whole round trip as a browser does.
	signInVia := func(t *testing.T, user *mockoidc.MockUser) (*http.Client, *http.Response, string) {
		t.Helper()
		c := browserClient(t)
		c.CheckRedirect = nil // follow, as a browser does
		p.QueueUser(user)
		resp, body := send(t, c, "GET", base+"/auth/login?next=/alerts", nil, map[string]string{"Accept": "text/html"})
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		return c, resp, body
	}
	t.Run("operator", func(t *testing.T) {
		c, resp, body := signInVia(t, &mockoidc.MockUser{Subject: "s-alice", PreferredUsername: "alice", Groups: []string{"staff", "ops"}})
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/alerts" {
			t.Fatalf("the round trip ended at %s with %d, want /alerts 200: %s", resp.Request.URL, resp.StatusCode, body)
		}
		code, body := postSilence(t, c, base, nil)
		if code != http.StatusCreated {
			t.Fatalf("operator creating a silence = %d %s, want 201", code, body)
		}
		if a := silenceAuthor(t, body); a != "alice" {
			t.Fatalf("silence author = %q, want alice", a)
		}
	})
	t.Run("viewer", func(t *testing.T) {
		c, resp, body := signInVia(t, &mockoidc.MockUser{Subject: "s-carol", PreferredUsername: "carol", Groups: []string{"staff"}})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("the round trip ended at %s with %d: %s", resp.Request.URL, resp.StatusCode, body)
		}
		resp, body = send(t, c, "GET", base+"/api/v1/checks", nil, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("viewer reading the API = %d: %s", resp.StatusCode, body)
		}
		resp, body = send(t, c, "POST", base+"/api/v1/silences", silenceBody, jsonHeader)
		refusal(t, "viewer creating a silence", resp, body, http.StatusForbidden, "viewer may not")
	})
	t.Run("no role", func(t *testing.T) {
		c, resp, body := signInVia(t, &mockoidc.MockUser{Subject: "s-frank", PreferredUsername: "frank", Groups: []string{"sales"}})
		refusal(t, "sign-in of a user without a role", resp, body, http.StatusForbidden, "no role")
		resp, body = send(t, c, "GET", base+"/api/v1/checks", nil, nil)
		refusal(t, "API after a refused sign-in", resp, body, http.StatusUnauthorized, "sign in")
	})

	// toCallback plays the browser up to the provider's redirect back,
	// and returns the callback URL it names.
	toCallback := func(t *testing.T, c *http.Client) *url.URL {
		t.Helper()
		p.QueueUser(&mockoidc.MockUser{Subject: "s-alice", PreferredUsername: "alice", Groups: []string{"ops"}})
		resp, body := send(t, c, "GET", base+"/auth/login", nil, nil)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET /auth/login = %d: %s", resp.StatusCode, body)
		}
		resp, body = send(t, c, "GET", resp.Header.Get("Location"), nil, nil)
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("the provider answered %d, want a redirect back: %s", resp.StatusCode, body)
		}
		back, err := url.Parse(resp.Header.Get("Location"))
		if err != nil || back.Host != addr || back.Path != "/auth/callback" {
			t.Fatalf("the provider redirects to %q, want %s/auth/callback", resp.Header.Get("Location"), base)
		}
		return back
	}
	withQuery := func(u *url.URL, set map[string]string) string {
		q := u.Query()
		for k, v := range set {
			if v == "" {
				q.Del(k)
			} else {
				q.Set(k, v)
			}
		}
		v := *u
		v.RawQuery = q.Encode()
		return v.String()
	}
	bad := []struct {
		name string
		// call returns the callback request to make, with the client
		// whose cookies it carries.
		call func(t *testing.T) (*http.Client, string)
		want int
		says string
	}{
		{"bad state", func(t *testing.T) (*http.Client, string) {
			c := browserClient(t)
			return c, withQuery(toCallback(t, c), map[string]string{"state": "forged"})
		}, http.StatusUnauthorized, "sign-in failed"},
		{"no state", func(t *testing.T) (*http.Client, string) {
			c := browserClient(t)
			return c, withQuery(toCallback(t, c), map[string]string{"state": ""})
		}, http.StatusUnauthorized, "sign-in failed"},
		{"another browser", func(t *testing.T) (*http.Client, string) {
			return browserClient(t), toCallback(t, browserClient(t)).String()
		}, http.StatusBadRequest, "sign in again"},
		{"forged code", func(t *testing.T) (*http.Client, string) {
			c := browserClient(t)
			return c, withQuery(toCallback(t, c), map[string]string{"code": "forged"})
		}, http.StatusUnauthorized, "sign-in failed"},
		{"provider says no", func(t *testing.T) (*http.Client, string) {
			c := browserClient(t)
			u := toCallback(t, c)
			return c, withQuery(u, map[string]string{"code": "", "error": "access_denied", "error_description": "user cancelled"})
		}, http.StatusUnauthorized, "sign-in failed"},
		{"nothing at all", func(t *testing.T) (*http.Client, string) {
			return browserClient(t), base + "/auth/callback"
		}, http.StatusBadRequest, "sign in again"},
	}
	for _, tt := range bad {
		t.Run("callback: "+tt.name, func(t *testing.T) {
			c, u := tt.call(t)
			resp, body := send(t, c, "GET", u, nil, nil)
			refusal(t, "callback", resp, body, tt.want, tt.says)
			if ck := cookieNamed(resp, "dashd_auth"); ck != nil && ck.Value != "" {
				t.Errorf("a refused callback started a session")
			}
			resp, body = send(t, c, "GET", base+"/api/v1/checks", nil, nil)
			refusal(t, "API after a refused callback", resp, body, http.StatusUnauthorized, "sign in")
		})
	}
	if strings.Contains(d.output(), "request failed") {
		t.Fatalf("a sign-in was an internal error:\n%s", d.output())
	}
}

// TestAuth_TrustedProxy: the user and groups headers of a trusted proxy
// (here: loopback) sign the request in with the mapped role; the same
// headers from an address not in auth.proxy.trusted are ignored.
func TestAuth_TrustedProxy(t *testing.T) {
	proxyAuth := func(trusted string) string {
		return "auth:\n  mode: proxy\n  proxy:\n    trusted: [" + trusted + "]\n    default_role: viewer\n" +
			"    roles:\n      operator: [ops]\n      admin: [root]\n"
	}
	t.Run("trusted", func(t *testing.T) {
		dir := t.TempDir()
		d := startDaemon(t, "--config", writeConfig(t, dir, proxyAuth("127.0.0.1/32, \"::1\"")), "--data", filepath.Join(dir, "dashd.db"))
		c, base := browserClient(t), d.url("")
		operator := map[string]string{"Remote-User": "carol", "Remote-Groups": "staff, ops"}
		viewer := map[string]string{"Remote-User": "dave", "Remote-Groups": "staff"}

		code, body := postSilence(t, c, base, operator)
		if code != http.StatusCreated {
			t.Fatalf("operator through the proxy creating a silence = %d %s, want 201", code, body)
		}
		if a := silenceAuthor(t, body); a != "carol" {
			t.Fatalf("silence author = %q, want the proxy's user carol", a)
		}
		resp, body := send(t, c, "GET", base+"/api/v1/checks", nil, viewer)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("viewer through the proxy reading the API = %d: %s", resp.StatusCode, body)
		}
		resp, body = send(t, c, "POST", base+"/api/v1/silences", silenceBody, map[string]string{"Content-Type": "application/json", "Remote-User": "dave"})
		refusal(t, "viewer through the proxy creating a silence", resp, body, http.StatusForbidden, "viewer may not")
		resp, body = send(t, c, "GET", base+"/audit", nil, viewer)
		refusal(t, "viewer through the proxy on the audit page", resp, body, http.StatusForbidden, "admin")
		resp, body = send(t, c, "GET", base+"/audit", nil, map[string]string{"Remote-User": "root", "Remote-Groups": "root"})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("admin through the proxy on the audit page = %d: %s", resp.StatusCode, body)
		}
		resp, body = send(t, c, "GET", base+"/api/v1/checks", nil, nil)
		refusal(t, "no proxy headers", resp, body, http.StatusUnauthorized, "sign in")
		resp, body = send(t, c, "GET", base+"/api/v1/checks", nil, map[string]string{"Remote-User": "eve\xffadmin"}) // not UTF-8
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("a user name with a control character = %d: %s", resp.StatusCode, body)
		}
		s := openStreamWith(t, withHeaders(c, viewer), base+"/api/events")
		eventually(t, "the proxy user's stream", func() bool { return s.contains("datastar-merge") })
	})
	t.Run("loopback not trusted", func(t *testing.T) {
		dir := t.TempDir()
		// 192.0.2.1 is TEST-NET-1: never sent traffic to.
		d := startDaemon(t, "--config", writeConfig(t, dir, proxyAuth("192.0.2.1/32")), "--data", filepath.Join(dir, "dashd.db"))
		c, base := browserClient(t), d.url("")
		admin := map[string]string{"Remote-User": "root", "Remote-Groups": "root"}
		resp, body := send(t, c, "GET", base+"/api/v1/checks", nil, admin)
		refusal(t, "untrusted proxy headers on the API", resp, body, http.StatusUnauthorized, "sign in")
		code, body := postSilence(t, c, base, admin)
		if code != http.StatusUnauthorized {
			t.Fatalf("untrusted proxy headers creating a silence = %d %s, want 401", code, body)
		}
		h := map[string]string{"Accept": "text/html"}
		for k, v := range admin {
			h[k] = v
		}
		// No redirect to /login: in proxy mode it would bounce back.
		resp, body = send(t, c, "GET", base+"/", nil, h)
		refusal(t, "untrusted proxy headers on the dashboard", resp, body, http.StatusUnauthorized, "sign in through the reverse proxy")
		resp, body = send(t, c, "GET", base+"/api/events", nil, map[string]string{"Datastar-Request": "true", "Remote-User": "root", "Remote-Groups": "root"})
		refusal(t, "untrusted proxy headers on the stream", resp, body, http.StatusUnauthorized, "sign in")
	})
}

// withHeaders is c sending header on every request.
func withHeaders(c *http.Client, header map[string]string) *http.Client {
	hc := *c
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc.Transport = headerTransport{base: base, header: header}
	return &hc
}

type headerTransport struct {
	base   http.RoundTripper
	header map[string]string
}

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h.header {
		r.Header.Set(k, v)
	}
	return h.base.RoundTrip(r)
}
