package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
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
		{"/api/v1/checks/web/history?points=0", 400, "points must be 1..10000"},
		{"/api/v1/series/cpu.total?points=abc", 400, `points must be 1..10000, got "abc"`},
		{"/api/v1/series/cpu.total?from=2024-13-01T00:00:00Z", 400, "from: "},
		{"/api/v1/series/no.such.metric", 404, `unknown series "no.such.metric"`},
		// One wording of a limit out of range, on every route.
		{"/api/v1/events?limit=0", 400, `limit must be 1..1000, got "0"`},
		{"/api/v1/events?limit=5000", 400, `limit must be 1..1000, got "5000"`},
		{"/api/v1/deliveries?limit=0", 400, `limit must be 1..1000, got "0"`},
		{"/api/v1/deliveries?limit=1001", 400, `limit must be 1..1000, got "1001"`},
		{"/api/v1/checks/web/history?points=0", 400, `points must be 1..10000, got "0"`},
		{"/api/v1/events?before=-1", 400, "before must be"},
		// Unknown parameters are refused by name, on every route.
		{"/api/v1/checks?stat=down", 400, `unknown query parameter "stat": this endpoint takes state, group, type`},
		{"/api/v1/system?verbose=1", 400, `unknown query parameter "verbose": this endpoint takes none`},
		{"/api/v1/checks/web/history?form=-1h", 400, `unknown query parameter "form"`},
		{"/api/v1/series/cpu.total?point=5", 400, `unknown query parameter "point"`},
		{"/api/v1/series/?from=-1h", 400, `unknown query parameter "from"`},
		{"/api/v1/events?limt=5", 400, `unknown query parameter "limt"`},
		{"/api/v1/alerts?x=1", 400, `unknown query parameter "x"`},
		{"/api/v1/silences?x=1", 400, `unknown query parameter "x"`},
		{"/api/v1/channels?x=1", 400, `unknown query parameter "x"`},
		{"/api/v1/audit?x=1", 400, `unknown query parameter "x"`},
		{"/api/v1/openapi.json?x=1", 400, `unknown query parameter "x"`},
		// Filter values are validated.
		{"/api/v1/checks?state=dwn", 400, `state: unknown value "dwn"; one of up, degraded, down, unknown`},
		{"/api/v1/checks?type=htp", 400, `type: unknown value "htp"`},
		{"/api/v1/checks?group=nope", 400, `group: unknown value "nope"`},
		{"/api/v1/checks?state=", 400, "state: empty value"},
		{"/api/v1/events?kind=chek", 400, `kind: unknown value "chek"`},
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
		Name           string              `json:"name"`
		Type           string              `json:"type"`
		State          model.State         `json:"state"`
		Reason         string              `json:"reason"`
		LatencySeconds float64             `json:"latency_seconds"`
		Uptime         map[string]*float64 `json:"uptime_pct"`
		Detail         string              `json:"detail"`
	}
	got := decode[struct{ Checks []check }](t, body)
	byName := map[string]check{}
	for _, c := range got.Checks {
		byName[c.Name] = c
	}
	if len(byName) != 4 {
		t.Fatalf("want 4 checks, got %s", body)
	}
	if c := byName[checkUp]; c.State != model.StateUp || c.Type != "http" || c.LatencySeconds <= 0 || c.LatencySeconds > 10 {
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

	// Filters: state, type and group, lists repeated or comma-separated.
	filters := []struct {
		query string
		want  []string
	}{
		{"state=down", []string{checkDown}},
		{"state=up", []string{checkUp, checkHidden, checkTLS}},
		{"state=down,degraded", []string{checkDown}},
		{"state=down&state=up&type=http", []string{checkUp, checkDown, checkHidden, checkTLS}},
		{"type=tcp", []string{}},
		{"state=unknown", []string{}},
	}
	for _, tt := range filters {
		_, body := e.get(t, "/api/v1/checks?"+tt.query)
		got := decode[struct {
			Checks []check
			Count  int
		}](t, body)
		names := []string{}
		for _, c := range got.Checks {
			names = append(names, c.Name)
		}
		slices.Sort(names)
		want := slices.Sorted(slices.Values(tt.want))
		if !slices.Equal(names, want) || got.Count != len(want) {
			t.Errorf("%s: checks %q (count %d), want %q", tt.query, names, got.Count, want)
		}
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
		Check   string `json:"check"`
		Count   int    `json:"count"`
		Total   int    `json:"total"`
		Thinned bool   `json:"thinned"`
		Results []struct {
			Time           time.Time   `json:"time"`
			State          model.State `json:"state"`
			LatencySeconds float64     `json:"latency_seconds"`
		} `json:"results"`
	}
	// The stored results span 50 minutes up to about 17 minutes ago.
	_, body := e.get(t, "/api/v1/checks/web/history?from=-1h&points=10000")
	h := decode[history](t, body)
	if h.Check != checkUp || h.Thinned || len(h.Results) < storedUp+storedDown || h.Total != len(h.Results) || h.Count != len(h.Results) {
		t.Fatalf("full history: check %q total %d thinned %v results %d", h.Check, h.Total, h.Thinned, len(h.Results))
	}
	_, body = e.get(t, "/api/v1/checks/web/history?from=-1h&points=10")
	h = decode[history](t, body)
	if !h.Thinned || len(h.Results) != 10 || h.Count != 10 {
		t.Fatalf("thinned: %d results, thinned %v", len(h.Results), h.Thinned)
	}
	downs := 0
	for _, r := range h.Results {
		if r.State == model.StateDown {
			downs++
		}
		if r.LatencySeconds != storedLatency.Seconds() {
			t.Errorf("latency_seconds = %v, want %v", r.LatencySeconds, storedLatency.Seconds())
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
		Series      string  `json:"series"`
		StepSeconds float64 `json:"step_seconds"`
		Count       int     `json:"count"`
		Points      []struct {
			Time  time.Time `json:"time"`
			Value *float64  `json:"value"`
			Min   *float64  `json:"min"`
			Max   *float64  `json:"max"`
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
			withData := 0
			for _, p := range s.Points {
				if p.Value == nil {
					if p.Min != nil || p.Max != nil {
						t.Errorf("point %v: null value with min/max", p.Time)
					}
					continue
				}
				withData++
				if tt.value >= 0 && *p.Value != tt.value {
					t.Errorf("point %v = %v, want %v", p.Time, *p.Value, tt.value)
				}
			}
			if withData == 0 || s.Count != len(s.Points) {
				t.Errorf("%d points with data, count %d of %d", withData, s.Count, len(s.Points))
			}
		})
	}
	// points= bounds the answer.
	_, body = e.get(t, "/api/v1/series/cpu.total?from=-1h&points=5")
	if n := len(decode[series](t, body).Points); n == 0 || n > 5 {
		t.Errorf("points=5 gave %d points", n)
	}
	// Buckets without samples are explicit nulls, at their place in time:
	// the samples span 50 to 40 minutes ago (one every 10 s); over the
	// last 2 h in 12 buckets of 10 min, a bucket starting A ago covers
	// (A-10m, A]: it holds samples when A is within 40-60 min, none when
	// it starts well outside.
	_, body = e.get(t, "/api/v1/series/cpu.total?from=-2h&points=12")
	s := decode[series](t, body)
	if len(s.Points) != 12 || s.StepSeconds != 600 {
		t.Fatalf("from=-2h&points=12: %d points of %v s: %s", len(s.Points), s.StepSeconds, body)
	}
	for i, p := range s.Points {
		age := e.now.Sub(p.Time)
		switch {
		case age > 62*time.Minute || age < 39*time.Minute:
			if p.Value != nil {
				t.Errorf("bucket %d (%v ago) = %v, want null", i, age, *p.Value)
			}
		case age < 58*time.Minute && age > 42*time.Minute:
			if p.Value == nil {
				t.Errorf("bucket %d (%v ago) is null, want data", i, age)
			}
		}
		if i > 0 && p.Time.Sub(s.Points[i-1].Time) != 10*time.Minute {
			t.Errorf("bucket %d not 10 min after the previous", i)
		}
	}
}

