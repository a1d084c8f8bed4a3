package server

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/dashd/dashd/window"
)

func TestResolveBadge(t *testing.T) {
	tests := []struct {
		kind, win string
		want      badgeKind
		span      string // the window's name, "" for none
		err       string // substring of the 400's message, "" for none
	}{
		{"", "", kindState, "", ""},
		{"state", "", kindState, "", ""},
		{"state", "1h", "", "", "takes no window"},
		{"uptime", "", kindUptime, "24h", ""},
		{"uptime", "1h", kindUptime, "1h", ""},
		{"uptime", "90d", kindUptime, "90d", ""},
		{"uptime", "2h", "", "", `window: "2h" is not one of 1h, 24h, 7d, 30d or 90d`},
		{"latency", "", kindLatency, "", ""},
		{"latency", "1h", kindLatency, "1h", ""},
		{"latency", "24h", kindLatency, "24h", ""},
		{"latency", "7d", "", "", `window: "7d" is not one of 1h or 24h`},
		{"shields", "", "", "", `kind: "shields" is not state, uptime or latency`},
		{"colour", "", "", "", `kind: "colour"`},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.win, func(t *testing.T) {
			spec, err := resolveBadge(tt.kind, tt.win)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.kind != tt.want || spec.window.Name != tt.span {
				t.Errorf("resolveBadge(%q, %q) = %s over %q, want %s over %q", tt.kind, tt.win, spec.kind, spec.window.Name, tt.want, tt.span)
			}
			if w, ok := window.Parse(window.All(), tt.span); ok && spec.window.Span != w.Span {
				t.Errorf("window %s spans %v, want %v", tt.span, spec.window.Span, w.Span)
			}
		})
	}
}

// svgTitle is the "label: message" an SVG badge carries for screen readers.
var svgTitle = regexp.MustCompile(`<title>([^<]*)</title>`)

// TestBadges_ShieldsAgreesWithSVG asks the SVG routes and shields.json the
// same question for every kind and window (each of the table, none, and
// one that is no window at all): both answer with the same status, and with
// the same label and message, or the same refusal.
func TestBadges_ShieldsAgreesWithSVG(t *testing.T) {
	e := newAPIEnv(t)
	wins := []string{""}
	for _, w := range window.All() {
		wins = append(wins, w.Name)
	}
	wins = append(wins, "2h")
	for _, check := range []string{checkUp, checkDown, checkTLS} {
		for _, kind := range []badgeKind{kindState, kindUptime, kindLatency} {
			for _, win := range wins {
				var svg string
				switch kind {
				case kindState:
					svg = "/badge/" + check + ".svg"
				case kindUptime:
					w := win
					if w == "" {
						w = defaultUptimeWindow // the SVG route always names one
					}
					svg = "/badge/" + check + "/uptime/" + w + ".svg"
				case kindLatency:
					svg = "/badge/" + check + "/latency.svg"
				}
				q := url.Values{"kind": {string(kind)}}
				if win != "" {
					q.Set("window", win)
					if kind != kindUptime {
						svg += "?" + url.Values{"window": {win}}.Encode()
					}
				}
				shields := "/badge/" + check + "/shields.json?" + q.Encode()
				t.Run(shields, func(t *testing.T) {
					sresp, sbody := e.get(t, shields)
					vresp, vbody := e.get(t, svg)
					if sresp.StatusCode != vresp.StatusCode {
						t.Fatalf("%s: status %d (%s), %s: status %d (%s)", shields, sresp.StatusCode, sbody, svg, vresp.StatusCode, vbody)
					}
					if sresp.StatusCode != http.StatusOK {
						// The SVG route refuses in plain text, shields.json in
						// the endpoint schema, with the same words.
						var sj struct {
							Message string
							IsError bool
						}
						if err := json.Unmarshal(sbody, &sj); err != nil {
							t.Fatalf("%s: refusal is not JSON: %v: %s", shields, err, sbody)
						}
						if sresp.StatusCode != http.StatusBadRequest || !sj.IsError || sj.Message != string(vbody) {
							t.Errorf("refusals differ: %s: %d %q, %s: %d %q", shields, sresp.StatusCode, sbody, svg, vresp.StatusCode, vbody)
						}
						return
					}
					var sj struct{ Label, Message string }
					if err := json.Unmarshal(sbody, &sj); err != nil {
						t.Fatalf("%s: %v: %s", shields, err, sbody)
					}
					m := svgTitle.FindSubmatch(vbody)
					if m == nil {
						t.Fatalf("%s: no <title>: %s", svg, vbody)
					}
					if got, want := sj.Label+": "+sj.Message, string(m[1]); got != want {
						t.Errorf("%s says %q, %s says %q", shields, got, svg, want)
					}
				})
			}
		}
	}
	// The case issue #13 found: shields.json dropped latency's window.
	_, body := e.get(t, "/badge/"+checkUp+"/shields.json?kind=latency&window=1h")
	if !strings.Contains(string(body), `"label":"latency 1h"`) || !strings.Contains(string(body), `"message":"120 ms"`) {
		t.Errorf("shields latency over 1h: %s", body)
	}
	e.noErrorLogs(t)
}
