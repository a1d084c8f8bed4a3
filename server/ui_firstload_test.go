package server

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/dashd/dashd/internal/browsertest"
)

// firstLoadBudget is what the first load of the dashboard may weigh on the
// wire (issue #19): the page, its CSS and scripts, and its stream up to
// the full state.
const firstLoadBudget = 40 << 10

// wireMeter counts what a tab receives, per request, from Chromium's
// Network events: the encoded (on the wire) body bytes as they arrive,
// streams included, and each response's Content-Encoding.
type wireMeter struct {
	mu  sync.Mutex
	req map[network.RequestID]*wireRequest
}

type wireRequest struct {
	url      string
	encoding string // Content-Encoding of the response
	head     int64  // bytes received with the response head
	body     int64  // encoded body bytes received so far
	finished int64  // all bytes of a finished request, head included; 0 until then
}

// wire is the request's bytes on the wire so far.
func (r wireRequest) wire() int64 {
	if r.finished > 0 {
		return r.finished
	}
	return r.head + r.body
}

// meterWire starts counting the tab's traffic; call it before navigating.
func meterWire(t *testing.T, ctx context.Context) *wireMeter {
	t.Helper()
	m := &wireMeter{req: map[network.RequestID]*wireRequest{}}
	err := chromedp.Listen(ctx, func(ev any) {
		m.mu.Lock()
		defer m.mu.Unlock()
		switch e := ev.(type) {
		case *network.EventResponseReceived:
			r := m.get(e.RequestID)
			r.url = e.Response.URL
			r.head = int64(e.Response.EncodedDataLength)
			for k, v := range e.Response.Headers {
				if strings.EqualFold(k, "Content-Encoding") {
					r.encoding = fmt.Sprint(v)
				}
			}
		case *network.EventDataReceived:
			m.get(e.RequestID).body += e.EncodedDataLength
		case *network.EventLoadingFinished:
			m.get(e.RequestID).finished = int64(e.EncodedDataLength)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func (m *wireMeter) get(id network.RequestID) *wireRequest {
	r := m.req[id]
	if r == nil {
		r = &wireRequest{}
		m.req[id] = r
	}
	return r
}

// snapshot returns the requests so far, by URL, and the total bytes.
func (m *wireMeter) snapshot() (rows []wireRequest, total int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range m.req {
		rows = append(rows, *r)
		total += r.wire()
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].url < rows[j].url })
	return rows, total
}

// TestUI_FirstLoadUnder40KB loads the dashboard of a dashd with 20 checks
// and full sparklines in Chromium, empty cache, and weighs what came over
// the wire until the page shows live (its stream sent the full state) and
// a second more: under 40 KB. The stream is gzip, and keeps the page live.
func TestUI_FirstLoadUnder40KB(t *testing.T) {
	target := newFlipServer(t)
	// 20 checks every 10 s, as dashd-bench footprint runs them.
	var checks strings.Builder
	for i := range 20 {
		if i%2 == 0 {
			fmt.Fprintf(&checks, "  - {name: http-%d, type: http, group: edge, url: '%s', interval: 10s, fail_after: 1}\n", i, target.url)
		} else {
			fmt.Fprintf(&checks, "  - {name: tcp-%d, type: tcp, group: core, address: '%s', interval: 10s}\n", i, strings.TrimSuffix(strings.TrimPrefix(target.url, "http://"), "/"))
		}
	}
	// Full sparklines (60 points) within seconds, as on a dashd that has
	// run for five minutes at the default step.
	st := newTestStack(t, stackOptions{checks: checks.String(), broadcast: 200 * time.Millisecond,
		sample: 100 * time.Millisecond, sparkStep: 200 * time.Millisecond, sparkPoints: 60})
	time.Sleep(13 * time.Second)
	ctx := browsertest.New(t, browsertest.WithTimeout(90*time.Second))
	m := meterWire(t, ctx)

	navigate(t, ctx, st.url+"/")
	connected(t, ctx)
	// The first load: everything up to the stream's first state (the page
	// shows live once the whole state arrived).
	rows, total := m.snapshot()
	pollTrue(t, ctx, "the checks up", `document.querySelectorAll('#checks .check.st-up').length === 20`)
	stream := false
	for _, r := range rows {
		t.Logf("%6d wire (%6d + %5d head)  %-6s %s", r.wire(), r.body, r.head, r.encoding, r.url)
		if strings.Contains(r.url, "/api/events") {
			stream = true
			if r.encoding != "gzip" {
				t.Errorf("stream %s: Content-Encoding %q, want gzip", r.url, r.encoding)
			}
		}
	}
	t.Logf("first load: %d bytes on the wire (budget %d)", total, firstLoadBudget)
	if !stream {
		t.Fatal("no stream request seen")
	}
	if total > firstLoadBudget {
		t.Errorf("first load %d bytes on the wire, want at most %d", total, firstLoadBudget)
	}
	time.Sleep(time.Second)
	_, later := m.snapshot()
	t.Logf("a second later: %d bytes (broadcasts at 5/s here, sparkline steps included)", later)

	// Live over the compressed stream: a stat moves without a reload.
	evalString(t, ctx, `(window.__marker = 'same-page', '')`)
	first := evalString(t, ctx, `document.querySelector('#card-cpu .val').textContent + '|' + document.querySelector('#spark-cpu').outerHTML`)
	pollTrue(t, ctx, "a stat to change", fmt.Sprintf(`(document.querySelector('#card-cpu .val').textContent + '|' + document.querySelector('#spark-cpu').outerHTML) !== %q`, first))
	target.code.Store(500)
	pollTrue(t, ctx, "a check down on the dashboard", `!!document.querySelector('#check-http-0.st-down')`) // within 10 s
	if evalString(t, ctx, `window.__marker || ''`) != "same-page" {
		t.Fatal("the page reloaded")
	}
}
