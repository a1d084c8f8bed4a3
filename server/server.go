// Package server is dashd's HTTP face: a fiber v2 app with the dashboard pages,
// the Datastar SSE endpoints, polling endpoints, badges, the JSON API and
// metrics. Handlers read from the parts given in Deps and never write to
// collectors directly: requests come back into dashd only through here.
package server

import (
	"context"
	"crypto/tls"
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

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/internal/connlimit"
	"github.com/dashd/dashd/internal/ratelimit"
	"github.com/dashd/dashd/metrics"
	"github.com/dashd/dashd/model"
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
	Latest *state.Latest // host snapshot, config in force, rejected reloads
	Checks checkSource   // live check state: a *collectors.Runner
	Store  Store         // history, chat, notifications: a *storage.DB
	Hub    *hub.Hub      // the live streams
	Sparks *view.Sparks  // the stat cards' sparklines
	Flow   Flow          // the flow: its subscribers for /metrics, and the audit log
	Alerts Alerting      // the alerter: alerts page and API
	Auth   *auth.Service // who is who: sessions, users, tokens, the proxy, OIDC
	// Incidents opens and follows incidents: their pages, API, the status
	// page (an *incident.Manager).
	Incidents Incidents
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
	// TLS, when set, serves HTTPS on the listener (its GetCertificate
	// picks up renewed certificates) and sends HSTS; nil serves HTTP.
	TLS *tls.Config
	// TrustedProxies are reverse proxies besides loopback whose
	// X-Forwarded-For and X-Forwarded-Proto are believed (the trusted
	// proxy header mode's auth.proxy.trusted), fixed at start.
	TrustedProxies []netip.Prefix
	// MetricsTextfileDir is metrics.textfile_directory: *.prom files
	// merged into /metrics at scrape time ("" is off).
	MetricsTextfileDir string
}

func proxyList(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}

// Server owns the fiber app.
type Server struct {
	deps Deps
	app  *fiber.App
	log  *slog.Logger

	hosts   hostPolicy
	metrics fiber.Handler
	chat    chatLimits
	// failedAudits bounds the audit events of failed OIDC callbacks per
	// client address: anyone can start a flow, so anyone could otherwise
	// fill the history with failures.
	failedAudits *ratelimit.Limiter
	// ln is the connection-limiting listener Serve wraps around its
	// listener; set once, before serving (metrics read its counters).
	lnMu    sync.Mutex
	ln      *connlimit.Listener
	stopped bool // Shutdown was called

	// latMu guards latCache, the averaged latencies behind latency badges.
	latMu    sync.Mutex
	latCache map[latencyKey]latencyEntry
}

// Flow is the flow of events (a *flow.Recorder): what people do is recorded
// through it (sign-ins, silences), and /metrics reads its subscribers.
type Flow interface {
	metrics.FlowSource
	Event(e model.Event)
}

// trustedProxies are the reverse proxies whose X-Forwarded-* headers are
// believed: one on this machine, and the configured ones of the trusted
// proxy header mode. They are also exempt from the per-address connection
// cap (they carry many users).
func (d Deps) trustedProxies() []netip.Prefix {
	out := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32"), netip.MustParsePrefix("::1/128")}
	return append(out, d.TrustedProxies...)
}

// New builds the app and its routes, or says which required part is
// missing.
func New(deps Deps) (*Server, error) {
	var missing []string
	for _, p := range []struct {
		name string
		nil  bool
	}{{"Assets", deps.Assets == nil}, {"Latest", deps.Latest == nil}, {"Checks", deps.Checks == nil},
		{"Store", deps.Store == nil}, {"Hub", deps.Hub == nil}, {"Sparks", deps.Sparks == nil}, {"Flow", deps.Flow == nil}, {"Alerts", deps.Alerts == nil}, {"Auth", deps.Auth == nil}, {"Incidents", deps.Incidents == nil}} {
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
	s := &Server{deps: deps, log: deps.Logger, failedAudits: ratelimit.New(10, 10, 4096)}
	s.hosts = newHostPolicy(deps.Listen, deps.Hostname, deps.AllowedHosts)
	m, err := metrics.New(metrics.Sources{Host: deps.Latest, Checks: deps.Checks, Hub: deps.Hub, Storage: deps.Store, Flow: deps.Flow, Alerts: deps.Alerts,
		Listener: s.listenerStats, Version: deps.Version, TextfileDirectory: deps.MetricsTextfileDir, Logger: deps.Logger.With("part", "metrics")})
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
		// from a reverse proxy on this machine or a configured one.
		// The client address (per-address stream caps, logs) is the
		// X-Forwarded-For of a trusted proxy, validated.
		EnableTrustedProxyCheck: true,
		TrustedProxies:          proxyList(deps.trustedProxies()),
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
	lim.Exempt = append(lim.Exempt, s.deps.trustedProxies()...)
	cl := connlimit.New(ln, lim, s.log)
	s.lnMu.Lock()
	if s.stopped {
		// Shutdown came first (a stop during start-up): serving now
		// would never end.
		s.lnMu.Unlock()
		return cl.Close()
	}
	s.ln = cl
	s.lnMu.Unlock()
	// The connection caps count TCP connections, before any handshake
	// work is spent on them.
	var serve net.Listener = cl
	if s.deps.TLS != nil {
		serve = tls.NewListener(cl, s.deps.TLS)
	}
	if err := s.app.Listener(serve); err != nil && !errors.Is(err, net.ErrClosed) {
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
	s.lnMu.Lock()
	s.stopped = true
	ln := s.ln
	s.lnMu.Unlock()
	err := s.app.ShutdownWithTimeout(timeout)
	if ln != nil {
		// fasthttp closes only listeners its Serve has registered; one
		// handed over just before Shutdown would keep accepting.
		_ = ln.Close() // usually closed already
	}
	if err != nil {
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
	s.app.Use(s.guardHost, refuseEncodedBodies, s.securityHeaders, s.identify)
	s.app.Get("/static/*", s.deps.Assets.Handler())
	s.app.Get("/licenses", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextPlainCharsetUTF8)
		return c.Send(dashd.Notices)
	})
	s.loginRoutes()
	s.apiRoutes()
	s.uiRoutes()
	s.alertRoutes()
	s.auditRoutes()
	s.runCheckRoutes()
	s.historyRoutes()
	s.hostRoutes()
	s.incidentRoutes()
	s.statusRoutes()
}

func (s *Server) page() ui.Page {
	return ui.Page{Title: s.deps.Title, Version: s.deps.Version, Hostname: s.deps.Hostname, Assets: s.deps.Assets}
}

// post registers a state-changing route behind sameOriginWrites.
// The principal must be able to take action.
func (s *Server) post(path string, action auth.Action, h fiber.Handler) {
	s.app.Post(path, sameOriginWrites, s.allow("", action), h)
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
// a plain form either; nor is a request carrying a Bearer token.
func sameOriginWrites(c *fiber.Ctx) error {
	json := strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON)
	// A browser never adds an Authorization header of its own to a
	// cross-site request: a Bearer token is proof enough.
	bearer := strings.HasPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if c.Get("Datastar-Request") != "true" && !json && !bearer && c.Method() == fiber.MethodPost {
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
	// The Date line refreshes until the last response of the shutdown
	// below has gone out.
	takeDateLine()
	dctx, stopDate := context.WithCancel(context.Background())
	dateDone := make(chan struct{})
	go func() { defer close(dateDone); dateOnGrid(dctx) }()
	defer func() { stopDate(); <-dateDone }()
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
