package server

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/series"
	"github.com/dashd/dashd/storage"
)

// Host history over a whole dashd (newTestStack: real sampler, real bbolt
// file, real listener) whose file already holds history written here for
// an interface and a filesystem the sampler does not know, so their pages
// are deterministic: a run of samples, dashd "stopped" for ten minutes,
// another run.

const (
	histIface = "test0"
	histMount = "/hist test"
)

func histNetKey(i int) string {
	return model.SeriesKey(series.NetMetrics()[i], series.LabelIface, histIface)
}
func histFSKey(i int) string {
	return model.SeriesKey(series.FSMetrics()[i], series.LabelMount, histMount)
}

// writeHostHistory stores samples every 10 s over [now-55m, now-35m) and
// [now-25m, now-2m) in the bbolt file at path, then closes it.
func writeHostHistory(t *testing.T, path string, now time.Time) {
	t.Helper()
	db, err := storage.Open(path, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = db.Run(ctx) }()
	write := func(from, to time.Time) {
		for ts := from; ts.Before(to); ts = ts.Add(10 * time.Second) {
			err := db.WriteSample(model.Sample{Time: ts, Points: []model.Point{
				{Series: histNetKey(0), Value: 2 << 20}, {Series: histNetKey(1), Value: 512 << 10},
				{Series: histNetKey(2), Value: 100}, {Series: histNetKey(3), Value: 50},
				{Series: histFSKey(0), Value: 100 << 30}, {Series: histFSKey(1), Value: 42 << 30},
				{Series: histFSKey(2), Value: 58 << 30}, {Series: histFSKey(3), Value: 42},
			}})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	write(now.Add(-55*time.Minute), now.Add(-35*time.Minute))
	write(now.Add(-25*time.Minute), now.Add(-2*time.Minute))
	if err := db.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

func newHistoryStack(t *testing.T) *testStack {
	t.Helper()
	dir := t.TempDir()
	writeHostHistory(t, filepath.Join(dir, "dashd.db"), time.Now())
	return newTestStack(t, stackOptions{dir: dir})
}

// histGet fetches path with optional cookie and returns status and body.
func histGet(t *testing.T, st *testStack, path, cookie string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, st.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
	}
	return resp.StatusCode, b.String()
}

var firstLine = regexp.MustCompile(`class="hline s0" d="([^"]*)"`)

func TestHistory_Pages(t *testing.T) {
	st := newHistoryStack(t)
	// The sampler stores CPU rates from its second tick on.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		names, err := st.db.SeriesNames()
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(names, "cpu.core{core=0}") && slices.Contains(names, series.CPUUser) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sampler stored no CPU series: %v", names)
		}
	}
	signals := func(s string) string { return "datastar=" + url.QueryEscape(s) }
	long := strings.Repeat("x", 2000)
	tests := []struct {
		name, path, cookie string
		status             int
		want               []string
		check              func(t *testing.T, body string)
	}{
		{name: "interface", path: "/host/net?iface=" + histIface, status: 200,
			want: []string{`data-names="in|out"`, "MiB/s", "Network test0", "raw samples", "times in UTC", `,2,2,2,`, `href="/host/net?iface=test0&amp;range=6h"`},
			check: func(t *testing.T, body string) {
				m := firstLine.FindStringSubmatch(body)
				if m == nil {
					t.Fatal("no line")
				}
				// Two runs: the ten minutes without samples are a gap.
				if n := strings.Count(m[1], "M"); n != 2 {
					t.Errorf("throughput line %q has %d subpaths, want 2", m[1], n)
				}
			}},
		{name: "interface 6h from minute rollups", path: "/host/net?iface=" + histIface + "&range=6h", status: 200,
			want: []string{"2-minute points from minute rollups", `aria-current="true">6h<`}},
		{name: "interface 90d from hour rollups", path: "/host/net?iface=" + histIface + "&range=90d", status: 200,
			want: []string{"12-hour points from hour rollups"}},
		{name: "filesystem with a space", path: "/host/fs?mount=" + url.QueryEscape(histMount), status: 200,
			want: []string{"Filesystem /hist test", `,42,42,42,`, "Inodes used", "GiB"}},
		{name: "filesystem overview", path: "/host/fs", status: 200,
			want: []string{"Space used", `href="/host/fs?mount=%2Fhist+test"`}},
		{name: "cpu from the sampler", path: "/host/cpu", status: 200,
			want: []string{"By mode", "Busy per core", `data-names="user|system|iowait|nice|irq|softirq|steal"`, `/host/cpu/events`}},
		{name: "offset cookie", path: "/host/net?iface=" + histIface, cookie: "dashd_tzo=-120", status: 200,
			want: []string{"times in UTC+02:00"}},
		{name: "a cookie that is no offset is ignored", path: "/host/net?iface=" + histIface, cookie: "dashd_tzo=99999", status: 200,
			want: []string{"times in UTC<"}},
		{name: "unknown page", path: "/host/gpu", status: 404, want: []string{"no such host history", "cpu, memory"}},
		{name: "unknown interface", path: "/host/net?iface=eth9x", status: 404, want: []string{`no interface "eth9x" has stored history`}},
		{name: "unknown mount", path: "/host/fs?mount=/nope", status: 404, want: []string{`no filesystem "/nope"`}},
		{name: "huge item", path: "/host/fs?mount=" + long, status: 404, want: []string{"longer than 1024 bytes"}},
		{name: "bad range", path: "/host/cpu?range=2h", status: 400, want: []string{`range "2h" is not one of 1h, 6h, 24h, 7d, 30d or 90d`}},
		{name: "stream: bad range signal", path: "/host/cpu/events?" + signals(`{"range":"2h"}`), status: 400, want: []string{"range"}},
		{name: "stream: offset out of bounds", path: "/host/cpu/events?" + signals(`{"tzo":5000}`), status: 400, want: []string{"tzo"}},
		{name: "stream: offset not a number", path: "/host/cpu/events?" + signals(`{"tzo":"x"}`), status: 400, want: []string{"malformed signals"}},
		{name: "stream: fractional offset", path: "/host/cpu/events?" + signals(`{"tzo":1.5}`), status: 400, want: []string{"whole minutes"}},
		{name: "stream: unknown page", path: "/host/gpu/events", status: 404, want: []string{"no such host history"}},
		{name: "stream: unknown interface", path: "/host/net/events?iface=eth9x", status: 404, want: []string{"no interface"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := histGet(t, st, tt.path, tt.cookie)
			if status != tt.status {
				t.Fatalf("status %d, want %d: %.300s", status, tt.status, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q: %.400s", w, body)
				}
			}
			if tt.check != nil {
				tt.check(t, body)
			}
		})
	}
}

