package server

import (
	"fmt"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/internal/ratelimit"
)

// chatLimits holds the chat rate limiters. Their rates follow the
// configuration in force (chat.messages_per_minute...), which a reload may
// change; the buckets survive a reload.
type chatLimits struct {
	mu        sync.Mutex
	cfg       config.Chat // the settings the limiters were last set to
	bySession *ratelimit.Limiter
	byAddress *ratelimit.Limiter
}

// maxChatSenders bounds the sessions and addresses tracked at once; beyond
// it new senders wait until old buckets have refilled (see ratelimit).
const maxChatSenders = 10_000

// chatBurst lets a person send a few lines in quick succession.
func chatBurst(perMinute int) int { return min(max(perMinute/4, 3), perMinute) }

func (l *chatLimits) limiters(c config.Chat) (*ratelimit.Limiter, *ratelimit.Limiter) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.bySession == nil {
		l.bySession = ratelimit.New(c.MessagesPerMinute, chatBurst(c.MessagesPerMinute), maxChatSenders)
		l.byAddress = ratelimit.New(c.MessagesPerMinutePerAddress, chatBurst(c.MessagesPerMinutePerAddress), maxChatSenders)
	} else if l.cfg.MessagesPerMinute != c.MessagesPerMinute || l.cfg.MessagesPerMinutePerAddress != c.MessagesPerMinutePerAddress {
		l.bySession.SetRate(c.MessagesPerMinute, chatBurst(c.MessagesPerMinute))
		l.byAddress.SetRate(c.MessagesPerMinutePerAddress, chatBurst(c.MessagesPerMinutePerAddress))
	}
	l.cfg = c
	return l.bySession, l.byAddress
}

// chatAllowed decides whether the session may post to room now. It returns
// a message for the user when not, and how long to wait when waiting helps
// (0 for a room that cannot be used at all).
func (s *Server) chatAllowed(c *fiber.Ctx, sid, room string) (time.Duration, string) {
	cfg := s.chatConfig()
	if !cfg.AllowsRoom(room) {
		return 0, "There is no room #" + room + " here. Rooms: #" + joinRooms(cfg.Rooms) + "."
	}
	now := time.Now()
	bySession, byAddress := s.chat.limiters(cfg)
	if ok, wait := byAddress.Allow(c.IP(), now); !ok {
		return wait, tooFast(wait)
	}
	if ok, wait := bySession.Allow(sid, now); !ok {
		return wait, tooFast(wait)
	}
	if len(cfg.Rooms) == 0 {
		rooms, err := s.deps.Store.ChatRooms()
		if err != nil {
			s.log.Warn("chat rooms not listed", "err", err)
		} else if !slices.Contains(rooms, room) && len(rooms) >= cfg.MaxRooms {
			return 0, "No new rooms can be opened: the limit of " + strconv.Itoa(cfg.MaxRooms) + " rooms is reached (chat.max_rooms)."
		}
	}
	return 0, ""
}

func (s *Server) chatConfig() config.Chat {
	if cfg := s.deps.Latest.Config(); cfg != nil {
		return cfg.Chat
	}
	return config.DefaultChat()
}

func tooFast(wait time.Duration) string {
	return fmt.Sprintf("You are sending messages too fast; wait %d s.", int(wait.Round(time.Second)/time.Second)+1)
}

func joinRooms(rooms []string) string {
	out := ""
	for i, r := range rooms {
		if i > 0 {
			out += ", #"
		}
		out += r
	}
	return out
}
