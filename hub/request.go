package hub

import (
	"encoding/json"
	"fmt"

	"github.com/gofiber/fiber/v2"
)

// MaxSignalsSize is the largest signals payload ReadSignals accepts, in
// bytes. dashd's signals are form fields and flags; anything near this is a
// bug or abuse.
const MaxSignalsSize = 64 << 10

// Writer answers one request with Datastar events: a POST that replies with
// patches, say. It buffers into the response, which goes out, complete, when
// the handler returns; the client then sees a clean end and does not retry.
// For a long-lived stream use Hub.HandleSSE.
type Writer struct {
	c *fiber.Ctx
}

// SSE makes the response a text/event-stream and returns a Writer for it.
// The Writer is valid only during the handler, like c.
func SSE(c *fiber.Ctx) *Writer {
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return &Writer{c: c}
}

// Send appends the events to the response. Events that carry an error are
// left out and their errors returned (joined); the others are still sent.
func (w *Writer) Send(events ...Event) error {
	b, _, err := encodeEvents(nil, events)
	w.c.Response().AppendBody(b)
	return err
}

// ReadSignals decodes the signals the Datastar client sent into v (a pointer,
// as for json.Unmarshal): from the "datastar" query parameter on GET and
// HEAD, from the JSON body on other methods. Nothing sent leaves v alone and
// returns nil.
//
// On malformed JSON, JSON that does not fit v, or a payload over
// MaxSignalsSize it returns a *fiber.Error with status 400 and a message that
// says what was wrong; returning it from a handler makes fiber answer 400.
func ReadSignals(c *fiber.Ctx, v any) error {
	var raw []byte
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead:
		raw = c.Context().QueryArgs().Peek("datastar")
	default:
		raw = c.Body()
	}
	if len(raw) == 0 {
		return nil
	}
	if len(raw) > MaxSignalsSize {
		return fiber.NewError(fiber.StatusBadRequest,
			fmt.Sprintf("hub: signals too large: %d bytes, limit %d", len(raw), MaxSignalsSize))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "hub: malformed signals JSON: "+err.Error())
	}
	return nil
}
