package server

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/badge"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
)

// badgeMaxAge is the Cache-Control max-age of badges: short, because a badge
// shows live state, yet long enough that a README viewed by many people
// costs one request per proxy per half minute. After it expires a client
// revalidates with If-None-Match and usually gets a bodiless 304.
const badgeMaxAge = 30 * time.Second

// maxLatencyResults bounds the results a latency average decodes: a day of
// a check that runs every second.
const maxLatencyResults = 86_400

// badgeKind names what a badge shows; it is part of the ETag so two kinds
// with the same text never share one.
type badgeKind string

const (
	kindState   badgeKind = "state"
	kindUptime  badgeKind = "uptime"
	kindLatency badgeKind = "latency"
	kindShields badgeKind = "shields"
)

// badgeMaxCacheSeconds caps cacheSeconds=: a day, after which a badge that
// shows live state is stale beyond any use.
const badgeMaxCacheSeconds = 24 * 60 * 60

// maxEcho bounds how much of a refused parameter a message repeats.
const maxEcho = 64

// badgeOptions are the query parameters every badge accepts, the shields.io
// overrides: label=, color=, labelColor=, style= and cacheSeconds=.
type badgeOptions struct {
	label      string
	hasLabel   bool   // label= was given (possibly empty: message only)
	color      string // message colour override, validated; "" for the kind's own
	labelColor string // label colour override, validated; "" for grey
	style      badge.Style
	// cacheSeconds is the max-age asked for with cacheSeconds=, clamped to
	// [badgeMaxAge, badgeMaxCacheSeconds]; 0 when not asked.
	cacheSeconds int
}

// parseBadgeOptions reads the overrides. Anything it cannot honour (an
// unknown style or colour, a cacheSeconds that is not a whole number, an
// overlong label) is a 400 that names the parameter and what it accepts.
func parseBadgeOptions(c *fiber.Ctx) (badgeOptions, error) {
	var o badgeOptions
	args := c.Context().QueryArgs()
	if args.Has("label") {
		o.label, o.hasLabel = string(args.Peek("label")), true
		if len(o.label) > 100 {
			return o, fiber.NewError(fiber.StatusBadRequest, "label: at most 100 bytes")
		}
	}
	for _, p := range []struct {
		name string
		dst  *string
	}{{"color", &o.color}, {"labelColor", &o.labelColor}} {
		if !args.Has(p.name) {
			continue
		}
		v := string(args.Peek(p.name))
		if _, err := badge.ResolveColor(v); err != nil {
			return o, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf(
				"%s: %s is not a colour (use a shields.io name such as brightgreen, hex such as 4c1 or #44cc11, a CSS colour name, rgb() or hsl())",
				p.name, echo(v)))
		}
		*p.dst = v
	}
	st, err := badge.ParseStyle(string(args.Peek("style")))
	if err != nil {
		return o, fiber.NewError(fiber.StatusBadRequest,
			fmt.Sprintf("style: unknown badge style %s (use %s)", echo(string(args.Peek("style"))), badge.StyleNames()))
	}
	o.style = st
	if args.Has("cacheSeconds") {
		if o.cacheSeconds, err = parseCacheSeconds(string(args.Peek("cacheSeconds"))); err != nil {
			return o, err
		}
	}
	return o, nil
}

// parseCacheSeconds reads cacheSeconds= as shields.io does: a whole number
// of seconds that can ask for more caching than the default but never less
// (so 0 means the default, not "no cache"), capped at badgeMaxCacheSeconds.
func parseCacheSeconds(v string) (int, error) {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return 0, fiber.NewError(fiber.StatusBadRequest,
			fmt.Sprintf("cacheSeconds: %s is not a whole number of seconds", echo(v)))
	}
	n, err := strconv.Atoi(v)
	if err != nil || n > badgeMaxCacheSeconds { // only digits: err is overflow
		n = badgeMaxCacheSeconds
	}
	return max(n, int(badgeMaxAge.Seconds())), nil
}

// maxAge is the Cache-Control max-age of a badge drawn with o.
func (o badgeOptions) maxAge() int {
	if o.cacheSeconds > 0 {
		return o.cacheSeconds
	}
	return int(badgeMaxAge.Seconds())
}

