package main

// The browser of `dashd-bench fleet`: it loads the fleet overview (GET /)
// as a browser does, takes the stream URL from the page's data-on-load,
// and reads that Datastar stream with a browser's headers (Accept-Encoding
// included: the hub sends it gzip), noting when each host's tile changes.
// Like the Datastar client it reconnects when the stream ends.

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// browserAcceptEncoding is what Chromium sends.
const browserAcceptEncoding = "gzip, deflate, br, zstd"

// maxOverviewEvent bounds one event of the overview stream (the whole grid
// of 10,000 hosts is a few MB).
const maxOverviewEvent = 64 << 20

// tileObs is one change of one host's tile as the stream showed it.
type tileObs struct {
	at          time.Time
	code        int // seqOfTile of its figures, -1 for none
	checksDown  bool
	unreachable bool
}

// overviewReader is one browser tab on the fleet overview.
type overviewReader struct {
	base   string // http://127.0.0.1:port
	client *http.Client

	wire, plain         atomic.Uint64 // stream bytes as received (gzip) and decoded
	grids, tiles, other atomic.Uint64 // merge-fragments events: whole grid, one tile; other events
	reconnects          atomic.Uint64
	encoding            atomic.Value // the stream's Content-Encoding

	mu   sync.Mutex
	obs  map[string][]tileObs // by host, in time order: changes only
	last map[string]tileFigures
	err  error // the last connection error
}

func newOverviewReader(base string) (*overviewReader, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	// DisableCompression: the reader asks for gzip itself, as a browser
	// does, and decodes it.
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 2}
	return &overviewReader{base: base, client: &http.Client{Jar: jar, Transport: tr},
		obs: map[string][]tileObs{}, last: map[string]tileFigures{}}, nil
}

// streamOnLoad finds the stream a page opens: @get('URL', ...) in the
// data-on-load of its #stream element.
var streamOnLoad = regexp.MustCompile(`id="stream"[^>]*data-on-load="@get\(&#39;(.*?)&#39;`)

// streamURLOf returns the stream a page opens, with the signals a
// browser's Datastar client sends on GET (its non-underscore signals; the
// overview has only unreadCount).
func streamURLOf(page string) (string, error) {
	m := streamOnLoad.FindStringSubmatch(page)
	if m == nil {
		return "", errors.New("no #stream element with data-on-load=@get('...') in the page")
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		return "", fmt.Errorf("stream URL %q: %w", m[1], err)
	}
	q := u.Query()
	q.Set("datastar", `{"unreadCount":0}`)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// get sends a browser's GET and returns the response, its body decoded.
func (o *overviewReader) get(ctx context.Context, path string, stream bool) (*http.Response, io.Reader, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, o.base+path, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) dashd-bench")
	req.Header.Set("Accept-Encoding", browserAcceptEncoding)
	if stream {
		req.Header.Set("Accept", "text/event-stream")
		req.Header.Set("Datastar-Request", "true")
		req.Header.Set("Cache-Control", "no-cache")
	} else {
		req.Header.Set("Accept", "text/html,application/xhtml+xml")
	}
	resp, err := o.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, nil, fmt.Errorf("GET %s: %s %s", path, resp.Status, strings.TrimSpace(string(b)))
	}
	var body io.Reader = resp.Body
	if stream {
		body = countingReader{r: body, n: &o.wire}
	}
	switch enc := resp.Header.Get("Content-Encoding"); enc {
	case "":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			resp.Body.Close()
			return nil, nil, fmt.Errorf("GET %s: gzip: %w", path, err)
		}
		body = zr
	default:
		resp.Body.Close()
		return nil, nil, fmt.Errorf("GET %s: Content-Encoding %q, which this reader cannot decode", path, enc)
	}
	if stream {
		o.encoding.Store(resp.Header.Get("Content-Encoding"))
	}
	return resp, body, nil
}

