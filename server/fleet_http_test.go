package server

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/fleetview"
	"github.com/dashd/dashd/model"
)

// startTwoAgents starts web-1 (env:prod, 20 % CPU, nginx up) and db-1
// (env:staging, 90 % CPU, postgres up) and waits until the overview shows
// both.
func startTwoAgents(t *testing.T, fs *fleetStack) (web, db *testAgent) {
	t.Helper()
	web = fs.agent(t, "web-1", map[string]string{"env": "prod", "role": "web"})
	db = fs.agent(t, "db-1", map[string]string{"env": "staging"})
	web.sample(20, 30, 40)
	db.sample(90, 50, 60)
	web.check("nginx", model.StateUnknown, model.StateUp, "HTTP 200")
	db.check("postgres", model.StateUnknown, model.StateUp, "")
	waitFor(t, "both agents' checks stored", func() bool {
		_, b1 := fs.get("/api/v1/hosts/web-1/checks")
		_, b2 := fs.get("/api/v1/hosts/db-1/checks")
		return strings.Contains(b1, `"nginx"`) && strings.Contains(b2, `"postgres"`)
	})
	return web, db
}

// tileOrder is the hosts' order on a rendered overview.
func tileOrder(body string) []string {
	var out []string
	for _, part := range strings.Split(body, `data-host="`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}

func indexOf(xs []string, x string) int {
	for i, v := range xs {
		if v == x {
			return i
		}
	}
	return -1
}

// TestFleet_HTTP: a real hub with two real agents: the overview worst
// first and filtered by label, the host pages, the host-scoped API and
// badges, and the local host's URLs unchanged.
func TestFleet_HTTP(t *testing.T) {
	fs := newFleetStack(t)
	web, _ := startTwoAgents(t, fs)

	code, body := fs.get("/api/v1/hosts")
	var hosts struct {
		Hosts []struct {
			Name   string            `json:"name"`
			Hub    bool              `json:"hub"`
			Labels map[string]string `json:"labels"`
		} `json:"hosts"`
		Count int `json:"count"`
	}
	if err := json.Unmarshal([]byte(body), &hosts); err != nil || code != 200 {
		t.Fatalf("/api/v1/hosts: %d %v %s", code, err, body)
	}
	if hosts.Count != 3 || !hosts.Hosts[0].Hub || hosts.Hosts[0].Name != "testhost" || hosts.Hosts[2].Labels["env"] != "prod" {
		t.Errorf("/api/v1/hosts = %+v, want testhost (hub) first, then db-1 and web-1", hosts)
	}

	code, body = fs.get("/")
	order := tileOrder(body)
	if code != 200 || !strings.Contains(body, `id="fleet-grid"`) || len(order) != 3 {
		t.Fatalf("/ = %d, tiles %v; want the overview with three hosts", code, order)
	}
	if indexOf(order, "db-1") > indexOf(order, "web-1") {
		t.Errorf("tiles %v: db-1 (90%% CPU) must come before web-1 (20%%)", order)
	}
	if !strings.Contains(body, `href="/?label=env%3Aprod"`) {
		t.Errorf("the env:prod chip does not link to the filtered overview")
	}

	tests := []struct {
		name, path string
		code       int
		want       []string
		not        []string
	}{
		{"filter", "/?label=env:prod", 200, []string{`data-host="web-1"`, "1 of 3"}, []string{`data-host="db-1"`, `data-host="testhost"`}},
		{"filter two labels", "/?label=env:prod&label=role:db", 200, []string{"No host matches"}, []string{`data-host="web-1"`}},
		{"bad filter", "/?label=env", 400, []string{"key:value"}, nil},
		{"unknown parameter", "/?host=web-1", 400, []string{"label"}, nil},
		{"host page", "/hosts/web-1", 200, []string{"nginx", `href="/hosts/web-1/checks/nginx"`, `/hosts/web-1/events`, "env:prod", `id="stats"`}, nil},
		{"unknown host page", "/hosts/nope", 404, []string{"nope"}, nil},
		{"hub's own host page", "/hosts/testhost", 200, []string{`id="stats"`, "/api/events?have="}, []string{"fleet-grid"}},
		{"agent check page", "/hosts/web-1/checks/nginx", 200, []string{"nginx", "HTTP 200", "/hosts/web-1/events?check=nginx"}, []string{"/api/v1/checks/nginx/run"}},
		{"agent check stream unknown check", "/hosts/web-1/events?check=nope", 404, []string{`no check "nope" on host "web-1"`}, nil},
		{"agent check stream bad range", "/hosts/web-1/events?check=nginx&datastar=" + url.QueryEscape(`{"range":"2y"}`), 400, []string{"range"}, nil},
		{"agent stream unknown parameter", "/hosts/web-1/events?chek=nginx", 400, []string{"unknown query parameter"}, nil},
		{"agent unknown check page", "/hosts/web-1/checks/nope", 404, nil, nil},
		{"api host", "/api/v1/hosts/web-1", 200, []string{`"name":"web-1"`, `"cpu.total":20`, `"checks":[{"name":"nginx"`}, nil},
		{"api hub host", "/api/v1/hosts/testhost", 200, []string{`"hub":true`}, nil},
		{"api unknown host", "/api/v1/hosts/nope/checks", 404, []string{`"error":"unknown host \"nope\"`}, nil},
		{"api checks", "/api/v1/hosts/web-1/checks", 200, []string{`"host":"web-1"`, `"state":"up"`, `"count":1`}, nil},
		{"api checks filter", "/api/v1/hosts/web-1/checks?state=down", 200, []string{`"count":0`}, nil},
		{"api checks unknown param", "/api/v1/hosts/web-1/checks?stat=down", 400, []string{"unknown query parameter"}, nil},
		{"api check", "/api/v1/hosts/web-1/checks/nginx", 200, []string{`"name":"nginx"`, `"reason":"HTTP 200"`}, nil},
		{"api unknown check", "/api/v1/hosts/web-1/checks/nope", 404, []string{"unknown check"}, nil},
		{"api series names", "/api/v1/hosts/web-1/series", 200, []string{`"cpu.total"`, `"fs.used_pct{mount=/}"`}, nil},
		{"api series", "/api/v1/hosts/web-1/series/cpu.total?from=" + url.QueryEscape(time.Now().Add(-time.Minute).Format(time.RFC3339)), 200,
			[]string{`"series":"cpu.total"`, `"host":"web-1"`, `"value":20`}, nil},
		{"api unknown series", "/api/v1/hosts/web-1/series/nope", 404, []string{"unknown series"}, nil},
		// 400 days at 10,000 points: a step under an hour reads the minute
		// tier, whose 576,000 slots are refused before any read.
		{"api series span too long", "/api/v1/hosts/web-1/series/cpu.total?points=10000&from=" + url.QueryEscape(time.Now().Add(-400*24*time.Hour).Format(time.RFC3339)), 400,
			[]string{"narrow it"}, nil},
		{"api events", "/api/v1/hosts/web-1/events", 200, []string{`"check":"nginx"`, `"to_state":"up"`}, nil},
		{"api events bad limit", "/api/v1/hosts/web-1/events?limit=0", 400, []string{"limit"}, nil},
		{"api hub's checks", "/api/v1/hosts/testhost/checks", 200, []string{`"checks":[]`}, nil},
		{"badge", "/hosts/web-1/badge/nginx.svg", 200, []string{"<svg", ">up<"}, nil},
		{"badge unknown check", "/hosts/web-1/badge/nope.svg", 404, []string{"not found"}, nil},
		{"badge unknown host", "/hosts/nope/badge/nginx.svg", 404, []string{"not found"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := fs.get(tt.path)
			if code != tt.code {
				t.Fatalf("GET %s = %d, want %d: %.300s", tt.path, code, tt.code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q: %.600s", tt.path, w, body)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(body, n) {
					t.Errorf("GET %s holds %q", tt.path, n)
				}
			}
		})
	}

	// A check going down on web-1 puts it before db-1, and the API says so.
	web.check("nginx", model.StateUp, model.StateDown, "HTTP 503")
	waitFor(t, "nginx down on web-1", func() bool {
		_, b := fs.get("/api/v1/hosts/web-1/checks/nginx")
		return strings.Contains(b, `"state":"down"`)
	})
	_, body = fs.get("/")
	if order := tileOrder(body); order[0] != "web-1" {
		t.Errorf("tiles %v: web-1, with a check down, must come first", order)
	}
	if !strings.Contains(body, "1 of 1 checks down") {
		t.Errorf("web-1's tile does not count its check down")
	}
}

// TestFleet_SingleHostUnchanged: without agents / is the local dashboard
// and the fleet's own routes answer for the local host alone.
func TestFleet_SingleHostUnchanged(t *testing.T) {
	st := newTestStack(t, stackOptions{})
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/", 200, `id="stats"`},
		{"/hosts/testhost", 200, `id="stats"`},
		{"/hosts/web-1", 404, "web-1"},
		{"/api/v1/hosts", 200, `"count":1`},
		{"/api/v1/hosts/web-1/checks", 404, "unknown host"},
		{"/api/fleet/events", 200, ""},
	}
	for _, tt := range tests {
		if tt.path == "/api/fleet/events" {
			continue // a stream: served by the browser test
		}
		code, body := st.get(tt.path)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s = %d %.200s; want %d with %q", tt.path, code, body, tt.code, tt.want)
		}
		if tt.path == "/" && strings.Contains(body, "fleet-grid") {
			t.Errorf("/ of a single host is the fleet overview")
		}
	}
}

