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
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	dashd "github.com/dashd/dashd"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/scheduler"
	"github.com/dashd/dashd/state"
	"github.com/dashd/dashd/ui"
)

// Deps are the parts the handlers read from. cmd/dashd wires them.
type Deps struct {
	Logger   *slog.Logger
	Assets   *ui.Assets
	Version  string
	Hostname string
	Title    string

	// Read by the polling endpoints, badges, JSON API, metrics and health
	// (api.go); any of them may be nil, and what needs it answers 503.
	Latest *state.Latest // host snapshot, config in force, rejected reloads
	Checks checkSource   // live check state: a *collectors.Runner
	Store  historyStore  // history: a *storage.DB
	Hub    *hub.Hub      // SSE counters for /metrics
	// LatencyThresholds colour latency badges (ascending; nil: the badge
	// package's defaults, 100ms/250ms/500ms/1s/2s).
	LatencyThresholds []time.Duration
	// Scheduler renders the live pages' views and state (dashboard.go); UIStore
	// keeps chat and notification read marks: a *storage.DB. The pages
	// answer 503 without them.
	Scheduler *scheduler.Scheduler
	UIStore   UIStore
	// Now is the clock for relative API times and readiness; time.Now when nil.
	Now func() time.Time
}

// Server owns the fiber app.
type Server struct {
	deps Deps
	app  *fiber.App
	log  *slog.Logger

	// latMu guards latCache, the averaged latencies behind latency badges.
	latMu    sync.Mutex
	latCache map[latencyKey]latencyEntry
}

// New builds the app and its routes.
func New(deps Deps) *Server {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{deps: deps, log: deps.Logger}
	s.app = fiber.New(fiber.Config{
		// Streams live for hours: a write timeout would cut them. Idle
		// keep-alive connections still time out.
		WriteTimeout:          0,
		ReadTimeout:           30 * time.Second,
		IdleTimeout:           120 * time.Second,
		DisableStartupMessage: true,
		// Handlers copy what they keep, but immutable strings make a
		// forgotten copy harmless rather than a data race.
		Immutable: true,
		// X-Forwarded-Proto (Secure cookies behind TLS) is believed only
		// from a reverse proxy on this machine.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          []string{"127.0.0.1", "::1"},
		// Signals are capped at 64 KiB by the hub; nothing else takes a
		// body, so larger ones are refused before they are buffered.
		BodyLimit:    128 << 10,
		ErrorHandler: s.errorHandler,
		AppName:      "dashd",
	})
	s.routes()
	return s
}

// App exposes the fiber app (tests and benchmarks serve it on their own listener).
func (s *Server) App() *fiber.App { return s.app }

// Serve serves on ln until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve(ln net.Listener) error {
	if err := s.app.Listener(ln); err != nil && !errors.Is(err, net.ErrClosed) {
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

func (s *Server) routes() {
	s.app.Use(sameOriginWrites)
	s.app.Get("/static/*", s.deps.Assets.Handler())
	s.app.Get("/licenses", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Send(dashd.Notices)
	})
	s.apiRoutes()
	s.uiRoutes()
}

func (s *Server) page() ui.Page {
	return ui.Page{Title: s.deps.Title, Version: s.deps.Version, Hostname: s.deps.Hostname, Assets: s.deps.Assets}
}

// sameOriginWrites refuses state-changing requests that did not come from a
// dashd page. Datastar sends Datastar-Request: true; a cross-site form
// cannot set that header without a CORS preflight, which dashd never grants,
// and browsers mark cross-site requests in Sec-Fetch-Site. Without this any
// web page open in a local browser could post to a dashd on 127.0.0.1.
func sameOriginWrites(c *fiber.Ctx) error {
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	if c.Get("Datastar-Request") != "true" {
		return fiber.NewError(fiber.StatusForbidden, "state-changing requests must come from a dashd page (Datastar-Request header missing)")
	}
	switch c.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return fiber.NewError(fiber.StatusForbidden, "cross-site request refused")
	}
	return c.Next()
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
	if code >= 500 {
		s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
		msg = "internal error"
	}
	if len(c.Path()) >= 5 && c.Path()[:5] == "/api/" {
		return c.Status(code).JSON(fiber.Map{"error": msg, "status": code})
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
	return c.Status(code).SendString(msg)
}
