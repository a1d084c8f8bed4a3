package server

import (
	"strings"

	"github.com/gofiber/fiber/v2"
)

// corsMaxAge is how long a browser may cache a preflight answer (seconds).
const corsMaxAge = "600"

// cors answers cross-origin reads of the read-only API and badges for the
// origins in server.cors.allowed_origins (none by default: then it does
// nothing). It runs before any guard, for /api/v1 and /badge only:
//
//   - a preflight (OPTIONS with Origin and Access-Control-Request-Method)
//     from a listed origin asking for GET or HEAD is answered 204 with
//     the allowed method and headers; asking for anything else, or from
//     an origin not listed, it falls through to the routes (a 405), and
//     the browser refuses the request;
//   - a GET or HEAD from a listed origin gets Access-Control-Allow-Origin
//     naming it (never "*"), whatever its answer (errors included, so a
//     page can read why);
//   - writes never get a CORS header: sameOriginWrites refuses them
//     cross-origin anyway.
//
// Access-Control-Allow-Credentials is never sent: a browser does not let
// a page read an answer to a request made with the user's cookies, so
// only public surfaces or an API token the page sends itself work.
func (s *Server) cors(c *fiber.Ctx) error {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return c.Next()
	}
	cfg := s.deps.Latest.Config().Server.CORS
	if !cfg.Enabled() {
		return c.Next()
	}
	// Caches must keep answers to different origins apart.
	c.Vary(fiber.HeaderOrigin)
	if !cfg.Allows(origin) {
		return c.Next()
	}
	switch c.Method() {
	case fiber.MethodOptions:
		want := strings.ToUpper(strings.TrimSpace(c.Get(fiber.HeaderAccessControlRequestMethod)))
		if want != fiber.MethodGet && want != fiber.MethodHead {
			return c.Next()
		}
		h := &c.Response().Header
		h.Set(fiber.HeaderAccessControlAllowOrigin, origin)
		h.Set(fiber.HeaderAccessControlAllowMethods, "GET, HEAD")
		// A page may send its own API token, and If-None-Match for badges.
		h.Set(fiber.HeaderAccessControlAllowHeaders, "Authorization, If-None-Match")
		h.Set(fiber.HeaderAccessControlMaxAge, corsMaxAge)
		return c.SendStatus(fiber.StatusNoContent)
	case fiber.MethodGet, fiber.MethodHead:
		c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
		// ETag lets a page revalidate badges; the rest are safelisted.
		c.Set(fiber.HeaderAccessControlExposeHeaders, "ETag, Retry-After, WWW-Authenticate")
	}
	return c.Next()
}
