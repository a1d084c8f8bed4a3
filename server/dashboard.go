package server

import (
	"bytes"
	"context"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/selfstat"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// uiRoutes registers the live pages and their streams.
//
// Every page opens exactly one stream, /api/events, whose query names the
// extra room it needs (check=NAME, chat=ROOM); the stream always carries the
// session, so notifications reach every page. Browsers allow six HTTP/1.1
// connections per origin: one stream per tab keeps eight tabs working
// (polls and POSTs share the rest, and end quickly).
func (s *Server) uiRoutes() {
	view := s.allow("", auth.View)
	s.app.Get("/", view, s.handleDashboard)
	s.app.Get("/api/events", view, s.handleEvents)
	s.app.Get("/checks/:name", view, s.handleCheckPage)
	s.app.Get("/api/notifications/connect", view, s.handleNotificationsConnect)
	s.post("/api/notifications/read", auth.View, s.handleNotificationsRead)
	s.post("/api/session/name", auth.View, s.handleSetName)
	s.app.Get("/chat/:room", view, s.handleChatPage)
	s.app.Get("/chat/:room/connect", view, s.handleChatConnect)
	s.post("/chat/:room/send", auth.Chat, s.handleChatSend)
}

// chrome builds the per-request part of a page header.
func (s *Server) chrome(c *fiber.Ctx, sid, nav, stream string) ui.ChromeView {
	ch := ui.ChromeView{Nav: nav, Stream: stream, DisplayName: s.displayName(c, sid)}
	p := principal(c)
	if p.Via != auth.ViaNone {
		ch.User, ch.Role = p.Name, p.Role
	}
	ch.CanChat, ch.CanSilence, ch.CanRun, ch.CanAdmin = p.Can(auth.Chat), p.Can(auth.Silence), p.Can(auth.RunCheck), p.Can(auth.Admin)
	if cfg := s.deps.Latest.Config(); cfg != nil {
		ch.Unprotected = cfg.Auth.Mode == config.AuthNone && !config.IsLoopbackListen(cfg.Server.Listen)
	}
	ch.Status = view.Overall(s.deps.Checks.Statuses())
	rows, unread, err := view.Notifications(s.deps.Store, sid, s.now())
	if err != nil {
		s.log.Warn("notifications not loaded", "err", err)
	}
	ch.Notifications, ch.Unread = rows, unread
	return ch
}

// handleDashboard serves /: the fleet overview on a hub with agents
// (server/fleet.go), this host's dashboard otherwise.
func (s *Server) handleDashboard(c *fiber.Ctx) error {
	if f := s.fleet(); f != nil && s.isFleet() {
		return s.handleFleetOverview(c, f)
	}
	return s.handleLocalDashboard(c)
}

// handleLocalDashboard is this host's dashboard (/ of a single host,
// /hosts/{this host} of a hub).
func (s *Server) handleLocalDashboard(c *fiber.Ctx) error {
	sid := s.session(c)
	v := s.dashboardView()
	// The stream's first connect leaves out what this render shows already
	// (issue #19: the first load's weight); its reconnects get everything.
	have := s.deps.Hub.Remember(append(view.DashboardState(c.UserContext(), v), s.sessionState(sid)...)...)
	ch := s.chrome(c, sid, "dashboard", "/api/events?have="+have)
	ch.StatusLive = true // the dashboard room patches the badge
	return s.renderPage(c, ui.DashboardPage(s.page(), ch, v))
}

// renderPage renders a full page, gzipped when the client accepts it (pages
// are 10-30 KB of repetitive HTML).
func (s *Server) renderPage(c *fiber.Ctx, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.UserContext(), &buf); err != nil {
		return internal(err)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(fasthttp.AppendGzipBytesLevel(nil, buf.Bytes(), fasthttp.CompressDefaultCompression))
	}
	return c.Send(buf.Bytes())
}

