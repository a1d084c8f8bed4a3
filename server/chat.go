package server

import (
	"context"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// Chat limits.
const (
	// MaxChatMessage is the longest chat message, in characters (the
	// rule is model.CleanChatText's, shared with the other hubs' chat).
	MaxChatMessage = model.MaxChatText
	// ChatHistory is how many messages a joining page loads.
	ChatHistory = 100
)

const badRoom = config.ChatRoomRule

func validRoom(r string) bool { return config.ValidChatRoom(r) }

func (s *Server) chatRows(msgs []model.ChatMessage) []ui.ChatRow {
	now := time.Now()
	rows := make([]ui.ChatRow, 0, len(msgs))
	for _, m := range msgs {
		rows = append(rows, chatRow(m, now))
	}
	return rows
}

func chatRow(m model.ChatMessage, now time.Time) ui.ChatRow { return view.ChatRow(m, now) }

// chatState is what a joining chat stream gets: the last messages.
func (s *Server) chatState(room string) []hub.Event {
	msgs, err := s.deps.Store.ChatLatest(room, ChatHistory)
	if err != nil {
		s.log.Warn("chat history not loaded", "room", room, "err", err)
		return nil
	}
	return []hub.Event{hub.PatchComponent(context.Background(), ui.ChatLog(s.chatRows(msgs)))}
}

func (s *Server) roomParam(c *fiber.Ctx) (string, error) {
	room, err := url.PathUnescape(c.Params("room"))
	if err != nil {
		return "", fiber.NewError(fiber.StatusBadRequest, badRoom)
	}
	if err := s.checkRoom(room); err != nil {
		return "", err
	}
	return strings.Clone(room), nil
}

// checkRoom refuses a malformed room name (400) and, when chat.rooms lists
// the rooms, any other (404).
func (s *Server) checkRoom(room string) error {
	if !validRoom(room) {
		return fiber.NewError(fiber.StatusBadRequest, badRoom)
	}
	if cfg := s.chatConfig(); !cfg.AllowsRoom(room) {
		return fiber.NewError(fiber.StatusNotFound, "no chat room #"+room+" (chat.rooms lists #"+joinRooms(cfg.Rooms)+")")
	}
	return nil
}

// handleChatPage serves /chat/{room}.
func (s *Server) handleChatPage(c *fiber.Ctx) error {
	room, err := s.roomParam(c)
	if err != nil {
		return err
	}
	msgs, err := s.deps.Store.ChatLatest(room, ChatHistory)
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	v := ui.ChatView{Room: room, Messages: s.chatRows(msgs), MaxLen: MaxChatMessage}
	ch := s.chrome(c, sid, "chat", "/api/events?chat="+room)
	ch.Heading = "#" + room
	return s.renderPage(c, ui.ChatPage(s.page(), ch, v))
}

// handleChatConnect is a stream of one chat room (and the session), for
// tools that want only that feed; the chat page uses /api/events?chat=.
func (s *Server) handleChatConnect(c *fiber.Ctx) error {
	room, err := s.roomParam(c)
	if err != nil {
		return err
	}
	sid := s.session(c)
	return s.deps.Hub.HandleSSE(c, hub.WithAddress(c.IP()), hub.WithRoom(view.ChatRoom(room)), hub.WithSession(sid),
		hub.OnConnect(func(send func(...hub.Event)) { send(s.chatState(room)...) }))
}

// handleChatSend reads the message signal, stores the message, broadcasts it
// to the room and clears the sender's input. A message that breaks the
// limits is answered with an error shown under the input (and the input is
// kept so nothing typed is lost).
func (s *Server) handleChatSend(c *fiber.Ctx) error {
	room, err := s.roomParam(c)
	if err != nil {
		return err
	}
	sid := s.session(c)
	var sig struct {
		Message string `json:"message"`
	}
	if err := hub.ReadSignals(c, &sig); err != nil {
		return err
	}
	w := hub.SSE(c)
	if wait, problem := s.chatAllowed(c, sid, room); problem != "" {
		// 429/404 with the reason under the input: the client shows the
		// fragment of an error answer too, and the typed text stays.
		status := fiber.StatusTooManyRequests
		if wait > 0 {
			c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		} else {
			status = fiber.StatusForbidden
		}
		c.Status(status)
		return w.Send(hub.PatchComponent(c.UserContext(), ui.ChatError(problem)))
	}
	text, problem := model.CleanChatText(sig.Message)
	if problem != "" {
		return w.Send(hub.PatchComponent(c.UserContext(), ui.ChatError(problem)))
	}
	m, err := s.deps.Store.AddChat(c.UserContext(), model.ChatMessage{
		Room: room, Author: s.displayName(c, sid), Text: text, Time: time.Now(),
	})
	if err != nil {
		return internal(err)
	}
	s.deps.Hub.BroadcastToRoom(view.ChatRoom(room), view.ChatAppend(c.UserContext(), m, time.Now()))
	return w.Send(
		hub.PatchSignals(map[string]string{"message": ""}),
		hub.PatchComponent(c.UserContext(), ui.ChatError("")),
	)
}
