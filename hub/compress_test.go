package hub

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"", false},
		{"identity", false},
		{"gzip", true},
		{"GZIP", true},
		{"x-gzip", true},
		{"gzip, deflate, br, zstd", true}, // Chromium's
		{"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
		{"deflate, br", false},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=0.001", true},
		{"*", true},
		{"*;q=0", false},
		{"*, gzip;q=0", false}, // named beats the wildcard
		{"gzip;q=0, *", false},
		{"gzipx", false},
		{";;;,,,", false},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := acceptsGzip(tt.header); got != tt.want {
				t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

// TestFrame_CompressedOnceOnDemand: a broadcast is compressed only when a
// gzip stream needs it, once however many need it (concurrently too), and
// its compressed bytes inflate to the plain payload.
func TestFrame_CompressedOnceOnDemand(t *testing.T) {
	f := newFrame([]byte("event: datastar-merge-fragments\ndata: fragments <div id=\"a\">1</div>\n\n"), 1, false)
	if got := f.wire(false); got != f {
		t.Fatal("a plain stream must get the frame itself")
	}
	if f.gz != nil {
		t.Fatal("compressed although no gzip stream asked")
	}
	var wg sync.WaitGroup
	twins := make([]*frame, 8)
	for i := range twins {
		wg.Go(func() { twins[i] = f.wire(true) })
	}
	wg.Wait()
	for _, tw := range twins {
		if tw != twins[0] || tw == f {
			t.Fatal("gzip streams must share one compressed twin")
		}
	}
	if twins[0].events != 1 || twins[0].ping {
		t.Errorf("twin counts %d events, ping %v; want the frame's", twins[0].events, twins[0].ping)
	}
	payload := unchunk(t, twins[0].b)
	z := append(gzipHeader[:], payload...)
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(zr)
	if err != io.ErrUnexpectedEOF { // no trailer: a stream never ends cleanly
		t.Fatalf("inflating: %v, want only the missing trailer", err)
	}
	if string(got) != string(f.payload) {
		t.Errorf("inflated %q, want %q", got, f.payload)
	}
	// The rest of a partly written frame has no payload: it is written as is.
	rest := &frame{b: f.b[3:], events: 1}
	if rest.wire(true) != rest {
		t.Error("a frame's rest must be written as it is")
	}
}

// unchunk returns the payload of one HTTP chunk.
func unchunk(t *testing.T, b []byte) []byte {
	t.Helper()
	i := bytes.Index(b, []byte("\r\n"))
	if i < 0 || !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatalf("not a chunk: %q", b)
	}
	return b[i+2 : len(b)-2]
}

// TestHub_StreamEncoding: what a stream is sent depends on the request's
// Accept-Encoding and the hub's option; either way the events arrive whole
// and the response says what it is.
func TestHub_StreamEncoding(t *testing.T) {
	tests := []struct {
		name           string
		acceptEncoding string // "-": no header
		compression    bool
		wantGzip       bool
	}{
		{"no Accept-Encoding", "-", true, false},
		{"identity", "identity", true, false},
		{"gzip refused with q=0", "gzip;q=0, br", true, false},
		{"Chromium", "gzip, deflate, br, zstd", true, true},
		{"wildcard", "*", true, true},
		{"compression off", "gzip, deflate, br, zstd", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, []Option{WithCompression(tt.compression)}, nil)
			s := e.openEncoded(t, q("room", "r", "state", "hello"), tt.acceptEncoding)
			if got := s.resp.Header.Get("Content-Encoding"); (got == "gzip") != tt.wantGzip || (got != "" && got != "gzip") {
				t.Errorf("Content-Encoding %q, want gzip: %v", got, tt.wantGzip)
			}
			if got, want := s.resp.Header.Get("Vary"), "Accept-Encoding"; tt.compression && got != want {
				t.Errorf("Vary %q, want %q", got, want)
			}
			s.expectFragment(t, frag("state", "hello"))
			e.hub.BroadcastToRoom("r", PatchElements(frag("a", "1")))
			s.expectFragment(t, frag("a", "1"))
		})
	}
}

// TestHub_GzipStreamFlushesEachBroadcast: each broadcast (and heartbeat)
// reaches a gzip client whole, inflated, before the next one is sent: the
// compressed bytes are flushed per broadcast, not held for more. Plain and
// gzip clients of one room get the same events.
func TestHub_GzipStreamFlushesEachBroadcast(t *testing.T) {
	e := newEnv(t, []Option{WithHeartbeat(200 * time.Millisecond)}, nil)
	gz := e.openEncoded(t, q("room", "r", "state", "s"), "gzip")
	plain := e.openEncoded(t, q("room", "r", "state", "s"), "-")
	if gz.resp.Header.Get("Content-Encoding") != "gzip" || plain.resp.Header.Get("Content-Encoding") != "" {
		t.Fatalf("encodings %q and %q, want gzip and none",
			gz.resp.Header.Get("Content-Encoding"), plain.resp.Header.Get("Content-Encoding"))
	}
	for _, s := range []*stream{gz, plain} {
		s.expectFragment(t, frag("state", "s"))
	}
	for i := range 5 {
		html := frag("a", strings.Repeat("x", i*100)) // several sizes
		e.hub.BroadcastToRoom("r", PatchElements(html))
		// Nothing else is sent until both have it.
		for _, s := range []*stream{gz, plain} {
			s.expectFragment(t, html)
		}
	}
	// Heartbeats on an idle stream arrive too, compressed.
	timeout := time.After(testTimeout)
	for {
		select {
		case ev := <-gz.events:
			if ev.name != ":" || len(ev.data) != 1 || ev.data[0] != "ping" {
				t.Fatalf("got %q, want a heartbeat", ev)
			}
			return
		case <-timeout:
			t.Fatal("no heartbeat on the idle gzip stream")
		}
	}
}

