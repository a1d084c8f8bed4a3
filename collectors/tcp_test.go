package collectors

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// tcpServer accepts on 127.0.0.1 and hands each connection to serve; it
// closes everything at cleanup.
func tcpServer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				_ = c.SetDeadline(time.Now().Add(5 * time.Second))
				serve(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func TestTCPCheck(t *testing.T) {
	banner := tcpServer(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-dashd_test\r\n")) })
	pingPong := tcpServer(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		if strings.TrimSpace(line) == "PING" {
			c.Write([]byte("+PONG\r\n"))
		}
	})
	// Accepts, then neither speaks nor closes until the test ends.
	stop := make(chan struct{})
	silent := tcpServer(t, func(c net.Conn) {
		select {
		case <-stop:
		case <-time.After(5 * time.Second):
		}
	})
	t.Cleanup(func() { close(stop) })
	closesAtOnce := tcpServer(t, func(c net.Conn) {})

	tests := []struct {
		name, body, state, reason string
		timeout                   time.Duration
	}{
		{"connect only", "address: " + banner, "up", "connected", 0},
		{"banner", "address: " + banner + "\nexpect: SSH-2.0-", "up", "banner matched", 0},
		{"wrong banner", "address: " + banner + "\nexpect: SMTP", "down", `unexpected banner "SSH-2.0-dashd_test"`, 0},
		{"send and expect", "address: " + pingPong + "\nsend: \"PING\\r\\n\"\nexpect: +PONG", "up", "banner matched", 0},
		{"closed without banner", "address: " + closesAtOnce + "\nexpect: hi", "down", "no banner: connection closed by peer", 0},
		{"silent server honours timeout", "address: " + silent + "\nexpect: hi", "down", "no banner: timeout", 300 * time.Millisecond},
		{"refused", "address: 127.0.0.1:1", "down", "connect: connection refused", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			timeout := tt.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			start := time.Now()
			out := run(t, mustBuild(t, "tcp", tt.body), timeout)
			assertOutcome(t, out, tt.state, tt.reason)
			if time.Since(start) > timeout+2*time.Second {
				t.Errorf("run took %s with timeout %s", time.Since(start), timeout)
			}
			if out.State.String() == "up" && out.Values["connect_ms"] <= 0 {
				t.Errorf("values = %v, want connect_ms", out.Values)
			}
		})
	}
}
