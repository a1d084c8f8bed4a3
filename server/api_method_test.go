package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// TestAPI_WrongMethodWithSignIn: with sign-in on (mode local), a method a
// /api/v1 route does not take is a 405 with Allow and a JSON message,
// for everyone: nobody, a viewer's session and a read token alike. A
// guard running first would answer 401 or 403 instead and hide that the
// method itself is wrong.
func TestAPI_WrongMethodWithSignIn(t *testing.T) {
	st, _ := authTStack(t)
	// What each path takes, from the app's own routes.
	methods := map[string][]string{}
	for _, r := range st.srv.App().GetRoutes(true) {
		if !strings.HasPrefix(r.Path, "/api/v1/") || slices.Contains(methods[r.Path], r.Method) {
			continue
		}
		methods[r.Path] = append(methods[r.Path], r.Method)
	}
	if len(methods) < 15 {
		t.Fatalf("only %d paths under /api/v1: %v", len(methods), methods)
	}

	anon := authTNewClient(t, st)
	viewer := authTNewClient(t, st)
	viewer.mustLogin(authTViewer)
	token := authTNewClient(t, st)
	token.hdr.Set("Authorization", "Bearer "+authTTokenRead)
	clients := []struct {
		name string
		c    *authTClient
	}{{"anonymous", anon}, {"viewer", viewer}, {"read token", token}}

	for path, taken := range methods {
		wrong := ""
		for _, m := range []string{"DELETE", "PUT", "POST", "GET"} {
			if !slices.Contains(taken, m) {
				wrong = m
				break
			}
		}
		for _, cl := range clients {
			t.Run(cl.name+" "+wrong+" "+path, func(t *testing.T) {
				// As an API client sends a write: JSON, same origin.
				r := cl.c.write(wrong, authTFill(path), "{}")
				if r.code != http.StatusMethodNotAllowed {
					t.Fatalf("= %d, want 405: %.300s", r.code, r.body)
				}
				allow := r.header.Get("Allow")
				for _, m := range taken {
					if m != "HEAD" && !strings.Contains(allow, m) {
						t.Errorf("Allow %q lacks %s", allow, m)
					}
				}
				var e struct {
					Error  string `json:"error"`
					Status int    `json:"status"`
				}
				if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Status != 405 ||
					!strings.Contains(e.Error, fmt.Sprintf("%s is not allowed here", wrong)) {
					t.Errorf("body %q (%v), want the JSON error naming %s", r.body, err, wrong)
				}
			})
		}
	}
}
