// Package server is dashd's HTTP face: a fiber v2 app with the dashboard pages,
// the Datastar SSE endpoints, polling endpoints, badges, the JSON API and
// metrics. Handlers read from the parts given in Deps and never write to
// collectors directly: requests come back into dashd only through here.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"

	dashd "github.com/dashd/dashd"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/metrics"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// Deps are the parts the handlers read from. cmd/dashd wires them.
type Deps struct {
	Logger   *slog.Logger
	Assets   *ui.Assets
	Version  string
	Hostname string
	Title    string

	// The parts the handlers read, all required (New refuses a missing
	// one): handlers never check for nil.
	Latest *state.Latest      // host snapshot, config in force, rejected reloads
	Checks checkSource        // live check state: a *collectors.Runner
	Store  Store              // history, chat, notifications: a *storage.DB
	Hub    *hub.Hub           // the live streams
	Sparks *view.Sparks       // the stat cards' sparklines
	Flow   metrics.FlowSource // the flow's subscribers, for /metrics
	Alerts Alerting           // the alerter: alerts page and API
	// LatencyThresholds colour latency badges (ascending; nil: the badge
	// package's defaults, 100ms/250ms/500ms/1s/2s).
	LatencyThresholds []time.Duration
	// Now is the clock for relative API times and readiness; time.Now when nil.
	Now func() time.Time

	// Listen is the address dashd listens on (server.listen) and
	// AllowedHosts the extra Host names it serves (server.allowed_hosts):
	// see hostPolicy.
	Listen       string
	AllowedHosts []string
	// Connections caps open connections (total and per client address);
	// zero fields mean no cap. cmd/dashd derives them from RLIMIT_NOFILE.
	Connections connlimit.Limits
}

// Server owns the fiber app.
type Server struct {
	deps Deps
	app  *fiber.App
	log  *slog.Logger

	hosts   hostPolicy
	metrics fiber.Handler
	chat    chatLimits
	// ln is the connection-limiting listener Serve wraps around its
	// listener; set once, before serving (metrics read its counters).
	lnMu sync.Mutex
	ln   *connlimit.Listener

	// latMu guards latCache, the averaged latencies behind latency badges.
	latMu    sync.Mutex
	latCache map[latencyKey]latencyEntry
}

// trustedProxies are the reverse proxies whose X-Forwarded-* headers are
// believed: one on this machine. They are also exempt from the
// per-address connection cap (they carry many users).
func trustedProxies() []string { return []string{"127.0.0.1", "::1"} }

