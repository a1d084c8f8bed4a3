package main

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// testdata/fleet_overview.sse is a real hub's overview stream: its
// on-connect state (filter line, the grid cut to three tiles, the
// notifications, two signal events) as the hub sent it to 1,000 simulated
// agents, then a ping and two single-tile patches rendered by
// ui.FleetTileItem (a check down; an unreachable host).

func TestReadSSE_OverviewStream(t *testing.T) {
	f, err := os.Open("testdata/fleet_overview.sse")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var names []string
	var tiles []tileFigures
	err = readSSE(f, 1<<20, func(ev sseEvent) error {
		names = append(names, ev.name)
		if frag, ok := fragmentsOf(ev); ok {
			tiles = append(tiles, parseTiles(frag)...)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("readSSE: %v", err)
	}
	wantNames := []string{"datastar-merge-fragments", "datastar-merge-fragments", "datastar-merge-fragments",
		"datastar-merge-signals", "datastar-merge-signals", "datastar-merge-fragments", "datastar-merge-fragments"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Errorf("events %q, want %q (the ping is no event)", names, wantNames)
	}
	want := []tileFigures{
		{host: "vm", cpu: 96, mem: 4},
		{host: "sim-0396", cpu: 49, mem: 62},
		{host: "sim-0398", cpu: 49, mem: 62},
		{host: "sim-0001", cpu: 47, mem: 63, checksDown: true},
		{host: "sim-0000", cpu: 45, mem: 61, unreachable: true},
	}
	if !reflect.DeepEqual(tiles, want) {
		t.Errorf("tiles\n got %+v\nwant %+v", tiles, want)
	}
}

func TestReadSSE(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		limit   int
		want    []sseEvent
		wantErr error
	}{
		{"two events, CRLF and LF", "event: a\r\ndata: x 1\r\n\r\nevent: b\ndata: y\ndata: z\n\n", 100,
			[]sseEvent{{"a", []string{"x 1"}}, {"b", []string{"y", "z"}}}, nil},
		{"comments and empty events skipped", ": ping\n\n\n: ping\n\nevent: a\n\n", 100, []sseEvent{{"a", nil}}, nil},
		{"no space after the colon", "event:a\ndata:v\n\n", 100, []sseEvent{{"a", []string{"v"}}}, nil},
		{"unfinished event at the end dropped", "event: a\ndata: v\n", 100, nil, nil},
		{"a line longer than the read buffer", "data: " + strings.Repeat("x", 100_000) + "\n\n", 200_000,
			[]sseEvent{{"", []string{strings.Repeat("x", 100_000)}}}, nil},
		{"an event over the bound", "data: " + strings.Repeat("x", 100) + "\n\n", 50, nil, errSSETooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []sseEvent
			err := readSSE(strings.NewReader(tt.in), tt.limit, func(ev sseEvent) error {
				got = append(got, ev)
				return nil
			})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFragmentsOf(t *testing.T) {
	tests := []struct {
		name string
		ev   sseEvent
		want string
		ok   bool
	}{
		{"one line", sseEvent{"datastar-merge-fragments", []string{"selector #x", "fragments <p>a</p>"}}, "<p>a</p>", true},
		{"lines joined", sseEvent{"datastar-merge-fragments", []string{"fragments <p>", "mergeMode inner", "fragments </p>"}}, "<p>\n</p>", true},
		{"signals are not fragments", sseEvent{"datastar-merge-signals", []string{"signals {}"}}, "", false},
		{"no fragments line", sseEvent{"datastar-merge-fragments", []string{"selector #x"}}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := fragmentsOf(tt.ev)
			if got != tt.want || ok != tt.ok {
				t.Fatalf("got %q, %v; want %q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestParseTiles(t *testing.T) {
	tests := []struct {
		name string
		html string
		want []tileFigures
	}{
		{"none", `<p>No host matches.</p>`, nil},
		{"no figures yet", `<li data-host="a"><span class="fleet-checks">no checks</span></li>`, []tileFigures{{host: "a", cpu: -1, mem: -1}}},
		{"escaped host name", `<li data-host="a&amp;b"><span title="CPU busy">CPU 7%</span></li>`, []tileFigures{{host: "a&b", cpu: 7, mem: -1}}},
		{"figures stay in their tile", `<li data-host="a"><span>CPU 1%</span></li><li data-host="b"><span>Mem 2%</span></li>`,
			[]tileFigures{{host: "a", cpu: 1, mem: -1}, {host: "b", cpu: -1, mem: 2}}},
		{"not a number", `<li data-host="a"><span>CPU x%</span></li>`, []tileFigures{{host: "a", cpu: -1, mem: -1}}},
		{"unterminated attribute", `<li data-host="a`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseTiles(tt.html); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestStreamURLOf(t *testing.T) {
	tests := []struct {
		name, page, want string
		ok               bool
	}{
		{"the overview's stream", `<div id="stream" hidden data-on-load="@get(&#39;/api/fleet/events&#39;, {retryMaxCount: 1000000})"></div>`,
			"/api/fleet/events?datastar=%7B%22unreadCount%22%3A0%7D", true},
		{"a filter kept", `<div id="stream" hidden data-on-load="@get(&#39;/api/fleet/events?label=env%3Aprod&#39;)"></div>`,
			"/api/fleet/events?datastar=%7B%22unreadCount%22%3A0%7D&label=env%3Aprod", true},
		{"two labels, the ampersand escaped", `<div id="stream" data-on-load="@get(&#39;/api/fleet/events?label=a%3A1&amp;label=b%3A2&#39;)"></div>`,
			"/api/fleet/events?datastar=%7B%22unreadCount%22%3A0%7D&label=a%3A1&label=b%3A2", true},
		{"no stream", `<main></main>`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := streamURLOf(tt.page)
			if got != tt.want || (err == nil) != tt.ok {
				t.Fatalf("got %q, %v; want %q, ok %v", got, err, tt.want, tt.ok)
			}
		})
	}
}
