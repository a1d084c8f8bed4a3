package hub

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
)

// refusal is why Hub.add turned a stream away.
type refusal uint8

const (
	admitted refusal = iota
	refusedStopped
	refusedTotal
	refusedPerAddress
)

// refuse answers a stream the hub did not admit: 503, Retry-After, and a
// plain message saying which limit was reached. It writes the response
// itself rather than returning a *fiber.Error, so that an application error
// handler that hides 5xx messages (and logs them as failures) cannot turn a
// routine refusal into "internal error": the client and the operator must
// see which limit it was.
func (h *Hub) refuse(c *fiber.Ctx, r refusal, addr string) error {
	var msg string
	switch r {
	case refusedTotal:
		msg = fmt.Sprintf("hub: at the limit of %d live streams; retry later", h.cfg.maxStreams)
	case refusedPerAddress:
		msg = fmt.Sprintf("hub: at the limit of %d live streams from one address (%s); close some tabs or retry later",
			h.cfg.maxPerAddr, addr)
	default:
		msg = "hub: shutting down; retry shortly"
	}
	h.log.Debug("hub: stream refused", "address", addr, "reason", msg)
	// The pinned client retries a stream only after an abrupt end: a
	// complete 503 would end the page's stream for good. So the answer is
	// chunked and the connection closed without the final chunk; curl
	// and people still read the status, Retry-After and the message.
	head := "HTTP/1.1 503 Service Unavailable\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Cache-Control: no-store\r\n" +
		"Retry-After: " + retryAfterSeconds(h.cfg.retryAfter) + "\r\n" +
		"Transfer-Encoding: chunked\r\n" +
		"Connection: close\r\n\r\n"
	body := chunk([]byte(msg + "\n"))
	fctx := c.Context()
	fctx.HijackSetNoResponse(true)
	fctx.Hijack(func(conn net.Conn) {
		_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.writeTimeout))
		_, _ = conn.Write(append([]byte(head), body...))
	})
	return nil
}

// retryAfterSeconds is d as a Retry-After value: whole seconds, rounded up,
// at least 1.
func retryAfterSeconds(d time.Duration) string {
	return strconv.FormatInt(max(int64((d+time.Second-1)/time.Second), 1), 10)
}

// normalizeAddress makes one spelling per IP (IPv4-mapped IPv6 unmapped,
// zone dropped), so that a client cannot dodge the per-address cap by
// spelling its address differently. Anything that is not an IP is kept as
// given (cloned: it may point into a reused fiber buffer). The unspecified
// address, which fasthttp reports for a peer it cannot name, and the empty
// string mean "unknown", which no per-address cap applies to.
func normalizeAddress(s string) string {
	s = strings.TrimSpace(s)
	if a, err := netip.ParseAddr(s); err == nil {
		return ipKey(a)
	}
	return strings.Clone(s)
}

func ipKey(a netip.Addr) string {
	a = a.Unmap().WithZone("")
	if !a.IsValid() || a.IsUnspecified() {
		return ""
	}
	return a.String()
}