// run loads the overview, then reads its stream until ctx ends,
// reconnecting after a second when it drops. ready (buffered) gets nil
// once the first stream's response head arrived, or why run gave up.
func (o *overviewReader) run(ctx context.Context, ready chan<- error) {
	// / is the overview once an agent said hello: try for 30 s.
	stream, err := o.load(ctx)
	for deadline := time.Now().Add(30 * time.Second); err != nil && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			ready <- ctx.Err()
			return
		case <-time.After(500 * time.Millisecond):
		}
		stream, err = o.load(ctx)
	}
	if err != nil {
		ready <- err
		return
	}
	first := true
	for ctx.Err() == nil {
		err := o.stream(ctx, stream, func() {
			if first {
				first = false
				ready <- nil
			}
		})
		if ctx.Err() != nil {
			return
		}
		o.mu.Lock()
		o.err = err
		o.mu.Unlock()
		if first {
			ready <- err
			return
		}
		o.reconnects.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

// load fetches / and returns the stream it opens; it must be the fleet
// overview.
func (o *overviewReader) load(ctx context.Context) (string, error) {
	resp, body, err := o.get(ctx, "/", false)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	page, err := io.ReadAll(io.LimitReader(body, 64<<20))
	if err != nil {
		return "", fmt.Errorf("GET /: %w", err)
	}
	if !strings.Contains(string(page), `data-host="`) {
		return "", errors.New("GET /: not the fleet overview (no host tile)")
	}
	return streamURLOf(string(page))
}

// stream reads one connection of the stream until it ends.
func (o *overviewReader) stream(ctx context.Context, path string, opened func()) error {
	resp, body, err := o.get(ctx, path, true)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	opened()
	err = readSSE(countingReader{r: body, n: &o.plain}, maxOverviewEvent, func(ev sseEvent) error {
		frag, ok := fragmentsOf(ev)
		if !ok {
			o.other.Add(1)
			return nil
		}
		at := time.Now()
		if strings.Contains(frag, `id="fleet-grid"`) {
			o.grids.Add(1)
		} else {
			o.tiles.Add(1)
		}
		o.note(parseTiles(frag), at)
		return nil
	})
	if err == nil {
		err = io.ErrUnexpectedEOF // a stream has no end
	}
	return err
}

// note records the tiles whose figures changed.
func (o *overviewReader) note(tiles []tileFigures, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range tiles {
		if prev, ok := o.last[t.host]; ok && prev == t {
			continue
		}
		o.last[t.host] = t
		code, ok := seqOfTile(t.cpu, t.mem)
		if !ok {
			code = -1
		}
		o.obs[t.host] = append(o.obs[t.host], tileObs{at: at, code: code, checksDown: t.checksDown, unreachable: t.unreachable})
	}
}

// seen returns host's figure changes as tileSeen, in time order.
func (o *overviewReader) seen(host string) []tileSeen {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []tileSeen
	for _, ob := range o.obs[host] {
		if ob.code >= 0 {
			out = append(out, tileSeen{code: ob.code, at: ob.at})
		}
	}
	return out
}

// firstAfter is when the stream first showed host's tile with cond at or
// after t0.
func (o *overviewReader) firstAfter(host string, t0 time.Time, cond func(tileObs) bool) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ob := range o.obs[host] {
		if !ob.at.Before(t0) && cond(ob) {
			return ob.at, true
		}
	}
	return time.Time{}, false
}

// lastErr is the last connection error (nil while none).
func (o *overviewReader) lastErr() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// overviewWindow is what the overview stream carried over the window.
type overviewWindow struct {
	wire, plain  uint64 // bytes as received (gzip) and decoded
	grids, tiles uint64 // whole-grid and single-tile events
	reconnects   uint64
	encoding     string
}

// counters reads the stream's totals so far.
func (o *overviewReader) counters() overviewWindow {
	enc, _ := o.encoding.Load().(string)
	return overviewWindow{wire: o.wire.Load(), plain: o.plain.Load(), grids: o.grids.Load(), tiles: o.tiles.Load(),
		reconnects: o.reconnects.Load(), encoding: enc}
}

// since is what the stream carried between w0 and w.
func (w overviewWindow) since(w0 overviewWindow) overviewWindow {
	return overviewWindow{wire: w.wire - w0.wire, plain: w.plain - w0.plain, grids: w.grids - w0.grids,
		tiles: w.tiles - w0.tiles, reconnects: w.reconnects - w0.reconnects, encoding: w.encoding}
}

// countingReader adds what it reads to n.
type countingReader struct {
	r io.Reader
	n *atomic.Uint64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(uint64(n))
	return n, err
}