// New builds the app and its routes, or says which required part is
// missing.
func New(deps Deps) (*Server, error) {
	var missing []string
	for _, p := range []struct {
		name string
		nil  bool
	}{{"Assets", deps.Assets == nil}, {"Latest", deps.Latest == nil}, {"Checks", deps.Checks == nil},
		{"Store", deps.Store == nil}, {"Hub", deps.Hub == nil}, {"Sparks", deps.Sparks == nil}, {"Flow", deps.Flow == nil}, {"Alerts", deps.Alerts == nil}} {
		if p.nil {
			missing = append(missing, p.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("server: missing %s", strings.Join(missing, ", "))
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{deps: deps, log: deps.Logger}
	s.hosts = newHostPolicy(deps.Listen, deps.Hostname, deps.AllowedHosts)
	m, err := metrics.New(metrics.Sources{Host: deps.Latest, Checks: deps.Checks, Hub: deps.Hub, Storage: deps.Store, Flow: deps.Flow, Alerts: deps.Alerts,
		Listener: s.listenerStats, Version: deps.Version, Logger: deps.Logger.With("part", "metrics")})
	if err != nil {
		return nil, err
	}
	// adaptor buffers the whole response, which is what a scrape wants.
	s.metrics = adaptor.HTTPHandler(m.Handler())
	s.app = fiber.New(fiber.Config{
		// Streams live for hours: a write timeout would cut them. Idle
		// keep-alive connections still time out.
		WriteTimeout: 0,
		// A request must arrive within 10 s and an idle keep-alive
		// connection goes after 60 s: connections are a budget (see
		// connlimit), and a slow or idle client must not sit on one.
		ReadTimeout:           10 * time.Second,
		IdleTimeout:           60 * time.Second,
		DisableStartupMessage: true,
		// Handlers copy what they keep, but immutable strings make a
		// forgotten copy harmless rather than a data race.
		Immutable: true,
		// X-Forwarded-Proto (Secure cookies behind TLS) is believed only
		// from a reverse proxy on this machine.
		// The client address (per-address stream caps, logs) is the
		// X-Forwarded-For of a trusted proxy, validated.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          trustedProxies(),
		ProxyHeader:             fiber.HeaderXForwardedFor,
		EnableIPValidation:      true,
		// Signals are capped at 64 KiB by the hub; nothing else takes a
		// body, so larger ones are refused before they are buffered.
		BodyLimit:    128 << 10,
		ErrorHandler: s.errorHandler,
		AppName:      "dashd",
	})
	s.routes()
	return s, nil
}

// App exposes the fiber app (tests and benchmarks serve it on their own listener).
func (s *Server) App() *fiber.App { return s.app }

// Serve serves on ln until Shutdown; it returns nil after a clean shutdown.
// It caps connections (Deps.Connections) and rides out running out of file
// descriptors (see package connlimit): no client can make it return.
func (s *Server) Serve(ln net.Listener) error {
	lim := s.deps.Connections
	for _, p := range trustedProxies() {
		a := netip.MustParseAddr(p)
		lim.Exempt = append(lim.Exempt, netip.PrefixFrom(a, a.BitLen()))
	}
	cl := connlimit.New(ln, lim, s.log)
	s.lnMu.Lock()
	s.ln = cl
	s.lnMu.Unlock()
	if err := s.app.Listener(cl); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

// Shutdown stops accepting and waits (up to ctx) for in-flight requests and
// streams to end; streams end when the hub stops, which the caller does first.
func (s *Server) Shutdown(ctx context.Context) error {
	deadline, ok := ctx.Deadline()
	timeout := 5 * time.Second
	if ok {
		timeout = time.Until(deadline)
	}
	if err := s.app.ShutdownWithTimeout(timeout); err != nil {
		return fmt.Errorf("server: shutdown: %w", err)
	}
	return nil
}

// listenerStats returns the connection counters, zero before Serve.
func (s *Server) listenerStats() connlimit.Stats {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	if s.ln == nil {
		return connlimit.Stats{}
	}
	return s.ln.Stats()
}

func (s *Server) routes() {
	// Every request: the Host check first (nothing is served to a
	// rebinding page), then no compressed bodies, then security headers.
	// Writes are guarded per route (post), so a wrong method on any route
	// is a 405 with Allow rather than a CSRF refusal.
	s.app.Use(s.guardHost, refuseEncodedBodies, securityHeaders)
	s.app.Get("/static/*", s.deps.Assets.Handler())
	s.app.Get("/licenses", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Send(dashd.Notices)
	})
	s.apiRoutes()
	s.uiRoutes()
	s.alertRoutes()
}

func (s *Server) page() ui.Page {
	return ui.Page{Title: s.deps.Title, Version: s.deps.Version, Hostname: s.deps.Hostname, Assets: s.deps.Assets}
}

// post registers a state-changing route behind sameOriginWrites.
func (s *Server) post(path string, h fiber.Handler) {
	s.app.Post(path, sameOriginWrites, h)
}

// delete registers a DELETE route behind sameOriginWrites.
func (s *Server) delete(path string, h fiber.Handler) {
	s.app.Delete(path, sameOriginWrites, h)
}

// sameOriginWrites refuses state-changing requests that did not come from a
// dashd page. Datastar sends Datastar-Request: true; a cross-site form
// cannot set that header without a CORS preflight, which dashd never grants;
// browsers mark cross-site requests in Sec-Fetch-Site and name the page's
// origin in Origin. Without this any web page open in a local browser could
// post to a dashd on 127.0.0.1.
//
// API clients (scripts) qualify too: a JSON body or a method other than
// POST also needs a preflight cross-origin, so they are not forgeable by
// a plain form either.
func sameOriginWrites(c *fiber.Ctx) error {
	json := strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON)
	if c.Get("Datastar-Request") != "true" && !json && c.Method() == fiber.MethodPost {
		return fiber.NewError(fiber.StatusForbidden, "state-changing requests must come from a dashd page (Datastar-Request header) or send JSON (Content-Type: application/json)")
	}
	switch c.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return fiber.NewError(fiber.StatusForbidden, "cross-site request refused")
	}
	if o := c.Get(fiber.HeaderOrigin); o != "" && !sameOrigin(o, c) {
		return fiber.NewError(fiber.StatusForbidden, "cross-origin request refused (Origin "+quoteHost(o)+" is not this dashd)")
	}
	return c.Next()
}

// sameOrigin reports whether an Origin header names the host the request
// was sent to.
func sameOrigin(origin string, c *fiber.Ctx) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, string(c.Request().Header.Host()))
}

// errorHandler answers JSON to API clients and plain text to everyone else,
// always with the message that says what was wrong.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	code := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		code = fe.Code
	}
	msg := err.Error()
	if code == fiber.StatusNotFound && strings.HasPrefix(c.Path(), "/api/v1/") && strings.HasPrefix(msg, "Cannot ") {
		msg = "no such API endpoint: " + c.Method() + " " + c.Path()
	}
	if code == fiber.StatusMethodNotAllowed {
		msg = c.Method() + " is not allowed here; allowed: " + string(c.Response().Header.Peek(fiber.HeaderAllow))
	}
	switch {
	case code == fiber.StatusInternalServerError:
		// A bug or a failing part: the detail is for the log only.
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		msg = "internal error"
	case code >= 500:
		// 503 and friends say what is unavailable; they are not bugs.
		s.log.Debug("request refused", "method", c.Method(), "path", c.Path(), "status", code, "err", err)
	}
	if strings.HasPrefix(c.Path(), "/api/") {
		return c.Status(code).JSON(fiber.Map{"error": msg, "status": code})
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(code).SendString(msg)
}

// Run serves on ln until ctx ends, then shuts down (waiting up to 5 s for
// requests in flight): the server's part in the daemon's lifecycle. A
// serve failure before that is returned.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	select {
	case err := <-done:
		if err == nil {
			err = errors.New("server: stopped serving")
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.Shutdown(sctx)
	if serr := <-done; serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		// Requests still open past the deadline are cut; nothing is lost
		// by that, so it is not a failed stop.
		s.log.Warn("http shutdown", "err", err)
	}
	return nil
}
