package hub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
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
// The body is read as sent, never decompressed: fiber's c.Body() inflates
// gzip, deflate and br, stacked too, with no bound (the body limit applies to
// the compressed bytes, so a 2 KB request can inflate to gigabytes). The
// Datastar client never compresses, so a body with a Content-Encoding other
// than identity is refused with 415 (Unsupported Media Type) and an
// Accept-Encoding: identity header, before any of it is read.
//
// Every refusal is a *fiber.Error with a message that says what was wrong;
// returning it from a handler makes fiber answer with its status: 415 for a
// compressed body, 413 for a payload over MaxSignalsSize, 400 for malformed
// JSON or JSON that does not fit v.
func ReadSignals(c *fiber.Ctx, v any) error {
	var raw []byte
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead:
		raw = c.Context().QueryArgs().Peek("datastar")
	default:
		if enc := contentEncoding(&c.Request().Header); enc != "" {
			c.Set(fiber.HeaderAcceptEncoding, "identity")
			return fiber.NewError(fiber.StatusUnsupportedMediaType,
				fmt.Sprintf("hub: signals must be sent uncompressed; Content-Encoding %q is not accepted", enc))
		}
		var err error
		if raw, err = rawBody(c.Request()); err != nil {
			return err
		}
	}
	if len(raw) == 0 {
		return nil
	}
	if len(raw) > MaxSignalsSize {
		return fiber.NewError(fiber.StatusRequestEntityTooLarge,
			fmt.Sprintf("hub: signals too large: %d bytes, limit %d", len(raw), MaxSignalsSize))
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "hub: malformed signals JSON: "+err.Error())
	}
	return nil
}

// rawBody returns the request body as sent: c.Body() would decompress it.
// A streamed body (fiber's StreamRequestBody, where the body limit does not
// apply) is read only up to one byte over MaxSignalsSize, enough to refuse
// it; fasthttp's Body() would read all of it into memory.
func rawBody(req *fasthttp.Request) ([]byte, error) {
	if !req.IsBodyStream() {
		return req.Body(), nil
	}
	b, err := io.ReadAll(io.LimitReader(req.BodyStream(), MaxSignalsSize+1))
	if err != nil {
		return nil, fiber.NewError(fiber.StatusBadRequest, "hub: reading signals: "+err.Error())
	}
	return b, nil
}

// contentEncoding returns the request's content codings other than
// identity, as sent (bounded for the message), or "" when the body is sent
// as is. Every Content-Encoding header line counts, each a comma-separated
// list (fiber's decoder reads the last line; refusing any is safer than
// guessing which one a decoder would use).
func contentEncoding(h *fasthttp.RequestHeader) string {
	var found []byte
	for k, v := range h.All() {
		if !bytes.EqualFold(k, []byte(fiber.HeaderContentEncoding)) {
			continue
		}
		for tok := range bytes.SplitSeq(v, []byte(",")) {
			tok = bytes.TrimSpace(tok)
			if len(tok) == 0 || bytes.EqualFold(tok, []byte("identity")) {
				continue
			}
			if len(found) > 0 {
				found = append(found, ", "...)
			}
			found = append(found, tok...)
		}
	}
	const maxShown = 64
	if len(found) > maxShown {
		found = append(found[:maxShown], "..."...)
	}
	return string(found)
}
