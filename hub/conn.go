package hub

import (
	"crypto/tls"
	"net"
)

// maxWrappers bounds the unwrapping of a connection: a wrapper that returns
// itself (or a cycle) must not hang a stream.
const maxWrappers = 8

// inner returns the connection conn wraps, or nil. Two wrappers are known:
// fasthttp's hijack wrapper (UnsafeConn) and the daemon's connection-cap
// wrapper (NetConn); *tls.Conn has NetConn too.
func inner(conn net.Conn) net.Conn {
	switch u := conn.(type) {
	case interface{ UnsafeConn() net.Conn }:
		return u.UnsafeConn()
	case interface{ NetConn() net.Conn }:
		return u.NetConn()
	}
	return nil
}

// streamConn returns the connection a stream writes to: conn without the
// wrappers that pass bytes through unchanged. Writing to the socket itself
// lets net.Buffers become one writev per batch, with no copy of the shared
// frame bytes. A *tls.Conn is never unwrapped: its bytes must go through it.
//
// The result is only written to and given deadlines, never closed: closing
// the hijacked connection (fasthttp does it when the stream ends) closes the
// wrappers in order, and a wrapper may count itself out on Close.
func streamConn(conn net.Conn) net.Conn {
	for range maxWrappers {
		if _, ok := conn.(*tls.Conn); ok {
			return conn
		}
		next := inner(conn)
		if next == nil || next == conn {
			return conn
		}
		conn = next
	}
	return conn
}

// tcpConn returns the TCP socket under conn, through every wrapper (TLS
// included: socket options do not touch the bytes), or nil when there is
// none (a unix socket, a test pipe).
func tcpConn(conn net.Conn) *net.TCPConn {
	for range maxWrappers {
		if tc, ok := conn.(*net.TCPConn); ok {
			return tc
		}
		next := inner(conn)
		if next == nil || next == conn {
			return nil
		}
		conn = next
	}
	return nil
}