// TestHub_GzipStuckReaderEvicted: eviction works on compressed streams as
// on plain ones: a client that stops reading is evicted for not reading,
// one whose queue overflows for a full queue.
func TestHub_GzipStuckReaderEvicted(t *testing.T) {
	tests := []struct {
		name    string
		opts    []Option
		traffic time.Duration // a broadcast of ~1 KB this often
		reason  func(Stats) bool
	}{
		// Dashboard traffic: the send buffer is far from full when the
		// progress check finds the peer stuck.
		{"not reading", []Option{WithWriteTimeout(2 * time.Second)}, 250 * time.Millisecond,
			func(s Stats) bool { return s.NotReading == 1 }},
		// A flood, and a write timeout far beyond the test: only the
		// queue can evict.
		{"queue full", []Option{WithWriteTimeout(time.Hour), WithQueueBytes(8 << 10)}, 5 * time.Millisecond,
			func(s Stats) bool { return s.NotReading == 0 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs logBuffer
			e := newEnv(t, append(tt.opts, WithLogger(logs.logger())), nil)
			reader := e.openEncoded(t, q("room", "r"), "gzip")
			go func() {
				for range reader.events {
				}
			}()
			// The state does not compress: ~18 KB on the wire, more than the
			// stuck client's receive buffer.
			_, head := e.rawClientWith(t, q("room", "r", "randstate", "36000"), 2048, "Accept-Encoding: gzip\r\n")
			if !strings.Contains(string(head), "Content-Encoding: gzip\r\n") {
				t.Fatalf("stuck client's head %q, want gzip", head)
			}
			eventually(t, "stuck client attached", func() bool { return e.hub.ClientCount() == 2 })
			stop := make(chan struct{})
			var wg sync.WaitGroup
			wg.Go(func() { incompressibleTraffic(e.hub, tt.traffic, stop) })
			defer func() { close(stop); wg.Wait() }()

			eventually(t, "stuck client evicted", func() bool { return e.hub.Stats().Evictions == 1 })
			if st := e.hub.Stats(); !tt.reason(st) || st.Clients != 1 {
				t.Errorf("Stats() = %+v, want one eviction for %s and the reader still there", st, tt.name)
			}
			// The eviction is counted before it is logged.
			eventually(t, "eviction logged as "+tt.name, func() bool {
				return strings.Contains(logs.String(), `reason="`+tt.name+`"`)
			})
		})
	}
}

// incompressibleTraffic broadcasts ~1 KB that compresses little to room "r"
// every interval until stop closes.
func incompressibleTraffic(h *Hub, interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	x := uint64(88172645463325252)
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			var sb strings.Builder
			for range 64 { // xorshift: cheap bytes a compressor cannot shrink much
				x ^= x << 13
				x ^= x >> 7
				x ^= x << 17
				sb.WriteString(hexWord(x))
			}
			h.BroadcastToRoom("r", PatchElements(frag("a", sb.String())))
		}
	}
}

func hexWord(x uint64) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 16)
	for i := range b {
		b[i] = digits[x>>(60-4*i)&0xf]
	}
	return string(b)
}

// openEncoded is open with an Accept-Encoding of the test's choosing ("-":
// none) and the gzip body inflated by the test itself (the transport's
// transparent gzip is off), as it arrives.
func (e *env) openEncoded(t *testing.T, query, acceptEncoding string) *stream {
	t.Helper()
	return e.openURL(t, "/events?"+query, acceptEncoding)
}

// openPath opens a stream at path (with its query) as a browser would:
// gzip accepted.
func (e *env) openPath(t *testing.T, path string) *stream {
	t.Helper()
	return e.openURL(t, path, "gzip")
}

func (e *env) openURL(t *testing.T, path, acceptEncoding string) *stream {
	t.Helper()
	query := path
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, e.base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Datastar-Request", "true")
	if acceptEncoding != "-" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true, DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	type result struct {
		resp *http.Response
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := client.Do(req)
		got <- result{resp, err}
	}()
	var r result
	select {
	case r = <-got:
	case <-ctx.Done():
		t.Fatal("no response head")
	}
	if r.err != nil {
		t.Fatalf("GET %s: %v", query, r.err)
	}
	if r.resp.StatusCode != http.StatusOK {
		r.resp.Body.Close()
		t.Fatalf("GET %s: status %d", query, r.resp.StatusCode)
	}
	if r.resp.Header.Get("Content-Encoding") == "gzip" {
		raw := r.resp.Body
		zr, err := gzip.NewReader(raw) // reads the gzip header, sent with the state
		if err != nil {
			raw.Close()
			t.Fatalf("gzip stream: %v", err)
		}
		r.resp.Body = struct {
			io.Reader
			io.Closer
		}{zr, raw}
	}
	s := &stream{resp: r.resp, events: make(chan sseEvent, 1024), err: make(chan error, 1)}
	go s.read()
	t.Cleanup(s.close)
	return s
}
