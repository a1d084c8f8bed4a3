package server

import (
	"bufio"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/ui"
)

// BenchmarkDashboardPage is the server time to answer GET / (render, gzip,
// loopback HTTP) from a whole running dashd.
func BenchmarkDashboardPage(b *testing.B) {
	st := newTestStack(b, stackOptions{checks: httpCheckYAML("web", "edge", "http://127.0.0.1:1/")})
	time.Sleep(1500 * time.Millisecond) // a couple of samples so every card is there
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	req, _ := http.NewRequest("GET", st.url+"/", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	var size int64
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		size, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	b.ReportMetric(float64(size), "gzip-bytes")
}

// BenchmarkRenderDashboard is the render alone: the view from the latest
// state plus the templ components, no HTTP, no gzip.
func BenchmarkRenderDashboard(b *testing.B) {
	st := newTestStack(b, stackOptions{checks: httpCheckYAML("web", "edge", "http://127.0.0.1:1/")})
	time.Sleep(1500 * time.Millisecond)
	ch := ui.ChromeView{Stream: "/api/events", Nav: "dashboard"}
	var sb strings.Builder
	b.ReportAllocs()
	for b.Loop() {
		sb.Reset()
		v := st.srv.dashboardView()
		if err := ui.DashboardPage(st.srv.page(), ch, v).Render(b.Context(), &sb); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(sb.Len()), "html-bytes")
}

// TestMeasure_IdleStream reads one dashboard stream at the default intervals
// (1 s broadcast, 1 s host sampling, 5 s sparkline steps) and prints what an
// idle client receives per second, plus the first page weight. A figure,
// not an assertion: run with DASHD_MEASURE=1 (DASHD_MEASURE_SECONDS=60).
func TestMeasure_IdleStream(t *testing.T) {
	if os.Getenv("DASHD_MEASURE") == "" {
		t.Skip("measurement: set DASHD_MEASURE=1 to run")
	}
	secs := 60
	if v, err := strconv.Atoi(os.Getenv("DASHD_MEASURE_SECONDS")); err == nil && v > 0 {
		secs = v
	}
	// Two checks at the default interval (30s): one up, one refusing.
	target := newFlipServer(t)
	checks := "  - {name: web, type: http, group: edge, url: '" + target.url + "'}\n" +
		"  - {name: db, type: tcp, group: core, address: '127.0.0.1:1'}\n"
	st := newTestStack(t, stackOptions{broadcast: time.Second, sample: time.Second, procs: 5 * time.Second,
		sparkStep: 5 * time.Second, sparkPoints: 60, checks: checks})
	time.Sleep(3 * time.Second)

	// First page weight, as a browser with an empty cache fetches it.
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	fetch := func(path string) int {
		req, _ := http.NewRequest("GET", st.url+path, nil)
		req.Header.Set("Accept-Encoding", "gzip")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		n, _ := io.Copy(io.Discard, resp.Body)
		return int(n)
	}
	page := fetch("/")
	css := fetch(st.srv.deps.Assets.URL("app.css"))
	js := fetch(st.srv.deps.Assets.URL(ui.DatastarAsset))
	t.Logf("first page weight (gzip): html %d + css %d + datastar %d = %d bytes", page, css, js, page+css+js)

	resp, err := http.Get(st.url + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	// The initial full state ends with the _live signal.
	initial := 0
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		initial += len(line)
		if strings.Contains(line, `"_live":true`) {
			break
		}
	}
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	total, events := 0, 0
	byID := map[string]int{}
	cur := ""
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			line, err := r.ReadString('\n')
			total += len(line)
			if strings.HasPrefix(line, "event: ") {
				events++
				cur = strings.TrimSpace(strings.TrimPrefix(line, "event: datastar-"))
			}
			if i := strings.Index(line, `id="`); i >= 0 && strings.HasPrefix(line, "data: fragments <") {
				id := line[i+4:]
				cur = "fragment " + id[:strings.IndexByte(id, '"')]
			}
			byID[cur] += len(line)
			if err != nil || time.Now().After(deadline) {
				return
			}
		}
	}()
	time.Sleep(time.Until(deadline))
	resp.Body.Close()
	<-done
	t.Logf("initial state: %d bytes; then %d bytes in %d s = %.0f B/s (%d events, SSE payload bytes without HTTP chunk framing)",
		initial, total, secs, float64(total)/float64(secs), events)
	t.Logf("by kind: %v", byID)
}
