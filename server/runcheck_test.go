package server

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/model"
)

func TestRunCheck(t *testing.T) {
	e := newAPIEnv(t)

	tests := []struct {
		name, method, path string
		header             []string
		want               int
		body               string
	}{
		{"datastar button", fiber.MethodPost, "/api/v1/checks/" + checkUp + "/run", []string{"Datastar-Request", "true"}, fiber.StatusNoContent, ""},
		{"json client", fiber.MethodPost, "/api/v1/checks/" + checkUp + "/run", []string{"Content-Type", "application/json"}, fiber.StatusAccepted, `"queued":true`},
		{"unknown check", fiber.MethodPost, "/api/v1/checks/nope/run", []string{"Datastar-Request", "true"}, fiber.StatusNotFound, `no check named \"nope\"`},
		{"plain form post", fiber.MethodPost, "/api/v1/checks/" + checkUp + "/run", nil, fiber.StatusForbidden, "must come from a dashd page"},
		{"cross-site", fiber.MethodPost, "/api/v1/checks/" + checkUp + "/run", []string{"Datastar-Request", "true", "Sec-Fetch-Site", "cross-site"}, fiber.StatusForbidden, "cross-site"},
		{"GET", fiber.MethodGet, "/api/v1/checks/" + checkUp + "/run", nil, fiber.StatusMethodNotAllowed, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			for i := 0; i+1 < len(tt.header); i += 2 {
				req.Header.Set(tt.header[i], tt.header[i+1])
			}
			resp, err := e.srv.App().Test(req, 10_000)
			if err != nil {
				t.Fatal(err)
			}
			body := readAll(t, resp)
			if resp.StatusCode != tt.want || !strings.Contains(body, tt.body) {
				t.Errorf("%s %s = %d %q, want %d containing %q", tt.method, tt.path, resp.StatusCode, body, tt.want, tt.body)
			}
		})
	}
	// Each run asked for is in the audit log, with who (mode none: the
	// session's guest name) and from where.
	deadline := time.Now().Add(10 * time.Second)
	for {
		evs, err := e.db.Events(0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, ev := range evs {
			if ev.Kind == model.EventAudit && ev.Reason == "ran check "+checkUp+" now" && ev.User != "" && ev.Address != "" {
				n++
			}
		}
		if n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d audit events for the 2 runs asked for; events: %+v", n, evs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.noErrorLogs(t)
}
