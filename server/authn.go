package server

import (
	"errors"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/config"
)

// principalKey is where identify leaves the request's principal.
const principalKey = "dashd.principal"

// Cookies of authentication.
const (
	authCookie  = "dashd_auth" // the session id (mode local, oidc)
	csrfCookie  = "dashd_csrf" // the login form's double-submit token
	flowCookie  = "dashd_oidc" // the OIDC flow in progress
	maxLoginLen = 1024         // user names and passwords longer than this are refused
)

// identify works out who the request comes from (see package auth):
// everyone in mode none; otherwise an API token, a trusted proxy's header
// or a session cookie. Who it is does not decide anything yet: the
// routes' guards do.
func (s *Server) identify(c *fiber.Ctx) error {
	cfg := s.deps.Auth.Config()
	if cfg.Mode == config.AuthNone {
		// Everyone may do everything, as before auth existed: a token
		// could only mean less, and an Authorization header meant for
		// something else (a proxy's, a scraper's default) must not turn
		// the request away.
		c.Locals(principalKey, auth.Everyone())
		return c.Next()
	}
	var p auth.Principal
	if bearer, ok := bearerToken(c); ok {
		tp, err := s.deps.Auth.Tokens().Authenticate(c.UserContext(), bearer, clientAddr(c), s.now())
		if err != nil {
			return authError(c, err)
		}
		p = tp
	} else {
		switch cfg.Mode {
		case config.AuthProxy:
			pp, err := auth.FromProxy(peerAddr(c), func(h string) string { return c.Get(h) }, cfg.Proxy)
			switch {
			case err == nil:
				p = pp
			case errors.Is(err, auth.ErrNoIdentity):
			default:
				return fiber.NewError(fiber.StatusForbidden, "the proxy's user is refused: "+err.Error())
			}
		default:
			if id := c.Cookies(authCookie); id != "" {
				if sess, ok := s.deps.Auth.Sessions().Lookup(c.UserContext(), id, s.now()); ok {
					p = sess.Principal
				}
			}
		}
	}
	c.Locals(principalKey, p)
	return c.Next()
}

// principal is the request's principal (the zero value: nobody).
func principal(c *fiber.Ctx) auth.Principal {
	p, _ := c.Locals(principalKey).(auth.Principal)
	return p
}

// signedIn reports whether p is somebody.
func signedIn(p auth.Principal) bool { return p.Via != "" }

// bearerToken reads "Authorization: Bearer TOKEN".
func bearerToken(c *fiber.Ctx) (string, bool) {
	h := c.Get(fiber.HeaderAuthorization)
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// authError answers a failed token or sign-in check.
func authError(c *fiber.Ctx, err error) error {
	var te *auth.ThrottledError
	switch {
	case errors.As(err, &te):
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(auth.RetryAfter(te.Wait)))
		return fiber.NewError(fiber.StatusTooManyRequests, "too many failed attempts from this address; wait and try again")
	case errors.Is(err, auth.ErrBusy):
		c.Set(fiber.HeaderRetryAfter, "2")
		return fiber.NewError(fiber.StatusServiceUnavailable, "too many sign-ins at once; try again")
	}
	c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="dashd"`)
	return fiber.NewError(fiber.StatusUnauthorized, "invalid or unknown token")
}

// clientAddr is the client's address for throttling and the audit log:
// the forwarded one behind a trusted proxy (c.IP), else the peer.
func clientAddr(c *fiber.Ctx) netip.Addr {
	if a, err := netip.ParseAddr(c.IP()); err == nil {
		return a.Unmap()
	}
	return peerAddr(c)
}

// peerAddr is the TCP peer's address (never a header).
func peerAddr(c *fiber.Ctx) netip.Addr {
	if a, ok := netip.AddrFromSlice(c.Context().RemoteIP()); ok {
		return a.Unmap()
	}
	return netip.Addr{}
}

// allow guards a route: the principal must be able to take action, unless
// the surface is public by the configuration ("" never is). Browsers that
// are not signed in are sent to the login page; others get 401 or 403
// with what is missing.
func (s *Server) allow(surface string, action auth.Action) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if surface != "" && s.deps.Auth.Config().IsPublic(surface) {
			return c.Next()
		}
		p := principal(c)
		if p.Can(action) {
			return c.Next()
		}
		if !signedIn(p) {
			if s.deps.Auth.Config().Mode == config.AuthProxy {
				// dashd has no sign-in page of its own here: sending
				// the browser to /login would only bounce it back.
				return fiber.NewError(fiber.StatusUnauthorized, "sign in through the reverse proxy: this request named no user, or did not come from an address in auth.proxy.trusted")
			}
			if wantsPage(c) {
				return c.Redirect("/login?next="+url.QueryEscape(c.OriginalURL()), fiber.StatusSeeOther)
			}
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="dashd"`)
			return fiber.NewError(fiber.StatusUnauthorized, "sign in first (or send an API token: Authorization: Bearer TOKEN)")
		}
		who := p.Role
		if p.Via == auth.ViaToken {
			who = "token scope " + p.Scope
		}
		return fiber.NewError(fiber.StatusForbidden, who+" may not "+actionWords(action))
	}
}

// wantsPage reports whether a request is a browser navigating (a page,
// not an API call, a stream or a Datastar request).
func wantsPage(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodGet && c.Get("Datastar-Request") == "" &&
		strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

func actionWords(a auth.Action) string {
	switch a {
	case auth.View:
		return "view the dashboard"
	case auth.ReadAPI:
		return "read the API"
	case auth.ReadMetrics:
		return "read the metrics"
	case auth.Chat:
		return "post in the chat"
	case auth.Silence:
		return "create or expire silences"
	case auth.Acknowledge:
		return "acknowledge"
	case auth.RunCheck:
		return "run checks"
	case auth.Admin:
		return "do this (admin only)"
	}
	return "do this"
}

// setAuthCookie sets (or, with an empty id, clears) the session cookie:
// HttpOnly, SameSite=Lax, Secure whenever the request came over TLS
// (directly or from a trusted proxy).
func (s *Server) setAuthCookie(c *fiber.Ctx, name, value string, maxAge time.Duration) {
	ck := &fiber.Cookie{Name: name, Value: value, Path: "/", HTTPOnly: true,
		SameSite: fiber.CookieSameSiteLaxMode, Secure: c.Protocol() == "https"}
	if value == "" {
		ck.Expires = time.Unix(1, 0)
		ck.MaxAge = -1
	} else if maxAge > 0 {
		ck.MaxAge = int(maxAge / time.Second)
	}
	c.Cookie(ck)
}

// localPath keeps a "next" target on this site: a path, never a URL
// that leaves it (//host, scheme:).
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}
