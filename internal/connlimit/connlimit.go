// Package connlimit wraps dashd's TCP listener so that no client, however
// many connections it opens, can make the process run out of file
// descriptors, and so that running out anyway is survived.
//
// # Why
//
// fasthttp treats any accept error other than a timeout as fatal: at
// EMFILE its Serve returns and the daemon would exit. The Listener here
// never returns a temporary accept error (EMFILE, ENFILE, ENOBUFS, ENOMEM,
// ECONNABORTED); it backs off and retries, as net/http does. And it caps
// open connections, in total and per client address, below RLIMIT_NOFILE,
// so the descriptors storage, checks and /proc need are never taken by
// clients. A connection beyond a cap gets a complete HTTP 503 with
// Retry-After and a message, then is closed.
//
// # Addresses
//
// The per-address cap counts the TCP peer's IP. Trusted proxies (a reverse
// proxy carries many users on few addresses) are exempt from it and count
// only towards the total; the streams cap in the hub applies per forwarded
// client instead.
package connlimit

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Limits are the caps of a Listener. A zero field means no cap.
type Limits struct {
	// Total caps open connections.
	Total int
	// PerAddress caps open connections from one client IP.
	PerAddress int
	// RetryAfter is sent with a refusal; default 5s.
	RetryAfter time.Duration
	// Exempt lists addresses not held to PerAddress (trusted proxies).
	Exempt []netip.Prefix
	// Reserve is how many of the Total connections are kept for light
	// clients, addresses that hold fewer than LightClient connections:
	// a few heavy addresses (each under PerAddress) cannot together take
	// the last of them, so a newcomer and a health probe still get in.
	// Default Total/8 (at least 1 when Total is set).
	Reserve int
	// LightClient is the most connections an address may hold and still
	// use the reserve (default 8, a browser's six plus slack).
	LightClient int
}

// Refusal reasons, as counted in Stats and labelled in metrics.
const (
	ReasonTotal      = "connections"
	ReasonPerAddress = "connections_per_address"
)

// maxRefusers bounds the goroutines answering refused connections; beyond
// it a refused connection is closed without an answer (each one holds a
// descriptor until it is answered).
const maxRefusers = 64

// refuseTimeout bounds writing a refusal; drainTimeout then bounds reading
// what the client sent, so the close is not a reset that loses the answer.
const (
	refuseTimeout = time.Second
	drainTimeout  = 200 * time.Millisecond
)

// Listener is a net.Listener with connection caps and accept-error backoff.
// It is safe for concurrent use; Accept is called by one server loop.
type Listener struct {
	net.Listener
	limits Limits
	log    *slog.Logger

	mu      sync.Mutex
	open    int
	perAddr map[netip.Addr]int

	refusers     chan struct{}
	refusedTotal atomic.Uint64
	refusedAddr  atomic.Uint64
	acceptErrors atomic.Uint64
	accepted     atomic.Uint64
	lastErrLog   atomic.Int64 // unix nanos of the last logged accept error
}