// handleEvents is the single stream of a page: room "dashboard" by default,
// the check's room with ?check=NAME, the chat room with ?chat=ROOM; always
// the session. Each (re)connect starts with the full current state.
func (s *Server) handleEvents(c *fiber.Ctx) error {
	sid := s.session(c)
	opts := []hub.ClientOption{hub.WithSession(sid)}
	switch check, room := c.Query("check"), c.Query("chat"); {
	case c.Query("page") == "alerts":
		opts = append(opts, hub.WithRoom(view.RoomAlerts), hub.OnConnect(func(send func(...hub.Event)) {
			send(s.alertsState()...)
		}))
	case check != "":
		if _, ok := s.deps.Checks.Status(check); !ok {
			return fiber.NewError(fiber.StatusNotFound, "no check named "+check)
		}
		check = strings.Clone(check)
		var sig struct {
			Range string `json:"range"`
		}
		if err := hub.ReadSignals(c, &sig); err != nil {
			return err
		}
		if err := checkRange(sig.Range); err != nil {
			return err
		}
		opts = append(opts, hub.WithRoom(view.CheckRoom(check)), hub.OnConnect(func(send func(...hub.Event)) {
			v, err := s.checkPage(check, sig.Range)
			if err != nil {
				s.log.Warn("check state", "check", check, "err", err)
				return
			}
			send(view.CheckState(context.Background(), v)...)
		}))
	case room != "":
		if err := s.checkRoom(room); err != nil {
			return err
		}
		room = strings.Clone(room)
		opts = append(opts, hub.WithRoom(view.ChatRoom(room)), hub.OnConnect(func(send func(...hub.Event)) {
			send(s.chatState(room)...)
		}))
	default:
		opts = append(opts, hub.WithRoom(view.RoomDashboard), hub.WithRendered(c.Query("have")), hub.OnConnect(func(send func(...hub.Event)) {
			send(view.DashboardState(context.Background(), s.dashboardView())...)
		}))
	}
	opts = append(opts, hub.OnConnect(func(send func(...hub.Event)) {
		send(s.sessionState(sid)...)
		// Last: the page shows "Live" once it has the whole state.
		send(hub.PatchSignals(map[string]bool{"_live": true}))
	}))
	return s.deps.Hub.HandleSSE(c, append(opts, hub.WithAddress(c.IP()))...)
}

// dashboardView builds the dashboard from the latest state, as the
// scheduler does for its broadcasts.
func (s *Server) dashboardView() ui.DashboardView {
	snap, _ := s.deps.Latest.System()
	var self *selfstat.Footprint
	if f, ok := s.deps.Latest.Self(); ok {
		self = &f
	}
	evs, err := s.deps.Store.Events(0, view.RecentEvents)
	if err != nil {
		s.log.Warn("recent events not loaded", "err", err)
	}
	rejected, _ := s.deps.Latest.Rejected()
	sts := s.deps.Checks.Statuses()
	beats, err := view.Heartbeats(s.deps.Store, sts)
	if err != nil {
		s.log.Warn("heartbeat strips not loaded", "err", err)
	}
	return view.Dashboard(view.DashboardInput{
		Snapshot: snap,
		Stats:    s.deps.Sparks.Cards(snap, self),
		Statuses: sts,
		Held:     s.deps.Alerts.Held(),
		Beats:    beats,
		Events:   evs,
		Rejected: rejected,
		Storage:  s.deps.Store.WriteHealth(),
		// The banner of open incidents (the Manager keeps it live).
		Incidents: s.deps.Incidents.Open(),
		Version:   s.deps.Version,
		Now:       s.now(),
	})
}

// sessionState is what a session's stream gets on connect: its
// notifications and unread count.
func (s *Server) sessionState(sid string) []hub.Event {
	rows, unread, err := view.Notifications(s.deps.Store, sid, s.now())
	if err != nil {
		s.log.Warn("notifications not loaded", "err", err)
		return nil
	}
	return view.SessionState(context.Background(), rows, unread)
}
