package collectors

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/dashd/dashd/config"
)

// Self-checks watch dashd itself at the address it actually listens on,
// whatever the configuration file or --listen say and whichever port the
// kernel picked for port 0:
//
//	url: self:/healthz     (http: http://ADDR/healthz, https:// with server.tls)
//	address: self          (tcp: ADDR)
//
// ADDR is the bound listener address, with an unspecified host (0.0.0.0,
// ::) replaced by 127.0.0.1: a check of "dashd on this host" goes through
// loopback. The runner resolves the placeholder when it builds the check
// (RunnerOptions.Self); the configuration keeps it as written, so the check
// page shows self:/healthz.

// SelfScheme prefixes an http check's url that targets dashd itself.
const SelfScheme = "self:"

// SelfAddress is the tcp check address that targets dashd itself.
const SelfAddress = "self"

// Self is where dashd itself answers. The zero value means "not known"
// (a check outside the daemon): self targets then fail to build, and the
// check shows as down with the reason.
type Self struct {
	// Addr is a dialable host:port.
	Addr string
	// TLS is true when dashd serves HTTPS (server.tls).
	TLS bool
}

// ErrSelfUnknown is returned when a check targets self but the runner was
// not told where dashd listens.
var ErrSelfUnknown = errors.New("targets dashd itself (self), but dashd's listen address is not known here")

// SelfAt is Self for a bound listener address.
func SelfAt(addr net.Addr, tls bool) Self {
	if addr == nil {
		return Self{}
	}
	return Self{Addr: dialable(addr.String()), TLS: tls}
}

// dialable turns a listen address into one a client can connect to: an
// unspecified host becomes loopback.
func dialable(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if host == "" {
		return net.JoinHostPort("127.0.0.1", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", port)
	}
	return hostport
}

// isSelfURL reports whether an http check's url targets dashd itself.
func isSelfURL(u string) bool { return strings.HasPrefix(u, SelfScheme) }

// validateSelfURL checks the part after "self:": an absolute path, with an
// optional query, and nothing that names another host.
func validateSelfURL(s config.Scope, u string) {
	rest := strings.TrimPrefix(u, SelfScheme)
	if !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
		s.Errorf("url", "a self URL is self: and a path on dashd's own listener, such as self:/healthz, got %q", config.RedactURL(u))
	}
}

// selfSpec is implemented by the specs that can target dashd itself: it
// returns a copy with the target resolved, or the spec itself when it does
// not target self.
type selfSpec interface {
	withSelf(Self) (config.CheckSpec, error)
}

// resolveSelf returns c with any self target of its spec resolved.
func resolveSelf(c config.Check, self Self) (config.Check, error) {
	s, ok := c.Spec.(selfSpec)
	if !ok {
		return c, nil
	}
	spec, err := s.withSelf(self)
	if err != nil {
		return c, fmt.Errorf("collectors: check %q: %w", c.Name, err)
	}
	c.Spec = spec
	return c, nil
}

func (h *HTTPSpec) withSelf(self Self) (config.CheckSpec, error) {
	if !isSelfURL(h.URL) {
		return h, nil
	}
	if self.Addr == "" {
		return nil, fmt.Errorf("url %s %w", h.URL, ErrSelfUnknown)
	}
	scheme := "http://"
	if self.TLS {
		scheme = "https://"
	}
	cp := *h
	cp.URL = scheme + self.Addr + strings.TrimPrefix(h.URL, SelfScheme)
	return &cp, nil
}

func (t *TCPSpec) withSelf(self Self) (config.CheckSpec, error) {
	if t.Address != SelfAddress {
		return t, nil
	}
	if self.Addr == "" {
		return nil, fmt.Errorf("address %s %w", t.Address, ErrSelfUnknown)
	}
	cp := *t
	cp.Address = self.Addr
	return &cp, nil
}
