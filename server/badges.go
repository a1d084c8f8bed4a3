package server

import (
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

// badgeOptions are the query parameters every badge accepts.
type badgeOptions struct {
	label    string
	hasLabel bool // label= was given (possibly empty: message only)
	style    badge.Style
}

// parseBadgeOptions reads label= and style=. An unknown style is a 400 with
// the accepted names.
func parseBadgeOptions(c *fiber.Ctx) (badgeOptions, error) {
	var o badgeOptions
	args := c.Context().QueryArgs()
	if args.Has("label") {
		o.label, o.hasLabel = string(args.Peek("label")), true
		if len(o.label) > 100 {
			return o, fiber.NewError(fiber.StatusBadRequest, "label: at most 100 bytes")
		}
	}
	st, err := badge.ParseStyle(string(args.Peek("style")))
	if err != nil {
		return o, fiber.NewError(fiber.StatusBadRequest,
			fmt.Sprintf("style: unknown badge style %q (use flat, flat-square or for-the-badge)", args.Peek("style")))
	}
	o.style = st
	return o, nil
}

// labelOr is the label to draw: the requested one, else def.
func (o badgeOptions) labelOr(def string) string {
	if o.hasLabel {
		return o.label
	}
	return def
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
func (s *Server) handleShieldsJSON(c *fiber.Ctx) error {
	return s.serveBadge(c, c.Query("kind"), c.Query("window"), true)
}

// sendMissingBadge answers 404 with a grey "not found" badge (or its shields
// JSON), labelled with the requested name: it tells nothing the requester
// did not already know.
func (s *Server) sendMissingBadge(c *fiber.Ctx, o badgeOptions, name string, shields bool) error {
	b := badge.Badge{Label: o.labelOr(name), Message: "not found", Color: badge.ColorLightGrey, Style: o.style}
	var body []byte
	var err error
	if shields {
		body, err = badge.ShieldsJSON(b)
		c.Type("json", "utf-8")
	} else {
		body, err = badge.Render(b)
		setSVGHeaders(c)
	}
	if err != nil {
		return internal(fmt.Errorf("server: render not-found badge: %w", err))
	}
	// A check may be added by a reload any moment: cache the 404 only briefly.
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

// badgeETag hashes what decides a badge's bytes, so a 304 is answered
// without rendering.
func badgeETag(kind badgeKind, b badge.Badge) string {
	h := fnv.New64a()
	for _, s := range []string{string(kind), b.Label, b.Message, b.Color, b.LabelColor, b.Style.String()} {
		h.Write([]byte(s))
		h.Write([]byte{0})
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
// its ETag and a short max-age, or a bodiless 304 when the client's
// If-None-Match already names this badge.
func (s *Server) sendBadge(c *fiber.Ctx, kind badgeKind, b badge.Badge) error {
	etag := badgeETag(kind, b)
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "public, max-age="+strconv.Itoa(int(badgeMaxAge.Seconds())))
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	var body []byte
	var err error
	if kind == kindShields {
		body, err = badge.ShieldsJSON(b)
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
