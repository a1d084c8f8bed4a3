package collectors

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// No reason or detail a check produces may show URL credentials, wherever
// the URL comes from: the check's own URL inside an error, a redirect
// target, the response body, or a command's output.
func TestChecks_NeverShowURLCredentials(t *testing.T) {
	const secret = "hunter2"
	mux := http.NewServeMux()
	mux.HandleFunc("/bad-redirect", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "http://admin:"+secret+"@127.0.0.1:1/%zz")
		w.WriteHeader(http.StatusFound)
	})
	mux.HandleFunc("/json", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"upstream":"https://admin:`+secret+`@127.0.0.1:2/db"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	withCreds := strings.Replace(srv.URL, "http://", "http://admin:"+secret+"@", 1)

	tests := []struct {
		name, typ, body string
		reason          string // the reason must still say what happened
	}{
		{"redirect Location in a client error", "http", "url: " + srv.URL + "/bad-redirect", "failed to parse Location header"},
		{"check URL with credentials, redirect error", "http", "url: " + withCreds + "/bad-redirect", "failed to parse Location header"},
		{"URL from the response body", "http", "url: " + withCreds + "/json\njson_path: upstream\njson_equals: other", "JSON upstream"},
		{"command output quoting a URL", "command", "command: [sh, -c, 'echo \"fetch https://admin:" + secret + "@127.0.0.1:3/x failed\" >&2; exit 1']", "exit code 1 (want 0): fetch https://admin:***@127.0.0.1:3/x failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, mustBuild(t, tt.typ, tt.body), 10*time.Second)
			if !strings.Contains(out.Reason, tt.reason) {
				t.Errorf("reason = %q, want it to contain %q", out.Reason, tt.reason)
			}
			if strings.Contains(out.Reason, secret) || strings.Contains(out.Detail, secret) {
				t.Errorf("the password shows: reason %q, detail %q", out.Reason, out.Detail)
			}
		})
	}
}

// A configuration error about a URL quotes it without its password.
func TestHTTPSpec_ValidateHidesCredentials(t *testing.T) {
	got := strings.Join(problems(t, checkYAML("http", "url: 'http://admin:hunter2@'")), "\n")
	if !strings.Contains(got, "must be an http:// or https:// URL with a host") {
		t.Fatalf("problems = %q, want the url problem", got)
	}
	if strings.Contains(got, "hunter2") {
		t.Errorf("problems show the password: %q", got)
	}
}
