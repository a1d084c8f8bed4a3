package server

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/dashd/dashd/internal/golden"
	"github.com/dashd/dashd/model"
)

func TestBadges_Golden(t *testing.T) {
	e := newAPIEnv(t)
	styles := []string{"flat", "flat-square", "for-the-badge", "plastic", "social"}
	kinds := []struct {
		name string
		path string // without style
		ct   string
	}{
		{"state-up", "/badge/web.svg", "image/svg+xml; charset=utf-8"},
		{"state-down", "/badge/api.v2.svg", "image/svg+xml; charset=utf-8"},
		{"uptime-1h", "/badge/web/uptime/1h.svg", "image/svg+xml; charset=utf-8"},
		{"latency-avg-1h", "/badge/web/latency.svg?window=1h", "image/svg+xml; charset=utf-8"},
		{"label", "/badge/web.svg?label=my%20%3Cservice%3E", "image/svg+xml; charset=utf-8"},
		{"shields-state", "/badge/web/shields.json", "application/json; charset=utf-8"},
		{"shields-uptime", "/badge/web/shields.json?kind=uptime&window=1h", "application/json; charset=utf-8"},
		{"colors", "/badge/web.svg?color=ff69b4&labelColor=navy", "image/svg+xml; charset=utf-8"},
		{"shields-colors", "/badge/web/shields.json?color=rgb(255,105,180)&labelColor=%23ABC", "application/json; charset=utf-8"},
	}
	for _, k := range kinds {
		for _, style := range styles {
			t.Run(k.name+"/"+style, func(t *testing.T) {
				sep := "?"
				if strings.Contains(k.path, "?") {
					sep = "&"
				}
				resp, body := e.get(t, k.path+sep+"style="+style)
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d: %s", resp.StatusCode, body)
				}
				if got := resp.Header.Get("Content-Type"); got != k.ct {
					t.Errorf("Content-Type %q, want %q", got, k.ct)
				}
				if got := resp.Header.Get("Cache-Control"); got != "public, max-age=30" {
					t.Errorf("Cache-Control %q", got)
				}
				if resp.Header.Get("ETag") == "" {
					t.Error("no ETag")
				}
				ext := ".svg"
				if strings.HasPrefix(k.ct, "application/json") {
					ext = ".json"
				} else if err := xml.Unmarshal(body, new(struct{})); err != nil {
					t.Errorf("not well-formed XML: %v\n%s", err, body)
				}
				golden.Assert(t, "badges/"+k.name+"."+style+ext, body)
			})
		}
	}
	e.noErrorLogs(t)
}

