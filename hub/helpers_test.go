package hub

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/recover"
)

// testTimeout bounds every wait in these tests; generous because the
// machine is shared and noisy. Nothing asserts speed.
const testTimeout = 15 * time.Second

// env is a hub served by fiber on a real loopback listener.
type env struct {
	hub     *Hub
	app     *fiber.App
	base    string // http://127.0.0.1:port
	cancel  context.CancelFunc
	runDone chan error
	client  *http.Client

	stopOnce sync.Once
}

// newEnv starts a hub and a fiber app with GET /events and whatever routes
// adds. Cleanup stops the hub, then the app.
//
// /events takes: room (repeated), session, state (OnConnect sends it),
// bigstate (OnConnect sends that many bytes), randstate (that many bytes
// that do not compress), addr
// (WithAddress: a label for the per-address cap; no traffic goes to it) and
// panic (an OnConnect hook that panics; the recover middleware answers 500).
func newEnv(t *testing.T, opts []Option, routes func(app *fiber.App, h *Hub)) *env {
	t.Helper()
	return newEnvWrapped(t, opts, routes, nil)
}

// newEnvWrapped is newEnv with the listener wrapped by wrap (nil: not
// wrapped), as the daemon wraps its own.
func newEnvWrapped(t *testing.T, opts []Option, routes func(app *fiber.App, h *Hub), wrap func(net.Listener) net.Listener) *env {
	t.Helper()
	h := New(opts...)
	app := fiber.New(fiber.Config{DisableStartupMessage: true})
	app.Use(recover.New())
	app.Get("/events", func(c *fiber.Ctx) error {
		var copts []ClientOption
		for _, r := range c.Context().QueryArgs().PeekMulti("room") {
			copts = append(copts, WithRoom(string(r)))
		}
		if s := c.Query("session"); s != "" {
			copts = append(copts, WithSession(s))
		}
		if a := c.Query("addr"); a != "" {
			copts = append(copts, WithAddress(a))
		}
		if st := c.Query("state"); st != "" {
			copts = append(copts, OnConnect(func(send func(...Event)) {
				send(PatchElements(`<div id="state">` + st + `</div>`))
			}))
		}
		if n := c.QueryInt("bigstate"); n > 0 { // a full state of n bytes, as a page's is
			copts = append(copts, OnConnect(func(send func(...Event)) {
				send(PatchElements(`<div id="state">` + strings.Repeat("s", n) + `</div>`))
			}))
		}
		if n := c.QueryInt("randstate"); n > 0 { // n bytes that do not compress (random hex: ~2x)
			b := make([]byte, n/2)
			_, _ = rand.Read(b)
			copts = append(copts, OnConnect(func(send func(...Event)) {
				send(PatchElements(`<div id="state">` + hex.EncodeToString(b) + `</div>`))
			}))
		}
		if c.Query("panic") != "" {
			copts = append(copts, OnConnect(func(func(...Event)) { panic("test: hook panics") }))
		}
		return h.HandleSSE(c, copts...)
	})
	if routes != nil {
		routes(app, h)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if wrap != nil {
		ln = wrap(ln)
	}
	serveDone := make(chan struct{})
	go func() {
		defer close(serveDone)
		_ = app.Listener(ln)
	}()
	ctx, cancel := context.WithCancel(context.Background())
	e := &env{
		hub: h, app: app, base: "http://" + ln.Addr().String(), cancel: cancel,
		runDone: make(chan error, 1),
		client:  &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	go func() { e.runDone <- h.Run(ctx) }()
	t.Cleanup(func() {
		e.stopHub(t)
		if err := app.ShutdownWithTimeout(testTimeout); err != nil {
			t.Errorf("app shutdown: %v", err)
		}
		<-serveDone
		e.client.CloseIdleConnections()
	})
	return e
}

// stopHub cancels Run and waits for it; safe to call twice.
func (e *env) stopHub(t *testing.T) {
	t.Helper()
	e.cancel()
	e.stopOnce.Do(func() {
		select {
		case err := <-e.runDone:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Run did not return after its context ended")
		}
	})
}

// sseEvent is one parsed Server-Sent Event; comments come as name ":".
type sseEvent struct {
	name string
	data []string
}

func (ev sseEvent) String() string { return ev.name + " " + strings.Join(ev.data, " | ") }

// stream is a real HTTP client reading one SSE response.
type stream struct {
	resp   *http.Response
	events chan sseEvent
	err    chan error // the read error that ended the stream
}

// open connects to /events with the query and waits for the response head,
// after which the hub has registered the client.
func (e *env) open(t *testing.T, query string) *stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	req, err := http.NewRequest(http.MethodGet, e.base+"/events?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Datastar-Request", "true")
	type result struct {
		resp *http.Response
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := e.client.Do(req)
		got <- result{resp, err}
	}()
	var r result
	select {
	case r = <-got:
	case <-ctx.Done():
		t.Fatal("no response head")
	}
	if r.err != nil {
		t.Fatalf("GET /events?%s: %v", query, r.err)
	}
	if r.resp.StatusCode != http.StatusOK || r.resp.Header.Get("Content-Type") != "text/event-stream" {
		r.resp.Body.Close()
		t.Fatalf("GET /events: status %d, content-type %q", r.resp.StatusCode, r.resp.Header.Get("Content-Type"))
	}
	s := &stream{resp: r.resp, events: make(chan sseEvent, 1024), err: make(chan error, 1)}
	go s.read()
	t.Cleanup(s.close)
	return s
}

func (s *stream) read() {
	defer close(s.events)
	br := bufio.NewReader(s.resp.Body)
	var ev sseEvent
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			s.err <- err
			return
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if ev.name != "" {
				s.events <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, ":"):
			ev.name = ":"
			ev.data = append(ev.data, strings.TrimSpace(line[1:]))
		case strings.HasPrefix(line, "event: "):
			ev.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			ev.data = append(ev.data, line[len("data: "):])
		}
	}
}

