package hub

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// ClientOption configures one stream in HandleSSE.
type ClientOption func(*clientConfig)

type clientConfig struct {
	rooms     []string
	session   string
	address   string
	rendered  string // WithRendered's token
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

// WithAddress names the client's address for the per-address stream cap
// (WithMaxStreamsPerAddress): the client behind a trusted reverse proxy, say,
// which the daemon reads from the proxy's forwarding header. Pass a parsed
// IP; an IP is counted in one spelling (IPv4-mapped IPv6 as IPv4), anything
// else as given. The default, and what "" keeps, is the TCP peer's IP
// without the port.
func WithAddress(addr string) ClientOption {
	return func(c *clientConfig) { c.address = normalizeAddress(addr) }
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
	remote  string        // TCP peer, ip:port, for logs
	addr    string        // address for the per-address cap; "" is not capped
	gzip    bool          // the stream is gzip: it gets compressed frames (see compress.go)
	wake    chan struct{} // capacity 1: something was queued
	done    chan struct{} // closed by close

	once sync.Once

	mu            sync.Mutex
	q             []*frame // see queue.go
	queued        int64    // bytes queued or being written; see queue.go
	closed        bool
	conn          net.Conn   // nil until the stream goroutine starts
	direct        bool       // broadcasts may write the socket themselves (through raw); see direct.go
	raw           *rawWriter // set with direct
	busy          bool       // someone holds the socket: the stream goroutine or a direct writer
	initial       []byte     // HTTP header and on-connect state, written first
	initialBody   []byte     // on-connect state of a gzip stream, compressed when the hooks are done
	initialEvents int
	hookDone      bool

	// Owned by whoever holds the socket (busy), not by mu.
	prog      progress  // is the peer taking what it is sent? see progress.go
	lastWrite time.Time // the last write that took bytes
	// attachTimer evicts the client if fasthttp never hands over the
	// connection (the hijack callback does not run when the response cannot
	// be finished), so no ghost stays counted in rooms.
	attachTimer *time.Timer
}

// HandleSSE serves the request as a long-lived Datastar stream: it registers
// the client, runs the OnConnect hooks, and hands the connection to a
// goroutine that writes queued broadcasts until the client goes, is evicted,
// or the hub stops. It returns at once; use it as (or at the end of) a fiber
// handler and do not touch c afterwards.
//
// Beyond a stream cap (WithMaxStreams, WithMaxStreamsPerAddress), and after
// the hub stopped, it answers 503 with Retry-After and a plain message
// saying why, itself, and returns nil.
//
// The connection is taken over from fiber (hijacked) so that a stream costs
// one goroutine and no copies, is not cut by fiber's WriteTimeout, and can end
// abruptly, which the beta.11 client needs to retry. Headers that middleware
// set before HandleSSE (cookies, say) are kept; the response is HTTP/1.1
// chunked text/event-stream, gzip when the request accepts it and
// compression is on (see compress.go).
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
	if cc.address == "" {
		cc.address = peerAddress(c)
	}
	gz := h.cfg.compress && acceptsGzip(c.Get(fiber.HeaderAcceptEncoding))
	cl := &client{
		h:       h,
		rooms:   cc.rooms,
		session: cc.session,
		remote:  c.Context().RemoteAddr().String(),
		addr:    cc.address,
		gzip:    gz,
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
		initial: streamHeader(&c.Response().Header, h.cfg.compress, gz),
	}
	if r := h.add(cl); r != admitted {
		return h.refuse(c, r, cl.addr)
	}
	h.log.Debug("hub: client connected", "client", cl.id, "remote", cl.remote, "address", cl.addr,
		"rooms", cl.rooms, "session", cl.session)

	ok := false
	defer func() {
		if !ok { // a hook panicked: do not leave a client nobody serves
			h.remove(cl)
			cl.close()
		}
	}()
	have := h.remembered.take(cc.rendered)
	send := func(events ...Event) {
		events = h.remembered.without(events, have)
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
		if cl.gzip {
			cl.initialBody = append(cl.initialBody, b...)
		} else {
			cl.initial = append(cl.initial, chunk(b)...)
		}
		cl.initialEvents += n
	}
	for _, fn := range cc.onConnect {
		fn(send)
	}
	cl.mu.Lock()
	cl.hookDone = true
	if cl.gzip {
		// The gzip header opens the body whatever follows; the state is
		// compressed as one piece (the best ratio), on its own like every
		// broadcast, so the frames queued meanwhile follow it as they are.
		z := append(gzipHeader[:], deflate(nil, cl.initialBody)...)
		cl.initial = append(cl.initial, chunk(z)...)
		cl.initialBody = nil
	}
	cl.mu.Unlock()

	cl.mu.Lock()
	cl.attachTimer = time.AfterFunc(h.cfg.attachTimeout, func() {
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

	// A small send buffer makes a client that stopped reading block a write
	// (and be evicted at the write timeout) after ~128 KiB instead of the
	// ~4 MB the kernel would grow the buffer to.
	sc := streamConn(conn)
	var rc syscall.RawConn
	if tc := tcpConn(conn); tc != nil {
		if err := tc.SetWriteBuffer(h.cfg.sendBuffer); err != nil {
			h.log.Debug("hub: send buffer not bounded", "client", c.id, "remote", c.remote, "err", err)
		}
		var err error
		if rc, err = tc.SyscallConn(); err != nil {
			h.log.Debug("hub: socket not reachable; no direct writes or progress checks", "client", c.id, "err", err)
			rc = nil
		}
	}
	reason := h.stream(c, sc, rc)
	if h.remove(c) {
		h.log.Debug("hub: client gone", "client", c.id, "remote", c.remote, "reason", reason)
	}
	c.close()
}

// stream writes the initial state, then whatever broadcasts could not
// write straight to the socket, until the client ends; it returns why it
// ended. rc is the TCP socket under conn (nil: none).
func (h *Hub) stream(c *client, conn net.Conn, rc syscall.RawConn) string {
	if !c.attach(conn, rc) { // the socket is ours from here
		return "closed before start"
	}
	c.mu.Lock()
	first, firstEvents := c.initial, c.initialEvents
	c.initial = nil
	c.mu.Unlock()

	var deadline time.Time
	// write evicts (by failing with a timeout) only a client whose socket
	// takes nothing for the write timeout: a slow reader that keeps taking
	// bytes gets a fresh timeout for the rest of a batch. With a small send
	// buffer a batch rarely fits at once; a slow link must not count as a
	// stuck client (the queue's byte budget bounds what it may fall behind).
	write := func(bufs [][]byte, events int) error {
		nb := net.Buffers(bufs)
		for {
			now := time.Now()
			// Refresh the deadline only when half of it is used up: a timer
			// reset per write is measurable at 10,000 clients. A blocked
			// write thus fails after between half and all of writeTimeout.
			if deadline.Sub(now) < h.cfg.writeTimeout/2 {
				deadline = now.Add(h.cfg.writeTimeout)
				if err := c.setWriteDeadline(deadline); err != nil {
					return err
				}
			}
			// One writev for the batch on a TCP socket (WriteTo consumes
			// nb: on a partial write it holds the rest).
			n, err := nb.WriteTo(conn)
			h.bytesWritten.Add(uint64(n))
			c.prog.written += n
			if n > 0 {
				c.lastWrite = time.Now()
			}
			if err == nil {
				break
			}
			if n == 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
				return err
			}
			// Progress: a fresh timeout for the rest, unless the timeout
			// was close() interrupting the write (setWriteDeadline says so).
			deadline = time.Time{}
		}
		h.eventsSent.Add(uint64(events))
		return nil
	}
	if err := write([][]byte{first}, firstEvents); err != nil {
		return h.writeFailed(c, err)
	}

	var frames []*frame
	var bufs [][]byte
	owned := true
	for {
		if !owned {
			select {
			case <-c.done:
				return "closed"
			case <-h.stop:
				return "hub stopped"
			case <-c.wake:
			}
			if owned = c.claim(); !owned {
				continue // nothing queued, or a direct writer holds the socket
			}
		}
		if c.direct && !deadline.IsZero() {
			// Direct writers never wait, and a raw write on a socket whose
			// deadline passed fails: no deadline while they may write.
			if err := c.setWriteDeadline(time.Time{}); err != nil {
				return h.writeFailed(c, err)
			}
			deadline = time.Time{}
		}
		// Take everything queued (one writev for a backlog), or give the
		// socket up.
		if frames = c.takeOrRelease(frames); frames == nil {
			owned = false
			continue
		}
		now := time.Now()
		if c.prog.due(now) && h.stuck(c, now) {
			c.release(sumBytes(frames))
			clear(frames)
			h.evict(c, reasonNotReading)
			return reasonNotReading
		}
		bufs = bufs[:0]
		var held int64
		events := 0
		idle := now.Sub(c.lastWrite) >= h.cfg.heartbeat/2
		for _, f := range frames {
			held += int64(len(f.b))
			if !f.ping || idle { // a heartbeat only matters on an idle stream
				bufs = append(bufs, f.b)
				events += f.events
				idle = false // this batch is not idle: no further heartbeat
			}
		}
		var err error
		if len(bufs) > 0 {
			err = write(bufs, events)
		}
		c.release(held)
		clear(frames) // the frames may be large: do not keep them reachable
		clear(bufs)
		if cap(frames) > 1024 { // a burst: do not keep its backing array
			frames = nil
		}
		if err != nil {
			return h.writeFailed(c, err)
		}
	}
}

// sumBytes is the bytes of the frames.
func sumBytes(fs []*frame) int64 {
	var n int64
	for _, f := range fs {
		n += int64(len(f.b))
	}
	return n
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

// attach records the connection so that close can interrupt a blocked
// write, and gives the socket to the stream goroutine for the initial
// state. Direct writes need the socket itself under conn (not TLS).
func (c *client) attach(conn net.Conn, rc syscall.RawConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.attachTimer != nil {
		c.attachTimer.Stop()
	}
	if c.closed {
		return false
	}
	c.conn = conn
	c.busy = true
	if _, plain := conn.(*net.TCPConn); plain && rc != nil {
		c.direct, c.raw = true, newRawWriter(rc)
	}
	c.prog = progress{rc: rc, next: time.Now().Add(c.h.cfg.progressEvery)}
	return true
}

// setWriteDeadline sets the write deadline of the attached connection unless
// close was called: under c.mu, so that it cannot overwrite the past
// deadline with which close interrupts a blocked write.
func (c *client) setWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return errStreamClosed
	}
	return c.conn.SetWriteDeadline(t)
}