// echo quotes a refused value for a message, cut to maxEcho bytes.
func echo(v string) string {
	if len(v) > maxEcho {
		return strconv.Quote(v[:maxEcho]) + "..."
	}
	return strconv.Quote(v)
}

// labelOr is the label to draw: the requested one, else def.
func (o badgeOptions) labelOr(def string) string {
	if o.hasLabel {
		return o.label
	}
	return def
}

// apply sets o's colour overrides and style on b.
func (o badgeOptions) apply(b badge.Badge) badge.Badge {
	if o.color != "" {
		b.Color = o.color
	}
	if o.labelColor != "" {
		b.LabelColor = o.labelColor
	}
	b.Style = o.style
	return b
}

// badgeCheck resolves the check of a badge route. A check that does not
// exist and one with badge: false look exactly the same from outside (ok
// false, name as requested): badges are public, so they must not reveal that
// a hidden check exists.
func (s *Server) badgeCheck(c *fiber.Ctx) (st collectors.Status, name string, ok bool, err error) {
	name, err = pathParam(c, "check")
	if err != nil {
		return st, name, false, err
	}
	st, ok = s.deps.Checks.Status(name)
	if !ok || !st.Badge {
		return collectors.Status{}, name, false, nil
	}
	return st, name, true, nil
}

// handleStateBadge serves /badge/{check}.svg: the check's state.
func (s *Server) handleStateBadge(c *fiber.Ctx) error {
	return s.serveBadge(c, string(kindState), c.Query("window"), false)
}

// handleUptimeBadge serves /badge/{check}/uptime/{window}.svg: the share of
// known results in the window that were up or degraded (the service
// answered), the same figure as the API's uptime.
func (s *Server) handleUptimeBadge(c *fiber.Ctx) error {
	return s.serveBadge(c, string(kindUptime), c.Params("window"), false)
}

// handleLatencyBadge serves /badge/{check}/latency.svg: the latency of the
// latest run, or with window= (window.Latency) the average over the
// window's results.
func (s *Server) handleLatencyBadge(c *fiber.Ctx) error {
	return s.serveBadge(c, string(kindLatency), c.Query("window"), false)
}

// averageLatency averages the latency of check's results with a known state
// over the window ending now; -1 when there are none.
//
// The figure is cached for badgeMaxAge (the badges' own max-age): a public
// badge polled by many readers must not decode a day of results per hit.
func (s *Server) averageLatency(check string, window time.Duration) (time.Duration, error) {
	now := s.now()
	key := latencyKey{check, window}
	s.latMu.Lock()
	if e, ok := s.latCache[key]; ok && now.Sub(e.at) >= 0 && now.Sub(e.at) < badgeMaxAge {
		s.latMu.Unlock()
		return e.d, nil
	}
	s.latMu.Unlock()
	d, err := s.computeAverageLatency(check, window, now)
	if err != nil {
		return 0, err
	}
	s.latMu.Lock()
	if s.latCache == nil || len(s.latCache) > 10_000 {
		s.latCache = map[latencyKey]latencyEntry{}
	}
	s.latCache[key] = latencyEntry{d: d, at: now}
	s.latMu.Unlock()
	return d, nil
}

type latencyKey struct {
	check  string
	window time.Duration
}

type latencyEntry struct {
	d  time.Duration
	at time.Time
}

func (s *Server) computeAverageLatency(check string, window time.Duration, now time.Time) (time.Duration, error) {
	rs, err := s.deps.Store.Results(check, now.Add(-window), now, maxLatencyResults)
	if err != nil {
		return 0, err
	}
	var sum float64
	var n int
	for _, r := range rs {
		if r.State == model.StateUnknown {
			continue
		}
		sum += float64(r.Latency)
		n++
	}
	if n == 0 {
		return -1, nil
	}
	return time.Duration(math.Round(sum / float64(n))), nil
}