func TestAPI_Events(t *testing.T) {
	e := newAPIEnv(t)
	type page struct {
		Events []struct {
			ID        uint64       `json:"id"`
			Kind      string       `json:"kind"`
			Check     string       `json:"check"`
			FromState *model.State `json:"from_state"`
			ToState   *model.State `json:"to_state"`
		} `json:"events"`
		Count int     `json:"count"`
		Next  *uint64 `json:"next"`
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
	// Filters: every stored event is a check event of web; a filter
	// that matches none gives an empty last page, not an error.
	tests := []struct {
		query string
		want  int
	}{
		{"kind=check", 5},
		{"kind=check&check=web", 5},
		{"kind=check,audit&check=web,other", 5},
		{"kind=audit", 0},
		{"check=nope", 0},
		{"check=web&limit=2", 2},
	}
	for _, tt := range tests {
		_, body := e.get(t, "/api/v1/events?"+tt.query)
		p := decode[page](t, body)
		if len(p.Events) != tt.want || p.Count != tt.want {
			t.Errorf("%s: %d events (count %d), want %d: %s", tt.query, len(p.Events), p.Count, tt.want, body)
		}
		for _, ev := range p.Events {
			if ev.Kind != "check" || ev.Check != checkUp || ev.FromState == nil || *ev.FromState != model.StateUp || ev.ToState == nil || *ev.ToState != model.StateDown {
				t.Errorf("%s: event %+v", tt.query, ev)
			}
		}
		if (p.Next != nil) != (tt.query == "check=web&limit=2") {
			t.Errorf("%s: next %v", tt.query, p.Next)
		}
	}
	// Filtered pages chain like unfiltered ones.
	_, body = e.get(t, "/api/v1/events?check=web&limit=2")
	f1 := decode[page](t, body)
	_, body = e.get(t, "/api/v1/events?check=web&limit=2&before="+strconv.FormatUint(*f1.Next, 10))
	if f2 := decode[page](t, body); len(f2.Events) != 2 || f2.Events[0].ID >= f1.Events[1].ID {
		t.Errorf("filtered second page: %s", body)
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
