package connlimit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serve accepts on l and holds every connection open until the test ends,
// echoing nothing: the caps count open connections, whatever they do.
func serve(t *testing.T, l *Listener) {
	t.Helper()
	var mu sync.Mutex
	var held []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		<-done
		mu.Lock()
		for _, c := range held {
			_ = c.Close()
		}
		mu.Unlock()
	})
}

func listen(t *testing.T, limits Limits) *Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(ln, limits, nil)
	serve(t, l)
	return l
}

// dialFrom connects from a chosen loopback source address.
func dialFrom(t *testing.T, src, dst string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", dst)
	if err != nil {
		t.Fatalf("dial from %s: %v", src, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// refused reports whether c was answered with the 503 of a cap, and its body.
func refused(t *testing.T, c net.Conn) (bool, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return false, "" // held open: admitted
		}
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("refusal: status %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	return true, string(body)
}

func waitOpen(t *testing.T, l *Listener, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Open != want {
		if time.Now().After(deadline) {
			t.Fatalf("open connections = %d, want %d", l.Stats().Open, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestListener_Caps(t *testing.T) {
	tests := []struct {
		name    string
		limits  Limits
		dials   []string // source address of each connection, in order
		refused []bool
		reason  string
	}{
		{"total", Limits{Total: 3}, []string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"},
			[]bool{false, false, false, true}, "open connections"},
		{"per address", Limits{Total: 10, PerAddress: 2}, []string{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2"},
			[]bool{false, false, true, false}, "connections from one address"},
		{"exempt proxy", Limits{Total: 10, PerAddress: 1, Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}},
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"}, []bool{false, false, false, true}, "one address"},
		// The last two of 10 are for addresses holding fewer than 2.
		{"reserve for light clients", Limits{Total: 10, PerAddress: 5, Reserve: 2, LightClient: 2},
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.2",
				"127.0.0.1", "127.0.0.3", "127.0.0.4"},
			[]bool{false, false, false, false, false, false, false, false, true, false, false}, "open connections"},
		{"no caps", Limits{}, []string{"127.0.0.1", "127.0.0.1", "127.0.0.1"}, []bool{false, false, false}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := listen(t, tt.limits)
			admitted := 0
			for i, src := range tt.dials {
				c := dialFrom(t, src, l.Addr().String())
				got, body := refused(t, c)
				if got != tt.refused[i] {
					t.Fatalf("connection %d from %s: refused = %v, want %v", i, src, got, tt.refused[i])
				}
				if got && !strings.Contains(body, tt.reason) {
					t.Errorf("refusal says %q, want it to mention %q", body, tt.reason)
				}
				if !got {
					admitted++
					waitOpen(t, l, admitted)
				}
			}
		})
	}
}

func TestListener_StatsCountRefusals(t *testing.T) {
	l := listen(t, Limits{Total: 1})
	dialFrom(t, "127.0.0.1", l.Addr().String())
	waitOpen(t, l, 1)
	if got, _ := refused(t, dialFrom(t, "127.0.0.1", l.Addr().String())); !got {
		t.Fatal("second connection admitted over a total of 1")
	}
	if st := l.Stats(); st.RefusedTotal != 1 || st.Accepted != 1 || st.Open != 1 {
		t.Fatalf("stats %+v, want 1 accepted, 1 open, 1 refused", st)
	}
}

func TestConn_ReleaseOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(ln, Limits{Total: 1}, nil)
	defer l.Close()
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if l.Stats().Open != 1 {
		t.Fatalf("open = %d after accept", l.Stats().Open)
	}
	if nc, ok := c.(interface{ NetConn() net.Conn }); !ok {
		t.Fatal("accepted conn does not expose NetConn")
	} else if _, ok := nc.NetConn().(*net.TCPConn); !ok {
		t.Fatalf("NetConn is %T, want *net.TCPConn", nc.NetConn())
	}
	_ = c.Close()
	_ = c.Close() // twice: counted once
	if l.Stats().Open != 0 {
		t.Fatalf("open = %d after two closes, want 0", l.Stats().Open)
	}
}

// flaky is a net.Listener that fails like the kernel does when the process
// is out of descriptors, a few times, then accepts for real.
type flaky struct {
	net.Listener
	mu    sync.Mutex
	fails int
}

func (f *flaky) Accept() (net.Conn, error) {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	f.mu.Unlock()
	return f.Listener.Accept()
}

func TestListener_RetriesTemporaryErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(&flaky{Listener: ln, fails: 4}, Limits{}, nil)
	defer l.Close()
	go func() {
		if c, err := net.Dial("tcp", ln.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(2 * time.Second)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept returned %v; EMFILE must be retried, not returned", err)
	}
	_ = c.Close()
	if got := l.Stats().AcceptErrors; got != 4 {
		t.Fatalf("AcceptErrors = %d, want 4", got)
	}
}

func TestListener_ClosedIsFinal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(ln, Limits{}, nil)
	_ = l.Close()
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
}

func TestTemporary(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{os.NewSyscallError("accept4", syscall.EMFILE), true},
		{os.NewSyscallError("accept4", syscall.ENFILE), true},
		{os.NewSyscallError("accept4", syscall.ECONNABORTED), true},
		{net.ErrClosed, false},
		{errors.New("boom"), false},
	}
	for _, tt := range tests {
		if got := Temporary(&net.OpError{Op: "accept", Err: tt.err}); got != tt.want {
			t.Errorf("Temporary(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestNewBudget(t *testing.T) {
	tests := []struct {
		nofile uint64
		checks int
	}{{400, 8}, {1024, 8}, {65536, 8}, {1 << 20, 100}, {64, 8}}
	for _, tt := range tests {
		b := NewBudget(tt.nofile, tt.checks)
		if b.Connections < minConnections {
			t.Errorf("nofile %d: connections %d below the floor", tt.nofile, b.Connections)
		}
		if tt.nofile > uint64(b.Reserved+minConnections) && uint64(b.Connections+b.Reserved) > tt.nofile {
			t.Errorf("nofile %d: connections %d + reserve %d exceed the limit", tt.nofile, b.Connections, b.Reserved)
		}
		if b.Streams >= b.Connections && b.Connections > 1 {
			t.Errorf("nofile %d: streams %d leave no room for requests (connections %d)", tt.nofile, b.Streams, b.Connections)
		}
		if b.StreamsPerAddr > b.Streams || b.ConnectionsPerAddr > b.Connections {
			t.Errorf("nofile %d: per-address caps above totals: %+v", tt.nofile, b)
		}
	}
}