func TestBadges_LiveValues(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		name string
		path string
		want []string // substrings of the body
	}{
		{"state up", "/badge/web.svg", []string{">web<", ">up<"}},
		{"state down", "/badge/api.v2.svg", []string{">api.v2<", ">down<"}},
		{"uptime from storage", "/badge/web/uptime/24h.svg", []string{">uptime 24h<", ">99.90%<"}},
		{"uptime without history", "/badge/api.v2/uptime/7d.svg", []string{">no data<"}},
		{"last latency is measured", "/badge/secure/latency.svg", []string{">latency<"}},
		{"average latency", "/badge/web/latency.svg?window=1h", []string{">latency 1h<", ">120 ms<"}},
		{"empty label", "/badge/web.svg?label=", []string{`aria-label="up"`}},
		{"label escaped", "/badge/web.svg?label=%3Cscript%3E", []string{"&lt;script&gt;"}},
		{"shields latency", "/badge/secure/shields.json?kind=latency", []string{`"label":"latency"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			if strings.Contains(string(body), "no data") && !strings.Contains(tt.name, "without history") {
				t.Errorf("no data in %s", body)
			}
			if strings.Contains(string(body), "<script>") {
				t.Errorf("unescaped label in %s", body)
			}
		})
	}
}

func TestBadges_ETag(t *testing.T) {
	e := newAPIEnv(t)
	for _, path := range []string{"/badge/web.svg", "/badge/web/uptime/24h.svg?style=flat-square", "/badge/web/latency.svg?window=1h", "/badge/web/shields.json"} {
		t.Run(path, func(t *testing.T) {
			resp, body := e.get(t, path)
			etag := resp.Header.Get("ETag")
			if resp.StatusCode != 200 || etag == "" || len(body) == 0 {
				t.Fatalf("first: status %d etag %q body %d bytes", resp.StatusCode, etag, len(body))
			}
			for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
				resp, body = e.get(t, path, "If-None-Match", inm)
				if resp.StatusCode != http.StatusNotModified {
					t.Fatalf("If-None-Match %s: status %d, want 304", inm, resp.StatusCode)
				}
				if len(body) != 0 {
					t.Errorf("304 with a %d-byte body", len(body))
				}
				if resp.Header.Get("ETag") != etag || resp.Header.Get("Cache-Control") == "" {
					t.Errorf("304 headers: ETag %q Cache-Control %q", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
				}
			}
			resp, _ = e.get(t, path, "If-None-Match", `"stale"`)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("stale If-None-Match: status %d, want 200", resp.StatusCode)
			}
		})
	}
	// Every override makes a different badge, with its own ETag.
	variants := []string{
		"/badge/web.svg",
		"/badge/web.svg?style=flat-square",
		"/badge/web.svg?style=plastic",
		"/badge/web.svg?style=social",
		"/badge/web.svg?label=x",
		"/badge/web.svg?color=blue",
		"/badge/web.svg?labelColor=blue",
		"/badge/web.svg?color=blue&labelColor=red",
		"/badge/web.svg?color=red&labelColor=blue",
		"/badge/web.svg?cacheSeconds=600",
		"/badge/web/shields.json?cacheSeconds=600",
		"/badge/web/shields.json",
		"/badge/api.v2.svg",
	}
	tags := map[string]string{}
	for _, v := range variants {
		resp, _ := e.get(t, v)
		tag := resp.Header.Get("ETag")
		if other, dup := tags[tag]; dup || tag == "" {
			t.Errorf("%s has ETag %q, the same as %s", v, tag, other)
		}
		tags[tag] = v
		// The ETag of an override is honoured like any other.
		if resp, _ := e.get(t, v, "If-None-Match", tag); resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s with its own ETag: status %d, want 304", v, resp.StatusCode)
		}
	}
}

// TestBadges_Overrides checks every shields.io query override on every
// route: colours (names, hex with and without "#", CSS names, rgb(), hsl()),
// the new styles and cacheSeconds (clamped to [30, 86400]).
func TestBadges_Overrides(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		name     string
		path     string
		want     []string // substrings of the body
		unwanted []string
		maxAge   int
	}{
		{"color name", "/badge/web.svg?color=blue", []string{`x="33" width="23" height="20" fill="#007ec6"`}, []string{"#4c1"}, 30},
		{"color hex without hash", "/badge/web.svg?color=ff69b4", []string{`fill="#ff69b4"`}, nil, 30},
		{"color hex with hash", "/badge/web.svg?color=%23ABC", []string{`fill="#abc"`}, nil, 30},
		{"color css name", "/badge/web.svg?color=rebeccapurple", []string{`fill="#663399"`}, nil, 30},
		{"color rgb", "/badge/web.svg?color=rgb(255,%200,%200)", []string{`fill="#ff0000"`}, nil, 30},
		{"color hsl", "/badge/web.svg?color=hsl(120,100%25,25%25)", []string{`fill="#008000"`}, nil, 30},
		{"labelColor", "/badge/web.svg?labelColor=white", []string{`<rect width="33" height="20" fill="#ffffff"/>`, `fill="#333"`}, []string{`fill="#555"`}, 30},
		{"uptime colours", "/badge/web/uptime/24h.svg?color=red&labelColor=blue", []string{`fill="#e05d44"`, `fill="#007ec6"`, ">99.90%<"}, nil, 30},
		{"latency colours", "/badge/web/latency.svg?window=1h&color=orange&labelColor=000", []string{`fill="#fe7d37"`, `fill="#000"`, ">120 ms<"}, nil, 30},
		{"plastic", "/badge/web.svg?style=plastic", []string{`height="18"`, `rx="4"`, `stop-opacity=".7"`}, nil, 30},
		{"social", "/badge/web/uptime/24h.svg?style=social", []string{`font-weight="700"`, ">Uptime 24h<", `aria-label="uptime 24h: 99.90%"`}, nil, 30},
		{"cacheSeconds raises max-age", "/badge/web.svg?cacheSeconds=3600", nil, nil, 3600},
		{"cacheSeconds never below the default", "/badge/web.svg?cacheSeconds=5", nil, nil, 30},
		{"cacheSeconds 0 is the default", "/badge/web/latency.svg?cacheSeconds=0", nil, nil, 30},
		{"cacheSeconds capped at a day", "/badge/web/uptime/1h.svg?cacheSeconds=604800", nil, nil, 86400},
		{"cacheSeconds overflow capped", "/badge/web.svg?cacheSeconds=99999999999999999999999", nil, nil, 86400},
		{"shields colours", "/badge/web/shields.json?color=blue&labelColor=ABC", []string{`"color":"blue"`, `"labelColor":"#abc"`}, []string{"cacheSeconds", "isError"}, 30},
		{"shields rgb", "/badge/web/shields.json?color=rgba(0,0,0,0.5)", []string{`"color":"rgba(0,0,0,0.5)"`}, nil, 30},
		{"shields style and cache", "/badge/web/shields.json?kind=uptime&style=social&cacheSeconds=600", []string{`"style":"social"`, `"cacheSeconds":600`, `"message":"99.90%"`}, nil, 600},
		{"shields clamped cache", "/badge/web/shields.json?cacheSeconds=1", []string{`"cacheSeconds":30`}, nil, 30},
		{"shields plastic", "/badge/web/shields.json?style=plastic", []string{`"style":"plastic"`}, nil, 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("body lacks %s:\n%s", w, body)
				}
			}
			for _, w := range tt.unwanted {
				if strings.Contains(string(body), w) {
					t.Errorf("body has %s:\n%s", w, body)
				}
			}
			if got, want := resp.Header.Get("Cache-Control"), "public, max-age="+strconv.Itoa(tt.maxAge); got != want {
				t.Errorf("Cache-Control %q, want %q", got, want)
			}
			if strings.HasSuffix(strings.SplitN(tt.path, "?", 2)[0], ".json") {
				checkShieldsSchema(t, body, false)
			} else if err := xml.Unmarshal(body, new(struct{})); err != nil {
				t.Errorf("not well-formed XML: %v\n%s", err, body)
			}
		})
	}
}

// checkShieldsSchema validates an endpoint body against the fields of the
// shields.io endpoint schema (schemaVersion 1, string label, non-empty
// message, no unknown keys, typed optional fields) and returns it.
func checkShieldsSchema(t *testing.T, body []byte, wantError bool) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	if m["schemaVersion"] != float64(1) {
		t.Errorf("schemaVersion %v", m["schemaVersion"])
	}
	if _, ok := m["label"].(string); !ok {
		t.Errorf("label missing: %s", body)
	}
	if s, _ := m["message"].(string); s == "" {
		t.Errorf("message missing or empty: %s", body)
	}
	for k, v := range m {
		var ok bool
		switch k {
		case "schemaVersion", "label", "message":
			ok = true
		case "color", "labelColor", "style":
			_, ok = v.(string)
		case "isError":
			ok = v == true // sent only when true
		case "cacheSeconds":
			n, isNum := v.(float64)
			ok = isNum && n == float64(int(n)) && n >= 0
		}
		if !ok {
			t.Errorf("key %q = %v is not in the endpoint schema (or mistyped)", k, v)
		}
	}
	if (m["isError"] == true) != wantError {
		t.Errorf("isError %v, want %v: %s", m["isError"], wantError, body)
	}
	return m
}

// TestBadges_ShieldsErrors: every refusal of shields.json keeps its status
// and answers in the endpoint schema with isError, lightgrey whatever the
// URL asked for, so an endpoint badge shows the error.
func TestBadges_ShieldsErrors(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		name    string
		path    string
		status  int
		label   string
		message string // substring
		style   string
	}{
		{"unknown check", "/badge/nope/shields.json", 404, "nope", "not found", ""},
		{"hidden check", "/badge/" + checkHidden + "/shields.json", 404, checkHidden, "not found", ""},
		{"unknown check keeps label and style", "/badge/nope/shields.json?label=svc&style=social&color=red&cacheSeconds=900", 404, "svc", "not found", "social"},
		{"bad window", "/badge/web/shields.json?kind=uptime&window=1y", 400, "web", `window: "1y" is not one of`, ""},
		{"window on state", "/badge/web/shields.json?window=1h", 400, "web", "takes no window", ""},
		{"bad kind", "/badge/web/shields.json?kind=colour", 400, "web", `kind: "colour" is not state, uptime or latency`, ""},
		{"bad kind keeps style", "/badge/web/shields.json?kind=colour&style=plastic", 400, "web", `kind: "colour"`, "plastic"},
		{"bad colour", "/badge/web/shields.json?color=nope", 400, "web", `color: "nope" is not a colour`, ""},
		{"bad style", "/badge/web/shields.json?style=popout", 400, "web", `style: unknown badge style "popout"`, ""},
		{"bad cacheSeconds", "/badge/web/shields.json?cacheSeconds=soon", 400, "web", `cacheSeconds: "soon"`, ""},
		{"escaped name", "/badge/a%25zz/shields.json?kind=nope", 400, "a%zz", `kind: "nope"`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); ct != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", ct)
			}
			if resp.Header.Get("ETag") != "" {
				t.Error("a refusal carries an ETag")
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=30" {
				t.Errorf("Cache-Control %q: refusals are cached briefly whatever cacheSeconds says", cc)
			}
			m := checkShieldsSchema(t, body, true)
			if m["label"] != tt.label {
				t.Errorf("label %v, want %q", m["label"], tt.label)
			}
			if s, _ := m["message"].(string); !strings.Contains(s, tt.message) {
				t.Errorf("message %q lacks %q", s, tt.message)
			}
			if m["color"] != "lightgrey" {
				t.Errorf("color %v, want lightgrey", m["color"])
			}
			if _, ok := m["labelColor"]; ok {
				t.Errorf("labelColor on an error: %s", body)
			}
			if got, _ := m["style"].(string); got != tt.style {
				t.Errorf("style %q, want %q", got, tt.style)
			}
		})
	}
	// A hidden check and an unknown one still look the same.
	_, hidden := e.get(t, "/badge/"+checkHidden+"/shields.json?label=x")
	_, unknown := e.get(t, "/badge/nope/shields.json?label=x")
	if string(hidden) != string(unknown) {
		t.Errorf("badge: false differs from unknown:\n%s\n%s", hidden, unknown)
	}
	golden.Assert(t, "badges/not-found.shields.json", unknown)
	e.noErrorLogs(t)
}

func TestBadges_NotFound(t *testing.T) {
	e := newAPIEnv(t)
	// An unknown check and a check with badge: false must be
	// indistinguishable apart from the name the requester typed.
	for _, name := range []string{"nope", checkHidden} {
		for _, path := range []string{"/badge/%s.svg", "/badge/%s/uptime/24h.svg", "/badge/%s/latency.svg", "/badge/%s/shields.json"} {
			p := strings.Replace(path, "%s", name, 1)
			t.Run(p, func(t *testing.T) {
				resp, body := e.get(t, p)
				if resp.StatusCode != http.StatusNotFound {
					t.Fatalf("status %d, want 404", resp.StatusCode)
				}
				if !strings.Contains(string(body), "not found") {
					t.Errorf("body lacks 'not found': %s", body)
				}
				if resp.Header.Get("ETag") != "" {
					t.Error("404 carries an ETag")
				}
				if strings.HasSuffix(p, ".json") {
					checkShieldsSchema(t, body, true)
				}
				if strings.HasSuffix(p, ".svg") && !strings.Contains(string(body), "#9f9f9f") {
					t.Errorf("not-found badge is not lightgrey: %s", body)
				}
			})
		}
	}
	_, hidden := e.get(t, "/badge/internal.svg?label=x")
	_, unknown := e.get(t, "/badge/nope.svg?label=x")
	if string(hidden) != string(unknown) {
		t.Errorf("badge: false differs from unknown:\n%s\n%s", hidden, unknown)
	}
	golden.Assert(t, "badges/not-found.flat.svg", unknown)
}

func TestBadges_BadParameters(t *testing.T) {
	e := newAPIEnv(t)
	tests := []struct {
		path string
		want string
	}{
		{"/badge/web.svg?style=popout", `style: unknown badge style "popout" (use flat, flat-square, for-the-badge, plastic or social)`},
		{"/badge/nope.svg?style=popout", `style: unknown badge style`},
		{"/badge/web.svg?color=nope", `color: "nope" is not a colour (use a shields.io name`},
		{"/badge/web/uptime/24h.svg?color=", `color: "" is not a colour`},
		{"/badge/web/latency.svg?labelColor=%23ggg", `labelColor: "#ggg" is not a colour`},
		{"/badge/web.svg?color=rgb(1,2)", `color: "rgb(1,2)" is not a colour`},
		{"/badge/web.svg?color=" + strings.Repeat("a", 200), `color: "` + strings.Repeat("a", 64) + `"... is not a colour`},
		{"/badge/nope.svg?labelColor=nope", `labelColor: "nope" is not a colour`},
		{"/badge/web.svg?cacheSeconds=abc", `cacheSeconds: "abc" is not a whole number of seconds`},
		{"/badge/web.svg?cacheSeconds=-5", `cacheSeconds: "-5" is not a whole number of seconds`},
		{"/badge/web.svg?cacheSeconds=1.5", `cacheSeconds: "1.5"`},
		{"/badge/web.svg?cacheSeconds=", `cacheSeconds: "" is not a whole number of seconds`},
		{"/badge/web/uptime/24h.svg?cacheSeconds=%2B60", `cacheSeconds: "+60"`},
		{"/badge/web/uptime/2h.svg", `window: "2h" is not one of 1h, 24h, 7d, 30d or 90d`},
		{"/badge/web/latency.svg?window=7d", `window: "7d" is not one of 1h or 24h`},
		{"/badge/web/shields.json?kind=colour", `kind: "colour"`},
		{"/badge/web/shields.json?kind=uptime&window=1y", `window: "1y"`},
		{"/badge/web.svg?label=" + strings.Repeat("x", 101), "label: at most 100 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := e.get(t, tt.path)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", resp.StatusCode, body)
			}
			if strings.Contains(tt.path, "/shields.json") {
				// shields.json refuses in the endpoint schema (see
				// TestBadges_ShieldsErrors): the words are its message.
				var m struct{ Message string }
				if err := json.Unmarshal(body, &m); err != nil {
					t.Fatalf("not JSON: %v: %s", err, body)
				}
				body = []byte(m.Message)
			}
			if !strings.Contains(string(body), tt.want) {
				t.Errorf("body %q lacks %q", body, tt.want)
			}
		})
	}
}

// TestBadges_Widths checks that a long label makes a wider badge than a
// short one: widths come from font metrics, not a fixed box.
func TestBadges_Widths(t *testing.T) {
	e := newAPIEnv(t)
	width := func(path string) int {
		_, body := e.get(t, path)
		s := string(body)
		i := strings.Index(s, `width="`)
		if i < 0 {
			t.Fatalf("no width in %s", s)
		}
		s = s[i+len(`width="`):]
		n, err := strconv.Atoi(s[:strings.IndexByte(s, '"')])
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	short := width("/badge/web.svg?label=a")
	long := width("/badge/web.svg?label=a%20much%20longer%20label%20than%20that")
	wide := width("/badge/web.svg?label=WWWW")
	narrow := width("/badge/web.svg?label=iiii")
	if short >= long {
		t.Errorf("short label width %d >= long label width %d", short, long)
	}
	if narrow >= wide {
		t.Errorf("'iiii' (%d) not narrower than 'WWWW' (%d): widths not from metrics", narrow, wide)
	}
}

// BenchmarkBadge measures the handler alone (no sockets): rendering a state
// badge against answering 304 from its ETag.
func BenchmarkBadge(b *testing.B) {
	e := newAPIEnv(b)
	h := e.srv.App().Handler()
	resp, _ := e.get(b, "/badge/web.svg")
	etag := resp.Header.Get("ETag")
	for _, bc := range []struct{ name, inm string }{{"200", ""}, {"304", etag}} {
		b.Run(bc.name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			for b.Loop() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.SetRequestURI("/badge/web.svg")
				if bc.inm != "" {
					ctx.Request.Header.Set("If-None-Match", bc.inm)
				}
				h(&ctx)
			}
		})
	}
}

// TestBadges_AverageLatencyCached: a public latency badge polled by many
// readers decodes the window's results once per max-age, not once per hit.
func TestBadges_AverageLatencyCached(t *testing.T) {
	e := newAPIEnv(t)
	path := "/badge/web/latency.svg?window=1h"
	if _, body := e.get(t, path); !strings.Contains(string(body), ">120 ms<") {
		t.Fatalf("first answer: %s", body)
	}
	for i := 0; i < 50; i++ {
		r := model.Result{Check: "web", Time: e.now.Add(-time.Duration(i+1) * time.Second), State: model.StateUp, Latency: 5 * time.Second}
		if err := e.db.WriteResult(r); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, body := e.get(t, path); !strings.Contains(string(body), ">120 ms<") {
		t.Fatalf("within max-age the average must come from the cache, got: %s", body)
	}
	if d, err := e.srv.computeAverageLatency("web", time.Hour, time.Now()); err != nil || d <= 120*time.Millisecond {
		t.Fatalf("the new results are stored (average %v, %v), so the cache is what answered", d, err)
	}
}
