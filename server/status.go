package server

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/view"
)

// The public status page (status_page:, issue #16) at its configured path:
// the page, PATH/feed.atom (Atom 1.0 of its incidents) and PATH/events
// (its live stream, room view.RoomStatus, fed by package statuspage).
//
// Who may read it: status_page.enabled false answers 404 before anything
// else; enabled, auth.public "status" lets anyone read all three, and
// otherwise they are guarded like the dashboard (signed-in viewers; in
// mode none, everyone who reaches dashd). The routes sit at the path in
// force at start (status_page.path is restart-only); everything else
// follows reloads, read per request from the configuration in force.
//
// Cost: the page and the feed are rendered once per change (see
// statusCache) and served from bytes, gzipped once, with an ETag (304 on
// If-None-Match) and a short max-age.

// statusMaxAge is how long browsers and proxies may reuse the page and the
// feed without asking.
const statusMaxAge = 30 * time.Second

// statusRoutes registers the public status page and its feed (issue #16).
func (s *Server) statusRoutes() {
	path := config.DefaultStatusPath
	if cfg := s.deps.Latest.Config(); cfg != nil && cfg.StatusPage.Path != "" {
		path = cfg.StatusPage.Path
	}
	sc := newStatusCache(s)
	guard := s.allow("status", auth.View)
	s.app.Get(path, s.statusEnabled, guard, sc.handlePage)
	s.app.Get(path+"/feed.atom", s.statusEnabled, guard, sc.handleFeed)
	s.app.Get(path+"/events", s.statusEnabled, guard, sc.handleEvents)
}

// statusEnabled answers 404 while status_page.enabled is false, whoever
// asks: a page that is off does not exist, even for a signed-in admin.
func (s *Server) statusEnabled(c *fiber.Ctx) error {
	if cfg := s.deps.Latest.Config(); cfg == nil || !cfg.StatusPage.Enabled {
		return fiber.NewError(fiber.StatusNotFound, "no status page here (status_page.enabled is false)")
	}
	return c.Next()
}

// handlePage serves the page from the cache.
func (sc *statusCache) handlePage(c *fiber.Ctx) error {
	p, err := sc.get(false)
	if err != nil {
		return internal(err)
	}
	sc.s.setStatusCaching(c)
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	body, etag := p.html, p.etag
	if acceptsGzip(c) {
		body, etag = p.gz, p.gzETag
		c.Set(fiber.HeaderContentEncoding, "gzip")
	}
	c.Set(fiber.HeaderETag, etag)
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, etag) {
		c.Response().Header.Del(fiber.HeaderContentEncoding)
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Send(body)
}

// handleFeed serves the Atom feed from the cache.
func (sc *statusCache) handleFeed(c *fiber.Ctx) error {
	p, err := sc.get(false)
	if err != nil {
		return internal(err)
	}
	sc.s.setStatusCaching(c)
	c.Set(fiber.HeaderETag, p.feedETag)
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, p.feedETag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, "application/atom+xml; charset=utf-8")
	return c.Send(p.feed)
}

// handleEvents is the page's live stream: the room of the status page, no
// cookie issued (a signed-in reader's streams still end with their
// session). Anyone may open it when the page is public, so it is held to
// the hub's stream caps like every other stream, and reads no signals.
// Each (re)connect starts with the whole live part, built now.
func (sc *statusCache) handleEvents(c *fiber.Ctx) error {
	p, err := sc.get(true)
	if err != nil {
		return internal(err)
	}
	opts := []hub.ClientOption{hub.WithRoom(view.RoomStatus), hub.WithAddress(c.IP()),
		hub.OnConnect(func(send func(...hub.Event)) { send(p.state...) })}
	if sess := principal(c).Session; sess != "" {
		opts = append(opts, hub.WithSession(sess))
	}
	return sc.s.deps.Hub.HandleSSE(c, opts...)
}

// setStatusCaching says who may keep the page and for how long: shared
// caches too when it is public, only the reader's browser otherwise.
func (s *Server) setStatusCaching(c *fiber.Ctx) {
	scope := "private"
	if s.deps.Auth.Config().IsPublic("status") {
		scope = "public"
	}
	c.Set(fiber.HeaderCacheControl, scope+", max-age="+strconv.Itoa(int(statusMaxAge/time.Second)))
}

// acceptsGzip reports whether the client takes a gzipped body.
func acceptsGzip(c *fiber.Ctx) bool {
	return c.Context().Request.Header.HasAcceptEncoding("gzip")
}
