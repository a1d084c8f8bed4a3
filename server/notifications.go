package server

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
)

// handleNotificationsConnect is a stream of the session's notifications
// only, for pages and tools that want just that feed.
func (s *Server) handleNotificationsConnect(c *fiber.Ctx) error {
	if err := s.uiReady(); err != nil {
		return err
	}
	sid := s.session(c)
	return s.deps.Hub.HandleSSE(c, hub.WithAddress(c.IP()), hub.WithSession(sid), hub.OnConnect(func(send func(...hub.Event)) {
		send(s.deps.Scheduler.SessionState(context.Background(), sid)...)
	}))
}

// handleNotificationsRead marks every notification read for the session and
// updates all of its tabs.
func (s *Server) handleNotificationsRead(c *fiber.Ctx) error {
	if err := s.uiReady(); err != nil {
		return err
	}
	sid := s.session(c)
	if err := s.deps.UIStore.MarkNotificationsRead(c.UserContext(), sid, 0); err != nil {
		return internal(err)
	}
	rows, unread, err := s.deps.Scheduler.Notifications(sid)
	if err != nil {
		return internal(err)
	}
	evs := []hub.Event{
		hub.PatchComponent(c.UserContext(), ui.NotificationList(rows)),
		hub.PatchSignals(map[string]int{"unreadCount": unread}),
	}
	s.deps.Hub.SendToSession(sid, evs...)
	return hub.SSE(c).Send(evs...)
}
