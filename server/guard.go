package server

import (
	"net"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// hostPolicy decides which Host headers dashd serves: the guard against DNS
// rebinding, where a web page re-points its own name at 127.0.0.1 and then
// reads dashd (and posts to it) as if it were same-origin. Such a request
// carries the attacker's host name, never one of ours.
//
// Always served: IP literals (a page reached by IP is its own origin, so
// rebinding cannot be involved), "localhost" and *.localhost, the listen
// host, the machine's host name, and no Host at all (HTTP/1.0 tools; every
// browser sends one). Beyond those, server.allowed_hosts lists names and
// "*.suffix" wildcards.
type hostPolicy struct {
	exact    map[string]bool
	suffixes []string // ".example.org" for "*.example.org"
}

func newHostPolicy(listen, hostname string, allowed []string) hostPolicy {
	p := hostPolicy{exact: map[string]bool{}}
	if h, _, err := net.SplitHostPort(listen); err == nil && h != "" {
		p.exact[normHost(h)] = true
	}
	if hostname != "" {
		h := normHost(hostname)
		p.exact[h] = true
		if short, _, ok := strings.Cut(h, "."); ok {
			p.exact[short] = true
		}
	}
	for _, a := range allowed {
		a = normHost(a)
		if rest, ok := strings.CutPrefix(a, "*."); ok {
			p.suffixes = append(p.suffixes, "."+rest)
			continue
		}
		p.exact[a] = true
	}
	return p
}

// normHost lower-cases a host name and drops a trailing dot.
func normHost(h string) string { return strings.TrimSuffix(strings.ToLower(h), ".") }

// allows reports whether a Host header value (with or without a port) is
// served.
func (p hostPolicy) allows(hostHeader string) bool {
	if hostHeader == "" {
		return true
	}
	h := hostHeader
	if host, _, err := net.SplitHostPort(hostHeader); err == nil {
		h = host
	}
	h = normHost(strings.TrimSuffix(strings.TrimPrefix(h, "["), "]"))
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || p.exact[h] {
		return true
	}
	for _, s := range p.suffixes {
		if strings.HasSuffix(h, s) {
			return true
		}
	}
	return false
}

// guardHost refuses requests for a host dashd does not serve, with 421
// Misdirected Request and how to allow the name.
func (s *Server) guardHost(c *fiber.Ctx) error {
	if host := string(c.Request().Header.Host()); !s.hosts.allows(host) {
		return fiber.NewError(fiber.StatusMisdirectedRequest,
			"host "+quoteHost(host)+" is not served here (DNS-rebinding guard); add it to server.allowed_hosts in dashd's configuration to allow it")
	}
	return c.Next()
}

// quoteHost quotes a Host header for a message, cut short.
func quoteHost(h string) string {
	if len(h) > 100 {
		h = h[:100] + "..."
	}
	return `"` + strings.ToValidUTF8(h, "?") + `"`
}

// refuseEncodedBodies refuses request bodies with a Content-Encoding: fiber
// decompresses them (stacked encodings too) with no bound when a handler
// reads the body, so a few kilobytes of nested gzip become gigabytes. No
// dashd client compresses what it sends.
func refuseEncodedBodies(c *fiber.Ctx) error {
	switch ce := strings.TrimSpace(string(c.Request().Header.Peek(fiber.HeaderContentEncoding))); {
	case ce == "", strings.EqualFold(ce, "identity"):
		return c.Next()
	default:
		return fiber.NewError(fiber.StatusUnsupportedMediaType,
			"compressed request bodies are not accepted (Content-Encoding: "+quoteHost(ce)+"); send the body uncompressed")
	}
}

// Security headers. Pages get pageCSP (renderPage); everything else the
// strict default, which also keeps an SVG badge opened directly from
// running anything. The Datastar client compiles its attribute expressions
// with new Function, hence 'unsafe-eval'; its data-attr-style writes style
// attributes, hence 'unsafe-inline' for styles (no inline script is
// allowed).
const (
	defaultCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	badgeCSP   = "default-src 'none'; style-src 'unsafe-inline'"
	pageCSP    = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)

// securityHeaders sets what every response carries: no MIME sniffing, no
// framing by other sites, no full URLs leaked in Referer, a CSP.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	if s.deps.TLS != nil {
		// Served over TLS: browsers keep to HTTPS for a year, so a
		// later plain-HTTP link or a downgrade cannot expose the session.
		h.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderReferrerPolicy, "same-origin")
	if strings.HasPrefix(c.Path(), "/badge/") {
		// Badges are made to be embedded anywhere.
		h.Set(fiber.HeaderContentSecurityPolicy, badgeCSP)
	} else {
		h.Set(fiber.HeaderContentSecurityPolicy, defaultCSP)
		h.Set(fiber.HeaderXFrameOptions, "DENY")
	}
	return c.Next()
}
