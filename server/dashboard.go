package server

import (
	"bytes"
	"context"
	"strings"

	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/scheduler"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
)

// UIStore is the storage the live pages write to: chat and notification
// read marks. A *storage.DB implements it.
type UIStore interface {
	AddChat(ctx context.Context, m model.ChatMessage) (model.ChatMessage, error)
	ChatLatest(room string, n int) ([]model.ChatMessage, error)
	// ChatRooms lists the rooms that hold messages (chat.max_rooms).
	ChatRooms() ([]string, error)
	MarkNotificationsRead(ctx context.Context, session string, upToID uint64) error
}

var _ UIStore = (*storage.DB)(nil)

// uiRoutes registers the live pages and their streams.
//
// Every page opens exactly one stream, /api/events, whose query names the
// extra room it needs (check=NAME, chat=ROOM); the stream always carries the
// session, so notifications reach every page. Browsers allow six HTTP/1.1
// connections per origin: one stream per tab keeps eight tabs working
// (polls and POSTs share the rest, and end quickly).
func (s *Server) uiRoutes() {
	s.app.Get("/", s.handleDashboard)
	s.app.Get("/api/events", s.handleEvents)
	s.app.Get("/checks/:name", s.handleCheckPage)
	s.app.Get("/api/notifications/connect", s.handleNotificationsConnect)
	s.post("/api/notifications/read", s.handleNotificationsRead)
	s.post("/api/session/name", s.handleSetName)
	s.app.Get("/chat/:room", s.handleChatPage)
	s.app.Get("/chat/:room/connect", s.handleChatConnect)
	s.post("/chat/:room/send", s.handleChatSend)
}

func (s *Server) uiReady() error {
	if s.deps.Scheduler == nil || s.deps.Hub == nil || s.deps.UIStore == nil {
		return errUnavailable("live pages")
	}
	return nil
}

// chrome builds the per-request part of a page header.
func (s *Server) chrome(c *fiber.Ctx, sid, nav, stream string) ui.ChromeView {
	ch := ui.ChromeView{Nav: nav, Stream: stream, DisplayName: s.displayName(c, sid)}
	ch.Status = s.deps.Scheduler.Overall()
	rows, unread, err := s.deps.Scheduler.Notifications(sid)
	if err != nil {
		s.log.Warn("notifications not loaded", "err", err)
	}
	ch.Notifications, ch.Unread = rows, unread
	return ch
}

func (s *Server) handleDashboard(c *fiber.Ctx) error {
	if err := s.uiReady(); err != nil {
		return err
	}
	sid := s.session(c)
	v := s.deps.Scheduler.DashboardView()
	return s.renderPage(c, ui.DashboardPage(s.page(), s.chrome(c, sid, "dashboard", "/api/events"), v))
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
	if err := s.uiReady(); err != nil {
		return err
	}
	sid := s.session(c)
	sched := s.deps.Scheduler
	opts := []hub.ClientOption{hub.WithSession(sid)}
	switch check, room := c.Query("check"), c.Query("chat"); {
	case check != "":
		if !sched.HasCheck(check) {
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
		opts = append(opts, hub.WithRoom(scheduler.CheckRoom(check)), hub.OnConnect(func(send func(...hub.Event)) {
			send(sched.CheckState(context.Background(), check, sig.Range)...)
		}))
	case room != "":
		if err := s.checkRoom(room); err != nil {
			return err
		}
		room = strings.Clone(room)
		opts = append(opts, hub.WithRoom(chatRoom(room)), hub.OnConnect(func(send func(...hub.Event)) {
			send(s.chatState(room)...)
		}))
	default:
		opts = append(opts, hub.WithRoom(scheduler.RoomDashboard), hub.OnConnect(func(send func(...hub.Event)) {
			send(sched.DashboardState(context.Background())...)
		}))
	}
	opts = append(opts, hub.OnConnect(func(send func(...hub.Event)) {
		send(sched.SessionState(context.Background(), sid)...)
		// Last: the page shows "Live" once it has the whole state.
		send(hub.PatchSignals(map[string]bool{"_live": true}))
	}))
	return s.deps.Hub.HandleSSE(c, append(opts, hub.WithAddress(c.IP()))...)
}