func (s *stream) close() { s.resp.Body.Close() }

// next returns the next event that is not a heartbeat.
func (s *stream) next(t *testing.T) sseEvent {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatalf("stream ended: %v", <-s.err)
			}
			if ev.name == ":" {
				continue
			}
			return ev
		case <-timeout:
			t.Fatal("no event within the timeout")
		}
	}
}

// expectFragment reads the next event and checks it carries html.
func (s *stream) expectFragment(t *testing.T, html string) {
	t.Helper()
	ev := s.next(t)
	want := sseEvent{name: "datastar-merge-fragments", data: []string{"fragments " + html}}
	if ev.String() != want.String() {
		t.Fatalf("got event %q, want %q", ev, want)
	}
}

// ended waits for the stream to end and returns the read error.
func (s *stream) ended(t *testing.T) error {
	t.Helper()
	timeout := time.After(testTimeout)
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return <-s.err
			}
		case <-timeout:
			t.Fatal("stream did not end")
		}
	}
}

// eventually polls cond until it holds or the test timeout passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func frag(id, text string) string { return fmt.Sprintf(`<div id="%s">%s</div>`, id, text) }

func q(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

// logBuffer collects a logger's output for tests that check what was logged.
type logBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logger returns a debug-level logger writing into b.
func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// stuckClient opens a stream over a raw TCP connection, reads the response
// head and then nothing more, like a client that stopped reading. The
// socket keeps the kernel's default buffers: it is the server's side that
// must bound what a stuck client costs.
func (e *env) stuckClient(t *testing.T, query string) net.Conn {
	t.Helper()
	return e.rawClient(t, query, 0)
}

// rawClient is stuckClient with the socket's receive buffer set to rcvbuf
// bytes (0: the kernel's default).
func (e *env) rawClient(t *testing.T, query string, rcvbuf int) net.Conn {
	t.Helper()
	conn, _ := e.rawClientHead(t, query, rcvbuf)
	return conn
}

// rawClientHead is rawClient that also returns the response head it read.
func (e *env) rawClientHead(t *testing.T, query string, rcvbuf int) (net.Conn, []byte) {
	t.Helper()
	return e.rawClientWith(t, query, rcvbuf, "")
}

// rawClientWith is rawClientHead with extra request header lines (each
// ending in \r\n), such as an Accept-Encoding.
func (e *env) rawClientWith(t *testing.T, query string, rcvbuf int, header string) (net.Conn, []byte) {
	t.Helper()
	d := net.Dialer{Timeout: testTimeout}
	if rcvbuf > 0 {
		d.Control = func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
			})
			return errors.Join(err, serr)
		}
	}
	conn, err := d.Dial("tcp", e.base[len("http://"):])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(testTimeout)); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprintf(conn, "GET /events?%s HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n%s\r\n", query, header); err != nil {
		t.Fatal(err)
	}
	// Read byte by byte up to the end of the head, so that nothing of the
	// stream is taken out of the socket.
	var head []byte
	b := make([]byte, 1)
	for !strings.HasSuffix(string(head), "\r\n\r\n") {
		if _, err := conn.Read(b); err != nil {
			t.Fatalf("stuck client: reading the head after %q: %v", head, err)
		}
		head = append(head, b[0])
	}
	if !strings.HasPrefix(string(head), "HTTP/1.1 200 ") {
		t.Fatalf("stuck client: head %q, want 200", head)
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	return conn, head
}
