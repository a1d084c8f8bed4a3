package hub

import (
	"bytes"
	"errors"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// ClientOption configures one stream in HandleSSE.
type ClientOption func(*clientConfig)

type clientConfig struct {
	rooms     []string
	session   string
	onConnect []func(send func(events ...Event))
}

// WithRoom puts the stream in a room; repeat it for several rooms.
func WithRoom(name string) ClientOption {
	return func(c *clientConfig) {
		// Cloned: fiber's strings (c.Query, c.Params) point into buffers
		// that are reused once the handler returns.
		if !slices.Contains(c.rooms, name) {
			c.rooms = append(c.rooms, strings.Clone(name))
		}
	}
}

// WithSession ties the stream to a session, for SendToSession. One session
// may have many streams (tabs).
func WithSession(id string) ClientOption {
	return func(c *clientConfig) { c.session = strings.Clone(id) }
}

// OnConnect registers a hook that sends the client its full current state
// before anything else. It runs inside HandleSSE, on the request's goroutine,
// after the stream is registered, so no broadcast that follows it is lost;
// send is valid only until the hook returns. Repeatable; hooks run in order.
//
// The browser client reconnects often (evictions, restarts, network blips),
// and every reconnect resynchronises through this hook.
func OnConnect(fn func(send func(events ...Event))) ClientOption {
	return func(c *clientConfig) { c.onConnect = append(c.onConnect, fn) }
}

// client is one SSE stream. Its fields other than mu-guarded ones are set
// before it is registered and read-only afterwards.
type client struct {
	h       *Hub
	id      uint64 // set by Hub.add under Hub.mu
	rooms   []string
	session string
	remote  string
	queue   chan *frame
	done    chan struct{} // closed by close

	once sync.Once

	mu            sync.Mutex
	closed        bool
	conn          net.Conn // nil until the stream goroutine starts
	initial       []byte   // HTTP header and on-connect state, written first
	initialEvents int
	hookDone      bool
	// attachTimer evicts the client if fasthttp never hands over the
	// connection (the hijack callback does not run when the response cannot
	// be finished), so no ghost stays counted in rooms.
	attachTimer *time.Timer
}

// attachTimeout bounds the gap between registering a stream and its
// connection being handed over; it is normally microseconds.
const attachTimeout = 10 * time.Second

// HandleSSE serves the request as a long-lived Datastar stream: it registers
// the client, runs the OnConnect hooks, and hands the connection to a
// goroutine that writes queued broadcasts until the client goes, is evicted,
// or the hub stops. It returns at once; use it as (or at the end of) a fiber
// handler and do not touch c afterwards.
//
// The connection is taken over from fiber (hijacked) so that a stream costs
// one goroutine and no copies, is not cut by fiber's WriteTimeout, and can end
// abruptly, which the beta.11 client needs to retry. Headers that middleware
// set before HandleSSE (cookies, say) are kept; the response is HTTP/1.1
// chunked text/event-stream. After the hub stopped it answers 503.
func (h *Hub) HandleSSE(c *fiber.Ctx, opts ...ClientOption) error {
	// fiber routes HEAD to GET handlers; a HEAD must not open an endless
	// stream that nobody reads.
	if c.Method() == fiber.MethodHead {
		c.Set(fiber.HeaderAllow, fiber.MethodGet)
		return fiber.NewError(fiber.StatusMethodNotAllowed, "streams answer GET only")
	}
	var cc clientConfig
	for _, o := range opts {
		o(&cc)
	}
	cl := &client{
		h:       h,
		rooms:   cc.rooms,
		session: cc.session,
		remote:  c.Context().RemoteAddr().String(),
		queue:   make(chan *frame, h.cfg.queueSize),
		done:    make(chan struct{}),
		initial: streamHeader(&c.Response().Header),
	}
	if !h.add(cl) {
		return fiber.NewError(fiber.StatusServiceUnavailable, "hub: shutting down")
	}
	h.connects.Add(1)
	h.log.Debug("hub: client connected", "client", cl.id, "remote", cl.remote, "rooms", cl.rooms, "session", cl.session)

	ok := false
	defer func() {
		if !ok { // a hook panicked: do not leave a client nobody serves
			h.remove(cl)
			cl.close()
		}
	}()
	send := func(events ...Event) {
		b, n, err := encodeEvents(nil, events)
		if err != nil {
			h.encodeErrors.Add(1)
			h.log.Error("hub: on-connect events not sent", "client", cl.id, "err", err)
		}
		cl.mu.Lock()
		defer cl.mu.Unlock()
		if cl.hookDone {
			h.log.Error("hub: OnConnect send called after the hook returned; events dropped", "client", cl.id)
			return
		}
		cl.initial = append(cl.initial, chunk(b)...)
		cl.initialEvents += n
	}
	for _, fn := range cc.onConnect {
		fn(send)
	}
	cl.mu.Lock()
	cl.hookDone = true
	cl.mu.Unlock()

	cl.mu.Lock()
	cl.attachTimer = time.AfterFunc(attachTimeout, func() {
		cl.mu.Lock()
		attached := cl.conn != nil
		cl.mu.Unlock()
		if !attached {
			if h.remove(cl) {
				h.log.Warn("hub: stream never started; client dropped", "client", cl.id, "remote", cl.remote)
			}
			cl.close()
		}
	})
	cl.mu.Unlock()
	fctx := c.Context()
	fctx.HijackSetNoResponse(true)
	fctx.Hijack(func(conn net.Conn) { h.serve(cl, conn) })
	ok = true
	return nil
}

// serve runs on the goroutine fasthttp starts for the hijacked connection;
// fasthttp closes the connection when it returns.
func (h *Hub) serve(c *client, conn net.Conn) {
	h.mu.Lock()
	if h.stopped {
		h.mu.Unlock()
		c.close()
		return
	}
	// Added under the lock that shutdown takes before Wait: no Add after Wait.
	h.wg.Add(1)
	h.mu.Unlock()
	defer h.wg.Done()

	// Write to the TCP connection itself: net.Buffers then becomes one
	// writev per batch, with no copy of the shared frame bytes.
	if u, ok := conn.(interface{ UnsafeConn() net.Conn }); ok {
		conn = u.UnsafeConn()
	}
	reason := h.stream(c, conn)
	if h.remove(c) {
		h.log.Debug("hub: client gone", "client", c.id, "remote", c.remote, "reason", reason)
	}
	c.close()
}

// stream writes until the client ends; it returns why it ended.
func (h *Hub) stream(c *client, conn net.Conn) string {
	if !c.attach(conn) {
		return "closed before start"
	}
	c.mu.Lock()
	first, firstEvents := c.initial, c.initialEvents
	c.initial = nil
	c.mu.Unlock()

	var last, deadline time.Time
	write := func(bufs [][]byte, events int) error {
		now := time.Now()
		// Refresh the deadline only when half of it is used up: a timer reset
		// per write is measurable at 10,000 clients. A blocked write thus
		// fails after between half and all of writeTimeout.
		if deadline.Sub(now) < h.cfg.writeTimeout/2 {
			deadline = now.Add(h.cfg.writeTimeout)
			if err := conn.SetWriteDeadline(deadline); err != nil {
				return err
			}
		}
		var n int64
		var err error
		if len(bufs) == 1 {
			var n1 int
			n1, err = conn.Write(bufs[0])
			n = int64(n1)
		} else {
			nb := net.Buffers(bufs)
			n, err = nb.WriteTo(conn)
		}
		h.bytesWritten.Add(uint64(n))
		if err != nil {
			return err
		}
		h.eventsSent.Add(uint64(events))
		last = now
		return nil
	}
	if err := write([][]byte{first}, firstEvents); err != nil {
		return h.writeFailed(c, err)
	}

	batch := make([][]byte, 0, 8)
	for {
		var f *frame
		select {
		case <-c.done:
			return "closed"
		case <-h.stop:
			return "hub stopped"
		case f = <-c.queue:
		}
		// Take whatever else is queued too: one writev for a backlog.
		batch = batch[:0]
		events := 0
		idle := time.Since(last) >= h.cfg.heartbeat/2
		for f != nil {
			if !f.ping || idle { // a heartbeat only matters on an idle stream
				batch = append(batch, f.b)
				events += f.events
			}
			f = nil
			if len(batch) < 64 {
				select {
				case f = <-c.queue:
				default:
				}
			}
		}
		if len(batch) == 0 {
			continue
		}
		if err := write(batch, events); err != nil {
			return h.writeFailed(c, err)
		}
	}
}

// writeFailed tells a client that stopped reading (timeout: evicted) from one
// that went away.
func (h *Hub) writeFailed(c *client, err error) string {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		h.evict(c, "write timeout") // no-op when close() set the deadline
		return "write timeout"
	}
	return "write: " + err.Error()
}

