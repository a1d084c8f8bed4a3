package collectors

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/dashd/dashd/config"
)

// TCPSpec configures a tcp check: connect, optionally send a line and expect
// a banner.
type TCPSpec struct {
	Address string `yaml:"address"`
	// Send is written after connecting ("PING\r\n"; YAML double quotes
	// understand escapes).
	Send string `yaml:"send"`
	// Expect must appear in what the server sends (within 4 KiB).
	Expect string `yaml:"expect"`
}

// maxBanner bounds what a tcp check reads while looking for Expect.
const maxBanner = 4 << 10

func newTCPSpec() *TCPSpec { return &TCPSpec{} }

// Validate reports problems with positions.
func (t *TCPSpec) Validate(s config.Scope) {
	if t.Address != SelfAddress { // self: dashd's own listener (self.go)
		validateHostPort(s, "address", t.Address)
	}
	if len(t.Expect) > maxBanner {
		s.Errorf("expect", "must be at most %d bytes", maxBanner)
	}
}

type tcpCheck struct {
	address      string
	send, expect []byte
}

var _ Check = (*tcpCheck)(nil)

func (t *TCPSpec) build(config.Check) (Check, error) {
	return &tcpCheck{address: t.Address, send: []byte(t.Send), expect: []byte(t.Expect)}, nil
}

// Run connects and, when configured, talks.
func (t *tcpCheck) Run(ctx context.Context) Outcome {
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.address)
	connect := time.Since(start)
	if err != nil {
		out := down(errReason(err))
		out.Latency = connect
		return out
	}
	defer conn.Close()
	stop := deadlineFor(ctx, conn)
	defer stop()

	out := t.talk(ctx, conn)
	out.Latency = connect
	out.Values = map[string]float64{"connect_ms": float64(connect.Microseconds()) / 1000}
	return out
}

func (t *tcpCheck) talk(ctx context.Context, conn net.Conn) Outcome {
	if len(t.send) > 0 {
		if _, err := conn.Write(t.send); err != nil {
			return downf("send: %s", ioReason(ctx, err))
		}
	}
	if len(t.expect) == 0 {
		return up("connected")
	}
	buf := make([]byte, 0, 512)
	chunk := make([]byte, 512)
	for len(buf) < maxBanner {
		n, err := conn.Read(chunk)
		buf = append(buf, chunk[:n]...)
		if bytes.Contains(buf, t.expect) {
			return up("banner matched")
		}
		if err != nil {
			if len(buf) == 0 {
				return downf("no banner: %s", ioReason(ctx, err))
			}
			break
		}
	}
	return down(fmt.Sprintf("unexpected banner %q", shorten(string(bytes.TrimSpace(buf)), 60)))
}

// ioReason prefers the context's reason: when ctx ends, deadlineFor closes
// the connection and the I/O error only says "use of closed network connection".
func ioReason(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return errReason(ctx.Err())
	}
	return errReason(err)
}
