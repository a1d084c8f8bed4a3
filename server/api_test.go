package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// decode unmarshals a JSON body, failing the test on error.
func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

type apiError struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

func TestAPI_Errors(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		path   string
		status int
		want   string
	}{
		{"/api/v1/checks/nope", 404, `unknown check "nope"`},
		{"/api/v1/checks/nope/history", 404, `unknown check "nope"`},
		{"/api/v1/checks/web/history?from=yesterday", 400, "from: "},
		{"/api/v1/checks/web/history?to=1h", 400, "needs a sign"},
		{"/api/v1/checks/web/history?from=-1h&to=-2h", 400, "must be before"},
		{"/api/v1/checks/web/history?points=0", 400, "points: "},
		{"/api/v1/series/cpu.total?points=abc", 400, "points: "},
		{"/api/v1/series/cpu.total?from=2024-13-01T00:00:00Z", 400, "from: "},
		{"/api/v1/series/no.such.metric", 404, `unknown series "no.such.metric"`},
		{"/api/v1/events?limit=0", 400, `limit: "0" must be a whole number from 1 to 1000`},
		{"/api/v1/events?limit=5000", 400, `limit: "5000" must be a whole number from 1 to 1000`},
		{"/api/v1/checks/web/history?points=0", 400, `points: "0" must be a whole number from 1 to 10000`},
		{"/api/v1/events?before=-1", 400, "before: "},
		{"/api/v1/nothing", 404, "no such API endpoint"},
		{"/api/checks/nope/status", 404, `unknown check "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
			ae := decode[apiError](t, body)
			if ae.Status != tt.status || !strings.Contains(ae.Error, tt.want) {
				t.Errorf("got %+v, want status %d and error containing %q", ae, tt.status, tt.want)
			}
		})
	}
	// An unescaped '+' arrives as a space; it still means "from now on".
	if resp, body := e.get(t, "/api/v1/checks/web/history?from=-1h&to=+5m"); resp.StatusCode != 200 {
		t.Errorf("to=+5m: status %d: %s", resp.StatusCode, body)
	}
}

func TestAPI_Checks(t *testing.T) {
	e := newAPIEnv(t)
	resp, body := e.get(t, "/api/v1/checks")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	type check struct {
		Name      string              `json:"name"`
		Type      string              `json:"type"`
		State     model.State         `json:"state"`
		Reason    string              `json:"reason"`
		LatencyMs float64             `json:"latency_ms"`
		Uptime    map[string]*float64 `json:"uptime"`
		Detail    string              `json:"detail"`
	}
	got := decode[struct{ Checks []check }](t, body)
	byName := map[string]check{}
	for _, c := range got.Checks {
		byName[c.Name] = c
	}
	if len(byName) != 4 {
		t.Fatalf("want 4 checks, got %s", body)
	}
	if c := byName[checkUp]; c.State != model.StateUp || c.Type != "http" || c.LatencyMs <= 0 {
		t.Errorf("web: %+v", c)
	}
	if c := byName[checkDown]; c.State != model.StateDown || !strings.Contains(c.Reason, "503") {
		t.Errorf("api.v2: %+v", c)
	}
	// Uptime from the stored history: 999 of 1000 up in every window, and
	// exactly the check page's windows (window.Uptime), 90d included.
	for _, c := range got.Checks {
		if len(c.Uptime) != 4 {
			t.Errorf("%s: uptime windows %v, want 24h, 7d, 30d and 90d", c.Name, c.Uptime)
		}
	}
	for _, w := range []string{"24h", "7d", "30d", "90d"} {
		p := byName[checkUp].Uptime[w]
		if p == nil || *p < 99.89 || *p > 99.91 {
			t.Errorf("web uptime %s = %v, want 99.9", w, p)
		}
		if _, ok := byName[checkDown].Uptime[w]; !ok || byName[checkDown].Uptime[w] != nil {
			t.Errorf("api.v2 uptime %s should be null (no history)", w)
		}
	}
	// The hidden badge does not hide the check from the API.
	if _, ok := byName[checkHidden]; !ok {
		t.Error("badge: false check missing from the API")
	}

	resp, body = e.get(t, "/api/v1/checks/api.v2")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if c := decode[check](t, body); c.Name != checkDown || c.State != model.StateDown {
		t.Errorf("single check: %+v", c)
	}
}

func TestAPI_History(t *testing.T) {
	e := newAPIEnv(t)
	type history struct {
		Check   string         `json:"check"`
		Points  int            `json:"points"`
		Total   int            `json:"total"`
		Thinned bool           `json:"thinned"`
		Results []model.Result `json:"results"`
	}
	// The stored results span 50 minutes up to about 17 minutes ago.
	_, body := e.get(t, "/api/v1/checks/web/history?from=-1h&points=10000")
	h := decode[history](t, body)
	if h.Check != checkUp || h.Thinned || len(h.Results) < storedUp+storedDown || h.Total != len(h.Results) {
		t.Fatalf("full history: check %q total %d thinned %v results %d", h.Check, h.Total, h.Thinned, len(h.Results))
	}
	_, body = e.get(t, "/api/v1/checks/web/history?from=-1h&points=10")
	h = decode[history](t, body)
	if !h.Thinned || len(h.Results) != 10 {
		t.Fatalf("thinned: %d results, thinned %v", len(h.Results), h.Thinned)
	}
	downs := 0
	for _, r := range h.Results {
		if r.State == model.StateDown {
			downs++
		}
	}
	if downs != 1 {
		t.Errorf("thinning lost or duplicated the outage: %d down results in %+v", downs, h.Results)
	}
	// Unix seconds and RFC 3339 select the same window.
	from, to := e.now.Add(-40*time.Minute), e.now.Add(-30*time.Minute)
	_, a := e.get(t, "/api/v1/checks/web/history?points=10000&from="+url.QueryEscape(from.Format(time.RFC3339Nano))+"&to="+url.QueryEscape(to.Format(time.RFC3339Nano)))
	_, b := e.get(t, "/api/v1/checks/web/history?points=10000&from="+from.Format("1136239445")[:0]+unix(from)+"&to="+unix(to))
	ha, hb := decode[history](t, a), decode[history](t, b)
	if ha.Total == 0 || ha.Total < hb.Total-1 || ha.Total > hb.Total+1 {
		t.Errorf("RFC 3339 window has %d results, Unix window %d", ha.Total, hb.Total)
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func TestAPI_Series(t *testing.T) {
	e := newAPIEnv(t)
	_, body := e.get(t, "/api/v1/series")
	names := decode[struct{ Series []string }](t, body).Series
	want := map[string]bool{"cpu.total": false, "fs.used_pct{mount=/}": false}
	for _, n := range names {
		if _, ok := want[n]; ok {
			want[n] = true
		}
	}
	for n, found := range want {
		if !found {
			t.Errorf("series %q not listed in %v", n, names)
		}
	}

	type series struct {
		Series string `json:"series"`
		Points []struct {
			T time.Time `json:"t"`
			V float64   `json:"v"`
		} `json:"points"`
	}
	tests := []struct {
		name, path, series string
		value              float64 // every point's value; <0: don't check
	}{
		{"plain", "/api/v1/series/cpu.total?from=-1h", "cpu.total", -1},
		{"escaped braces and slash", "/api/v1/series/" + url.PathEscape("fs.used_pct{mount=/}") + "?from=-1h", "fs.used_pct{mount=/}", 42},
		{"all escaped", "/api/v1/series/fs.used_pct%7Bmount%3D%2F%7D?from=-1h", "fs.used_pct{mount=/}", 42},
		{"raw slash", "/api/v1/series/fs.used_pct%7Bmount=/%7D?from=-1h", "fs.used_pct{mount=/}", 42},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			s := decode[series](t, body)
			if s.Series != tt.series || len(s.Points) == 0 {
				t.Fatalf("got series %q with %d points", s.Series, len(s.Points))
			}
			for _, p := range s.Points {
				if tt.value >= 0 && p.V != tt.value {
					t.Errorf("point %v = %v, want %v", p.T, p.V, tt.value)
				}
			}
		})
	}
	// points= bounds the answer.
	_, body = e.get(t, "/api/v1/series/cpu.total?from=-1h&points=5")
	if n := len(decode[series](t, body).Points); n == 0 || n > 5 {
		t.Errorf("points=5 gave %d points", n)
	}
}

func TestAPI_Events(t *testing.T) {
	e := newAPIEnv(t)
	type page struct {
		Events []model.Event `json:"events"`
		Next   *uint64       `json:"next"`
	}
	_, body := e.get(t, "/api/v1/events?limit=3")
	p1 := decode[page](t, body)
	if len(p1.Events) != 3 || p1.Next == nil {
		t.Fatalf("first page: %s", body)
	}
	if p1.Events[0].ID <= p1.Events[1].ID {
		t.Errorf("events not newest first: %+v", p1.Events)
	}
	_, body = e.get(t, "/api/v1/events?limit=3&before="+strconv.FormatUint(*p1.Next, 10))
	p2 := decode[page](t, body)
	if len(p2.Events) != 2 || p2.Next != nil {
		t.Fatalf("second page: %s", body)
	}
	if p2.Events[0].ID >= p1.Events[2].ID {
		t.Errorf("pages overlap: %+v then %+v", p1.Events, p2.Events)
	}
	// A page that ends exactly at the last event has no next.
	_, body = e.get(t, "/api/v1/events?limit=5")
	if p := decode[page](t, body); len(p.Events) != 5 || p.Next != nil {
		t.Fatalf("exact last page: %s", body)
	}
}

func TestAPI_System(t *testing.T) {
	e := newAPIEnv(t)
	resp, body := e.get(t, "/api/v1/system")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	var snap struct {
		Host   struct{ Hostname string }
		Memory struct{ Total uint64 }
		Load   struct{ Load1 float64 }
	}
	if err := json.Unmarshal(body, &snap); err != nil {
		t.Fatal(err)
	}
	if snap.Host.Hostname != "box" || snap.Memory.Total != 8<<30 || snap.Load.Load1 != 0.5 {
		t.Errorf("system: %s", body)
	}
}

func TestPolling(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		path string
		want []string
	}{
		// 4 checks: web, internal and secure up, api.v2 down.
		{"/api/status", []string{"event: datastar-merge-fragments", `id="status-badge"`, "1 down", "st-down"}},
		{"/api/checks/api.v2/status", []string{"event: datastar-merge-fragments", `id="check-badge-api_2ev2"`, "Down", "HTTP 503"}},
		// The dashboard's own view shows checks whose public badge is off.
		{"/api/checks/internal/status", []string{`id="check-badge-internal"`, "Up"}},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := e.get(t, tt.path, "Datastar-Request", "true")
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type %q", ct)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
}
