package hub

import (
	"crypto/tls"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// unsafeWrapper stands for fasthttp's hijack wrapper.
type unsafeWrapper struct{ net.Conn }

func (w unsafeWrapper) UnsafeConn() net.Conn { return w.Conn }

// capWrapper stands for the daemon's connection-cap wrapper: it hides the
// *net.TCPConn (no writev, no socket options through it) and must be the one
// closed, as it uncounts itself on Close.
type capWrapper struct {
	net.Conn
	closed *atomic.Int64
}

func (w *capWrapper) NetConn() net.Conn { return w.Conn }

func (w *capWrapper) Close() error {
	w.closed.Add(1)
	return w.Conn.Close()
}

// selfWrapper returns itself: unwrapping must not loop forever.
type selfWrapper struct{ net.Conn }

func (w *selfWrapper) NetConn() net.Conn { return w }

func TestStreamConn_Unwrap(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tcp := raw.(*net.TCPConn)
	var closed atomic.Int64
	capped := &capWrapper{Conn: tcp, closed: &closed}
	tlsConn := tls.Client(capped, &tls.Config{InsecureSkipVerify: true}) // never used: no handshake
	pipe, pipe2 := net.Pipe()
	defer pipe.Close()
	defer pipe2.Close()
	self := &selfWrapper{Conn: tcp}

	tests := []struct {
		name    string
		conn    net.Conn
		writeTo net.Conn     // what streamConn returns
		socket  *net.TCPConn // what tcpConn returns
	}{
		{name: "TCP itself", conn: tcp, writeTo: tcp, socket: tcp},
		{name: "hijack wrapper", conn: unsafeWrapper{tcp}, writeTo: tcp, socket: tcp},
		{name: "hijack over cap wrapper", conn: unsafeWrapper{capped}, writeTo: tcp, socket: tcp},
		{name: "cap over hijack wrapper", conn: &capWrapper{Conn: unsafeWrapper{tcp}, closed: &closed}, writeTo: tcp, socket: tcp},
		{name: "TLS is written through, its socket still found", conn: unsafeWrapper{tlsConn}, writeTo: tlsConn, socket: tcp},
		{name: "no socket", conn: unsafeWrapper{pipe}, writeTo: pipe, socket: nil},
		{name: "wrapper returning itself", conn: self, writeTo: self, socket: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := streamConn(tt.conn); got != tt.writeTo {
				t.Errorf("streamConn = %T %p, want %T %p", got, got, tt.writeTo, tt.writeTo)
			}
			if got := tcpConn(tt.conn); got != tt.socket {
				t.Errorf("tcpConn = %p, want %p", got, tt.socket)
			}
		})
	}
	if n := closed.Load(); n != 0 {
		t.Errorf("unwrapping closed %d wrappers", n)
	}
}

// TestHub_StreamBehindConnWrapper serves streams through a listener whose
// connections are wrapped like the daemon's connection caps: streams work,
// a client that never reads is still evicted within the write timeout (the
// send buffer was bounded on the socket under both wrappers), and every
// ended stream is closed through the wrapper, so it can uncount itself.
func TestHub_StreamBehindConnWrapper(t *testing.T) {
	var closed, accepted atomic.Int64
	wrap := func(ln net.Listener) net.Listener {
		return &wrapListener{Listener: ln, closed: &closed, accepted: &accepted}
	}
	var logs logBuffer
	e := newEnvWrapped(t, []Option{
		WithWriteTimeout(time.Second), WithQueueBytes(64 << 20), WithLogger(logs.logger()),
		WithHeartbeat(20 * time.Millisecond),
	}, nil, wrap)

	healthy := e.open(t, q("room", "ok"))
	e.hub.BroadcastToRoom("ok", PatchElements(frag("x", "through the wrapper")))
	healthy.expectFragment(t, frag("x", "through the wrapper"))

	e.stuckClient(t, q("room", "r"))
	for i := range 16 { // 1 MiB
		e.hub.BroadcastToRoom("r", PatchElements(bigFragment(i, 64<<10)))
	}
	eventually(t, "stuck client evicted", func() bool { return e.hub.Stats().Evictions == 1 })
	if !strings.Contains(logs.String(), "reason=\"write timeout\"") {
		t.Errorf("eviction not logged as a write timeout:\n%s", logs.String())
	}
	healthy.close()
	eventually(t, "every connection closed through its wrapper", func() bool {
		return e.hub.ClientCount() == 0 && closed.Load() == accepted.Load()
	})
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d connections accepted, want 2 (the streams)", n)
	}
}

// wrapListener wraps every accepted connection in a capWrapper.
type wrapListener struct {
	net.Listener
	closed, accepted *atomic.Int64
}

func (l *wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	return &capWrapper{Conn: c, closed: l.closed}, nil
}