// New wraps ln. log receives accept errors (at most one line a second).
func New(ln net.Listener, limits Limits, log *slog.Logger) *Listener {
	if limits.RetryAfter <= 0 {
		limits.RetryAfter = 5 * time.Second
	}
	if limits.Total > 0 && limits.Reserve <= 0 {
		limits.Reserve = max(limits.Total/8, 1)
	}
	if limits.LightClient <= 0 {
		limits.LightClient = 8
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Listener{
		Listener: ln,
		limits:   limits,
		log:      log,
		perAddr:  make(map[netip.Addr]int),
		refusers: make(chan struct{}, maxRefusers),
	}
}

// Stats is a snapshot of a Listener's gauges and counters.
type Stats struct {
	Open              int    // connections open now
	Accepted          uint64 // connections handed to the server
	RefusedTotal      uint64 // refused at the total cap
	RefusedPerAddress uint64 // refused at the per-address cap
	AcceptErrors      uint64 // temporary accept errors (EMFILE...) retried
}

// Stats returns the current figures.
func (l *Listener) Stats() Stats {
	l.mu.Lock()
	open := l.open
	l.mu.Unlock()
	return Stats{
		Open:              open,
		Accepted:          l.accepted.Load(),
		RefusedTotal:      l.refusedTotal.Load(),
		RefusedPerAddress: l.refusedAddr.Load(),
		AcceptErrors:      l.acceptErrors.Load(),
	}
}

// Accept returns the next admitted connection. Temporary errors are retried
// with backoff (5 ms doubling to 1 s); it returns an error only when the
// underlying listener is closed or fails permanently.
func (l *Listener) Accept() (net.Conn, error) {
	var backoff time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !Temporary(err) {
				return nil, err
			}
			l.acceptErrors.Add(1)
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			l.logAcceptError(err, backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		addr := peerAddr(c)
		if reason := l.admit(addr); reason != "" {
			l.refuse(c, reason)
			continue
		}
		l.accepted.Add(1)
		return &conn{Conn: c, l: l, addr: addr}, nil
	}
}

func (l *Listener) logAcceptError(err error, retry time.Duration) {
	now := time.Now().UnixNano()
	last := l.lastErrLog.Load()
	if now-last < int64(time.Second) || !l.lastErrLog.CompareAndSwap(last, now) {
		return
	}
	l.log.Warn("accept failed; retrying", "err", err, "retry_in", retry, "accept_errors", l.acceptErrors.Load())
}

// admit counts a new connection from addr, or says which cap refuses it.
func (l *Listener) admit(addr netip.Addr) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.limits.Total > 0 && l.open >= l.limits.Total {
		return ReasonTotal
	}
	if l.limits.Total > 0 && l.open >= l.limits.Total-l.limits.Reserve && addr.IsValid() &&
		!l.exempt(addr) && l.perAddr[addr] >= l.limits.LightClient {
		return ReasonTotal // the reserve is for light clients
	}
	if l.limits.PerAddress > 0 && addr.IsValid() && !l.exempt(addr) && l.perAddr[addr] >= l.limits.PerAddress {
		return ReasonPerAddress
	}
	l.open++
	if addr.IsValid() {
		l.perAddr[addr]++
	}
	return ""
}

func (l *Listener) exempt(addr netip.Addr) bool {
	for _, p := range l.limits.Exempt {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// release uncounts a closed connection.
func (l *Listener) release(addr netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if addr.IsValid() {
		if n := l.perAddr[addr] - 1; n > 0 {
			l.perAddr[addr] = n
		} else {
			delete(l.perAddr, addr)
		}
	}
}

// refuse answers c with a 503 and closes it, on a goroutine of its own so a
// client that does not read cannot hold up Accept.
func (l *Listener) refuse(c net.Conn, reason string) {
	what, limit := "connections", l.limits.Total
	if reason == ReasonPerAddress {
		l.refusedAddr.Add(1)
		what, limit = "connections from one address", l.limits.PerAddress
	} else {
		l.refusedTotal.Add(1)
	}
	select {
	case l.refusers <- struct{}{}:
	default:
		_ = c.Close() // already answering many: just drop it
		return
	}
	msg := fmt.Sprintf("dashd is at its limit of %d open %s; retry later\n", limit, what)
	go func() {
		defer func() { <-l.refusers }()
		_ = c.SetDeadline(time.Now().Add(refuseTimeout))
		_, err := c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n" +
			"Retry-After: " + strconv.Itoa(int(l.limits.RetryAfter.Round(time.Second)/time.Second)) + "\r\n" +
			"Content-Length: " + strconv.Itoa(len(msg)) + "\r\n" +
			"Connection: close\r\n\r\n" + msg))
		if err == nil {
			// Half-close, then read what the client sent: closing with
			// unread data would reset the connection and lose the answer.
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
			_ = c.SetReadDeadline(time.Now().Add(drainTimeout))
			var buf [4096]byte
			for {
				if _, err := c.Read(buf[:]); err != nil {
					break
				}
			}
		}
		_ = c.Close()
	}()
}

// Temporary reports whether an accept error is one a server should wait out
// rather than stop for: out of descriptors or buffers, or a connection the
// peer aborted before it was accepted.
func Temporary(err error) bool {
	for _, errno := range [...]syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS,
		syscall.ENOMEM, syscall.ECONNABORTED, syscall.EAGAIN, syscall.EINTR, syscall.EPROTO, syscall.EPERM} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func peerAddr(c net.Conn) netip.Addr {
	if ta, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if a, ok := netip.AddrFromSlice(ta.IP); ok {
			return a.Unmap()
		}
	}
	return netip.Addr{}
}

// conn uncounts itself once, when closed.
type conn struct {
	net.Conn
	l      *Listener
	addr   netip.Addr
	closed atomic.Bool
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.addr)
	}
	return err
}

// NetConn returns the connection underneath, for code that needs the
// *net.TCPConn itself (socket options, writev). Closing must still go
// through the wrapper.
func (c *conn) NetConn() net.Conn { return c.Conn }