// attach records the connection so that close can interrupt a blocked write.
func (c *client) attach(conn net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attachTimer != nil {
		c.attachTimer.Stop()
	}
	if c.closed {
		return false
	}
	c.conn = conn
	return true
}

// close ends the stream; it is idempotent and safe from any goroutine.
func (c *client) close() {
	c.once.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.closed = true
		if c.attachTimer != nil {
			c.attachTimer.Stop()
		}
		if c.conn != nil {
			// Interrupts a Write blocked on a full socket buffer.
			_ = c.conn.SetWriteDeadline(time.Unix(1, 0))
		}
		c.mu.Unlock()
		c.h.disconnects.Add(1)
	})
}

// streamHeader builds the HTTP response head of a stream, keeping headers
// that middleware already set.
func streamHeader(rh *fasthttp.ResponseHeader) []byte {
	b := make([]byte, 0, 256)
	b = append(b, "HTTP/1.1 200 OK\r\n"...)
	rh.VisitAll(func(k, v []byte) {
		for _, skip := range [...]string{"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Cache-Control"} {
			if bytes.EqualFold(k, []byte(skip)) {
				return
			}
		}
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	})
	// Connection: close because the stream only ends by closing it;
	// X-Accel-Buffering stops nginx from holding events back.
	return append(b, "Content-Type: text/event-stream\r\n"+
		"Cache-Control: no-cache\r\n"+
		"X-Accel-Buffering: no\r\n"+
		"Transfer-Encoding: chunked\r\n"+
		"Connection: close\r\n\r\n"...)
}
