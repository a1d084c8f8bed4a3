package server

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/incident"
	"github.com/dashd/dashd/ui"
)

// incidentForm is the signals of an incident page (and the JSON body a
// script may send instead): the note with its public flag, the
// resolution's summary, the chat message.
type incidentForm struct {
	Note       string `json:"note"`
	NotePublic bool   `json:"notePublic"`
	Summary    string `json:"summary"`
	Message    string `json:"message"`
}

// incidentDo is one thing people do to an incident: it calls the Manager
// and names the signals to clear on success (the input that was sent).
type incidentDo func(ctx context.Context, id uint64, user, addr string, f incidentForm) (clear []string, err error)

// incidentAction wraps what people do to an incident: the id, the form,
// the chat's rate limits for what people write (limited: notes and chat;
// the other acts are bounded by the incident's state), who it is for the audit log (s.actor: the Manager
// records it as an event with the user and address), and the answer: on
// the page, the inputs sent are cleared, or the refusal is shown under
// the form with its status; to a script, 204 or the refusal as text.
// Every refusal says why: 400 bad input, 404 no such incident, 409
// already resolved or the timeline is full, 429 too fast, 503 stopping.
func (s *Server) incidentAction(do incidentDo, limited bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		id, err := incidentID(c)
		if err != nil {
			return err
		}
		var f incidentForm
		if err := hub.ReadSignals(c, &f); err != nil {
			return err
		}
		page := c.Get("Datastar-Request") == "true"
		refuse := func(status int, msg string) error {
			if !page {
				return fiber.NewError(status, msg)
			}
			c.Status(status)
			return hub.SSE(c).Send(hub.PatchComponent(c.UserContext(), ui.IncidentError(msg)))
		}
		sid := s.session(c)
		if limited {
			if wait, problem := s.incidentAllowed(c, sid); problem != "" {
				c.Set(fiber.HeaderRetryAfter, strconv.Itoa(int(math.Ceil(wait.Seconds()))))
				return refuse(fiber.StatusTooManyRequests, problem)
			}
		}
		clear, err := do(c.UserContext(), id, s.actor(c), clientAddr(c).String(), f)
		if err != nil {
			status, msg := incidentStatus(err)
			if status >= 500 {
				s.log.Warn("incident action failed", "incident", id, "path", c.Path(), "err", err)
			}
			return refuse(status, msg)
		}
		if !page {
			return c.SendStatus(fiber.StatusNoContent)
		}
		empty := make(map[string]any, len(clear))
		for _, k := range clear {
			empty[k] = ""
			if k == "notePublic" {
				empty[k] = false
			}
		}
		evs := []hub.Event{hub.PatchComponent(c.UserContext(), ui.IncidentError(""))}
		if len(empty) > 0 {
			evs = append(evs, hub.PatchSignals(empty))
		}
		return hub.SSE(c).Send(evs...)
	}
}

// incidentAllowed applies the chat's rate limits (per address, per
// session) to what people write into a timeline: notes and chat lines.
func (s *Server) incidentAllowed(c *fiber.Ctx, sid string) (wait time.Duration, problem string) {
	bySession, byAddress := s.chat.limiters(s.chatConfig())
	now := time.Now()
	if ok, wait := byAddress.Allow(c.IP(), now); !ok {
		return wait, tooFast(wait)
	}
	if ok, wait := bySession.Allow(sid, now); !ok {
		return wait, tooFast(wait)
	}
	return 0, ""
}

func (s *Server) ackIncident(ctx context.Context, id uint64, user, addr string, _ incidentForm) ([]string, error) {
	return nil, s.deps.Incidents.Ack(ctx, id, user, addr)
}

func (s *Server) noteIncident(ctx context.Context, id uint64, user, addr string, f incidentForm) ([]string, error) {
	return []string{"note", "notePublic"}, s.deps.Incidents.Note(ctx, id, user, addr, f.Note, f.NotePublic)
}

func (s *Server) resolveIncident(ctx context.Context, id uint64, user, addr string, f incidentForm) ([]string, error) {
	return []string{"summary"}, s.deps.Incidents.Resolve(ctx, id, user, addr, f.Summary)
}

func (s *Server) holdIncident(held bool) incidentDo {
	return func(ctx context.Context, id uint64, user, addr string, _ incidentForm) ([]string, error) {
		return nil, s.deps.Incidents.Hold(ctx, id, user, addr, held)
	}
}

// chatIncident posts a line of the incident's chat; the Manager stores it
// and pushes it to everyone on the page (the sender too).
func (s *Server) chatIncident(ctx context.Context, id uint64, user, addr string, f incidentForm) ([]string, error) {
	return []string{"message"}, s.deps.Incidents.Chat(ctx, id, user, addr, f.Message)
}

// incidentStatus maps the Manager's errors to a status and a message for
// people (package incident's errors.go): 500 only for what is a bug.
func incidentStatus(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "incident: ")
	switch {
	case errors.Is(err, incident.ErrNotFound):
		return fiber.StatusNotFound, msg
	case errors.Is(err, incident.ErrBadInput):
		return fiber.StatusBadRequest, msg
	case errors.Is(err, incident.ErrResolved), errors.Is(err, incident.ErrFull):
		return fiber.StatusConflict, msg
	case errors.Is(err, incident.ErrStopped), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fiber.StatusServiceUnavailable, "incidents are not available: dashd is stopping"
	}
	// Anything else is storage failing to read or write: retryable, not
	// the client's doing, and its detail is for the log.
	return fiber.StatusServiceUnavailable, "incidents are not available right now (storage); try again"
}

// incidentError is incidentStatus as a fiber error, for the pages and the
// API; a failure of dashd's own is logged.
func (s *Server) incidentError(err error) error {
	status, msg := incidentStatus(err)
	if status >= 500 {
		s.log.Warn("incidents not read", "err", err)
	}
	return fiber.NewError(status, msg)
}