// handleShieldsJSON serves /badge/{check}/shields.json, the shields.io
// endpoint-badge JSON of the same badges as the SVG routes: kind=state
// (default), kind=uptime&window=... (default 24h) or kind=latency with an
// optional window=, resolved exactly as the SVG routes resolve them.
//
// Refusals keep their status (400, 404) but answer in the endpoint schema
// with isError, so whatever reads the JSON gets a badge-shaped answer whose
// message is the refusal's text.
func (s *Server) handleShieldsJSON(c *fiber.Ctx) error {
	err := s.serveBadge(c, c.Query("kind"), c.Query("window"), true)
	var fe *fiber.Error
	if err == nil || !errors.As(err, &fe) || fe.Code >= 500 {
		return err
	}
	name, perr := pathParam(c, "check")
	if perr != nil {
		name = c.Params("check")
	}
	style, _ := badge.ParseStyle(c.Query("style"))
	return sendShieldsError(c, fe.Code, badge.Badge{Label: name, Message: fe.Message, Style: style})
}

// sendShieldsError answers status with b as an endpoint-schema error:
// isError, lightgrey whatever the URL asked for (shields.io likewise ignores
// colour overrides on errors), and a short max-age.
func sendShieldsError(c *fiber.Ctx, status int, b badge.Badge) error {
	b.Color, b.LabelColor = badge.ColorLightGrey, ""
	body, err := badge.ShieldsJSONWith(b, badge.ShieldsOptions{IsError: true})
	if err != nil {
		return internal(fmt.Errorf("server: render shields error %d: %w", status, err))
	}
	c.Type("json", "utf-8")
	// A check may be added by a reload any moment: cache refusals only briefly.
	c.Set(fiber.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(badgeMaxAge.Seconds())))
	return c.Status(status).Send(body)
}

// sendMissingBadge answers 404 with a grey "not found" badge (or its shields
// JSON, with isError), labelled with the requested name: it tells nothing
// the requester did not already know. Only label and style apply: like
// shields.io's error badges it keeps its colour, and like every refusal it
// is cached only briefly whatever cacheSeconds asks.
func (s *Server) sendMissingBadge(c *fiber.Ctx, o badgeOptions, name string, shields bool) error {
	b := badge.Badge{Label: o.labelOr(name), Message: "not found", Color: badge.ColorLightGrey, Style: o.style}
	if shields {
		return sendShieldsError(c, fiber.StatusNotFound, b)
	}
	body, err := badge.Render(b)
	if err != nil {
		return internal(fmt.Errorf("server: render not-found badge: %w", err))
	}
	setSVGHeaders(c)
	c.Set(fiber.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(badgeMaxAge.Seconds())))
	return c.Status(fiber.StatusNotFound).Send(body)
}

func setSVGHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentType, "image/svg+xml; charset=utf-8")
	// The label comes from the URL: the badge package escapes it, and this
	// keeps a badge opened on its own from running anything even if it did not.
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
}

// badgeETag hashes everything that decides a badge's bytes and headers (the
// kind, the text, both colours as asked, the style and the max-age), so a
// 304 is answered without rendering. Each field is length-prefixed, so no
// two different badges hash the same input.
func badgeETag(kind badgeKind, b badge.Badge, maxAge int) string {
	h := fnv.New64a()
	var n [8]byte
	for _, s := range []string{string(kind), b.Label, b.Message, b.Color, b.LabelColor, b.Style.String(), strconv.Itoa(maxAge)} {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	return `"b` + strconv.FormatUint(h.Sum64(), 36) + `"`
}

// etagMatches implements If-None-Match's weak comparison over a list of
// entity tags ("*" matches anything).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}

// sendBadge answers with the badge (SVG, or shields JSON for kindShields),
// its ETag and max-age (o's cacheSeconds, else badgeMaxAge), or a bodiless
// 304 when the client's If-None-Match already names this badge.
func (s *Server) sendBadge(c *fiber.Ctx, kind badgeKind, b badge.Badge, o badgeOptions) error {
	etag := badgeETag(kind, b, o.maxAge())
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "public, max-age="+strconv.Itoa(o.maxAge()))
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	var body []byte
	var err error
	if kind == kindShields {
		body, err = badge.ShieldsJSONWith(b, badge.ShieldsOptions{CacheSeconds: o.cacheSeconds})
		c.Type("json", "utf-8")
	} else {
		body, err = badge.Render(b)
		setSVGHeaders(c)
	}
	if err != nil {
		return internal(fmt.Errorf("server: render %s badge: %w", kind, err))
	}
	return c.Send(body)
}