// TestFleet_CheckStream: an agent check page's stream is in its check's
// room (counted as room kind "fleetcheck"), starts with the whole page,
// and the check going down on the agent arrives as the fragments that
// changed.
func TestFleet_CheckStream(t *testing.T) {
	fs := newFleetStack(t)
	web, _ := startTwoAgents(t, fs)
	s := fs.openStream(t, "/hosts/web-1/events?check=nginx")
	ids := []string{`id="check-summary"`, `id="check-uptime"`, `id="check-latency"`, `id="check-results"`, `id="check-events"`}
	waitFor(t, "the whole page on connect", func() bool {
		b := s.text()
		for _, id := range ids {
			if !strings.Contains(b, id) {
				return false
			}
		}
		return strings.Contains(b, "_live")
	})
	if n := fs.testStack.hub.RoomCounts()[fleetview.CheckRoom("web-1", "nginx", "")]; n != 1 {
		t.Errorf("streams in nginx's room: %d, want 1", n)
	}
	if n := fs.testStack.hub.Stats().RoomKinds["fleetcheck"]; n != 1 {
		t.Errorf("streams of room kind fleetcheck: %d, want 1", n)
	}
	before := len(s.text())
	web.check("nginx", model.StateUp, model.StateDown, "HTTP 503")
	waitFor(t, "nginx down on the stream", func() bool {
		after := s.text()[before:]
		return strings.Contains(after, `id="check-summary"`) && strings.Contains(after, "st-down") &&
			strings.Contains(after, "up → down: HTTP 503")
	})
}