// feedGoroutines counts running history feeds.
func feedGoroutines() int {
	buf := make([]byte, 4<<20)
	n := runtime.Stack(buf, true)
	return strings.Count(string(buf[:n]), "(*historyFeeds).run(")
}

func waitFeeds(t *testing.T, want int, what string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for feedGoroutines() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d history feeds running, want %d", what, feedGoroutines(), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestHistory_Stream: the stream starts with every chart in the browser's
// offset; a new sample reaches the open slot through the room's feed
// within a few ticks; the feed ends when its last stream goes, and on
// shutdown.
func TestHistory_Stream(t *testing.T) {
	st := newHistoryStack(t)
	open := func() (*http.Response, <-chan string) {
		q := url.Values{"iface": {histIface}, "datastar": {`{"range":"1h","tzo":-60}`}}
		req, err := http.NewRequest(http.MethodGet, st.url+"/host/net/events?"+q.Encode(), nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Datastar-Request", "true")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 {
			t.Fatalf("stream: status %d", resp.StatusCode)
		}
		events := make(chan string, 64)
		go func() {
			defer close(events)
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 1<<20), 1<<22)
			var ev strings.Builder
			for sc.Scan() {
				if sc.Text() == "" {
					if ev.Len() > 0 {
						events <- ev.String()
						ev.Reset()
					}
					continue
				}
				ev.WriteString(sc.Text())
				ev.WriteByte('\n')
			}
		}()
		return resp, events
	}
	next := func(events <-chan string, what string, ok func(string) bool) string {
		t.Helper()
		timeout := time.After(40 * time.Second)
		for {
			select {
			case ev, more := <-events:
				if !more {
					t.Fatalf("%s: stream ended", what)
				}
				if testing.Verbose() {
					t.Logf("event: %.200s … %d bytes", ev, len(ev))
				}
				if ok(ev) {
					return ev
				}
			case <-timeout:
				t.Fatalf("%s: not seen", what)
			}
		}
	}

	resp, events := open()
	first := next(events, "the charts", func(ev string) bool { return strings.Contains(ev, "history-charts") })
	if !strings.Contains(first, "times in UTC+01:00") || !strings.Contains(first, "datastar-merge-fragments") {
		t.Errorf("first patch is not the charts in UTC+01:00: %.300s", first)
	}
	next(events, "live", func(ev string) bool { return strings.Contains(ev, "_live") })
	waitFeeds(t, 1, "with one stream")

	// A new sample moves the open slot: the feed sends the edge layers
	// alone, a few hundred bytes (or every chart, if a 20 s slot closed
	// meanwhile: then once more).
	edgeOnly := false
	for i, v := range []float64{9, 7, 5} {
		at := time.Now()
		err := st.db.WriteSample(model.Sample{Time: at, Points: []model.Point{{Series: histNetKey(0), Value: v * (1 << 20)}}})
		if err != nil {
			t.Fatal(err)
		}
		// In the open slot's values, or the last settled slot's if a
		// slot closed before the feed's tick.
		want := regexp.MustCompile(fmt.Sprintf(`data-vals="([^"|]*,)?%g\|`, v))
		ev := next(events, "the new sample at the right edge", want.MatchString)
		if !strings.Contains(ev, `id="he-h0"`) {
			t.Errorf("patch without the edge layer: %.300s", ev)
		}
		all := strings.Contains(ev, "history-charts")
		t.Logf("sample %d reached the page after %s: %d bytes, every chart: %v", i, time.Since(at).Round(time.Millisecond), len(ev), all)
		if !all {
			edgeOnly = true
			if len(ev) > 1500 {
				t.Errorf("an edge patch of %d bytes", len(ev))
			}
			break
		}
	}
	if !edgeOnly {
		t.Error("no patch of the edge alone in three ticks")
	}

	// The last stream goes: the feed ends (the hub notices at its next
	// heartbeat, the feed at its next tick).
	resp.Body.Close()
	waitFeeds(t, 0, "after the stream closed")

	// A feed running at shutdown ends with the server.
	_, events = open()
	next(events, "the charts again", func(ev string) bool { return strings.Contains(ev, "history-charts") })
	waitFeeds(t, 1, "with a new stream")
	st.Close()
	if n := feedGoroutines(); n != 0 {
		t.Errorf("%d history feeds still running after shutdown", n)
	}
}