// close ends the stream; it is idempotent and safe from any goroutine.
func (c *client) close() {
	c.once.Do(func() {
		close(c.done)
		c.mu.Lock()
		c.closed = true
		c.dropQueued()
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

// peerAddress is the TCP peer's IP without the port, the default address
// for the per-address cap; "" when the peer has none (not TCP).
func peerAddress(c *fiber.Ctx) string {
	a, ok := netip.AddrFromSlice(c.Context().RemoteIP())
	if !ok {
		return ""
	}
	return ipKey(a)
}

// streamHeader builds the HTTP response head of a stream, keeping headers
// that middleware already set. vary says the body depends on the request's
// Accept-Encoding (compression is on); gzip that it is gzip.
func streamHeader(rh *fasthttp.ResponseHeader, vary, gzip bool) []byte {
	b := make([]byte, 0, 256)
	b = append(b, "HTTP/1.1 200 OK\r\n"...)
headers:
	for k, v := range rh.All() {
		for _, skip := range [...]string{"Content-Type", "Content-Length", "Content-Encoding", "Transfer-Encoding", "Connection", "Cache-Control"} {
			if bytes.EqualFold(k, []byte(skip)) {
				continue headers
			}
		}
		b = append(b, k...)
		b = append(b, ": "...)
		b = append(b, v...)
		b = append(b, "\r\n"...)
	}
	if gzip {
		b = append(b, "Content-Encoding: gzip\r\n"...)
	}
	if vary {
		b = append(b, "Vary: Accept-Encoding\r\n"...)
	}
	// Connection: close because the stream only ends by closing it;
	// X-Accel-Buffering stops nginx from holding events back.
	return append(b, "Content-Type: text/event-stream\r\n"+
		"Cache-Control: no-cache\r\n"+
		"X-Accel-Buffering: no\r\n"+
		"Transfer-Encoding: chunked\r\n"+
		"Connection: close\r\n\r\n"...)
}
