package server

import (
	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/view"
)

// handleNotificationsConnect is a stream of the session's notifications
// only, for pages and tools that want just that feed.
func (s *Server) handleNotificationsConnect(c *fiber.Ctx) error {
	sid := s.session(c)
	return s.deps.Hub.HandleSSE(c, hub.WithAddress(c.IP()), hub.WithSession(sid), hub.OnConnect(func(send func(...hub.Event)) {
		send(s.sessionState(sid)...)
	}))
}

// handleNotificationsRead marks every notification read for the session and
// updates all of its tabs.
func (s *Server) handleNotificationsRead(c *fiber.Ctx) error {
	sid := s.session(c)
	if err := s.deps.Store.MarkNotificationsRead(c.UserContext(), sid, 0); err != nil {
		return internal(err)
	}
	rows, unread, err := view.Notifications(s.deps.Store, sid, s.now())
	if err != nil {
		return internal(err)
	}
	evs := view.SessionState(c.UserContext(), rows, unread)
	s.deps.Hub.SendToSession(sid, evs...)
	return hub.SSE(c).Send(evs...)
}
