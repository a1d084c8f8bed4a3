package server

import (
	"context"
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
	styles := []string{"flat", "flat-square", "for-the-badge"}
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
	// A different style or label is a different badge.
	a, _ := e.get(t, "/badge/web.svg")
	b, _ := e.get(t, "/badge/web.svg?style=flat-square")
	c, _ := e.get(t, "/badge/web.svg?label=x")
	d, _ := e.get(t, "/badge/api.v2.svg")
	tags := map[string]bool{}
	for _, r := range []*http.Response{a, b, c, d} {
		tags[r.Header.Get("ETag")] = true
	}
	if len(tags) != 4 {
		t.Errorf("ETags not distinct: %v", tags)
	}
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
		{"/badge/web.svg?style=plastic", `style: unknown badge style "plastic"`},
		{"/badge/nope.svg?style=plastic", `style: unknown badge style`},
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
