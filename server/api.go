package server

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/view"
	"github.com/dashd/dashd/window"
)

// checkSource is the live check state (the collectors' Runner).
type checkSource interface {
	Statuses() []collectors.Status
	Status(name string) (collectors.Status, bool)
	// RunNow runs a check at once (collectors.ErrUnknownCheck: no such check).
	RunNow(name string) error
}

// Store is the storage the handlers read and write (a *storage.DB):
// history for the API, badges and pages; chat; notification read marks.
type Store interface {
	view.CheckStore
	view.NotificationStore
	view.HistoryStore // SeriesNames, Range, ChooseTier
	Size() (int64, error)
	WriteHealth() storage.WriteHealth
	AddChat(ctx context.Context, m model.ChatMessage) (model.ChatMessage, error)
	ChatLatest(room string, n int) ([]model.ChatMessage, error)
	// ChatRooms lists the rooms that hold messages (chat.max_rooms).
	ChatRooms() ([]string, error)
	MarkNotificationsRead(ctx context.Context, session string, upToID uint64) error
	// Deliveries lists finished alert deliveries, newest first.
	Deliveries(limit int) ([]model.OutboxItem, error)
}

var _ Store = (*storage.DB)(nil)

// maxHistoryResults bounds how many results one history request decodes
// before thinning (30 days of a 30 s check), so one unauthenticated request
// cannot make dashd build hundreds of MB; a longer range is a 400 that says
// to narrow it, never a silently truncated answer.
const maxHistoryResults = 100_000

// apiRoutes registers the polling endpoints, badges, the JSON API, metrics
// and health. Every route only reads.
func (s *Server) apiRoutes() {
	health := s.allow("healthz", auth.View)
	s.app.Get("/healthz", health, s.handleHealthz)
	s.app.Get("/readyz", health, s.handleReadyz)
	s.app.Get("/metrics", s.allow("metrics", auth.ReadMetrics), s.metrics)

	// Badges. Fiber matches the literal ".svg" after the parameter, and
	// check names with dots ("api.v2") still come out whole.
	badges := s.allow("badges", auth.ReadAPI)
	s.app.Get("/badge/:check.svg", badges, s.handleStateBadge)
	s.app.Get("/badge/:check/uptime/:window.svg", badges, s.handleUptimeBadge)
	s.app.Get("/badge/:check/latency.svg", badges, s.handleLatencyBadge)
	s.app.Get("/badge/:check/shields.json", badges, s.handleShieldsJSON)

	// Datastar polling.
	s.app.Get("/api/status", s.allow("", auth.View), s.handlePollStatus)
	s.app.Get("/api/checks/:check/status", s.allow("", auth.View), s.handlePollCheck)

	v1 := s.app.Group("/api/v1", s.allow("api", auth.ReadAPI))
	v1.Get("/system", s.handleAPISystem)
	v1.Get("/checks", s.handleAPIChecks)
	v1.Get("/checks/:check", s.handleAPICheck)
	v1.Get("/checks/:check/history", s.handleAPIHistory)
	v1.Get("/series", s.handleAPISeriesNames)
	// Series names contain dots, braces and slashes ("fs.used_pct{mount=/}"):
	// a wildcard takes the rest of the path whether the client escaped the
	// slash or not.
	v1.Get("/series/*", s.handleAPISeries)
	v1.Get("/events", s.handleAPIEvents)
	// Unknown paths are 404 and known paths with another method 405 with
	// Allow, both worded by errorHandler.
}

// now is the Server's clock.
func (s *Server) now() time.Time { return s.deps.Now() }

// pathParam returns a route parameter URL-decoded: fiber hands parameters
// over as they were on the wire.
func pathParam(c *fiber.Ctx, name string) (string, error) {
	v, err := url.PathUnescape(c.Params(name))
	if err != nil {
		return "", fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("%s: bad URL escape in %q", name, c.Params(name)))
	}
	return v, nil
}

// internal wraps an error from a backing part as a 500; the error handler
// logs it and answers "internal error".
func internal(err error) error {
	return fiber.NewError(fiber.StatusInternalServerError, err.Error())
}

// checkJSON is one check in /api/v1/checks: the live Status plus uptime.
type checkJSON struct {
	collectors.Status
	// LatencyMs repeats Latency in milliseconds, which is what people plot.
	LatencyMs float64 `json:"latency_ms"`
	// Uptime maps each window of window.Uptime ("24h", "7d", "30d", "90d",
	// as on the check page) to the percentage of known results that were up
	// or degraded; null when the window has none.
	Uptime map[string]*float64 `json:"uptime"`
}

func (s *Server) checkView(st collectors.Status) (checkJSON, error) {
	v := checkJSON{Status: st, LatencyMs: float64(st.Latency) / float64(time.Millisecond), Uptime: map[string]*float64{}}
	// The detail can be long (captured command output); it belongs to the
	// check's page, and the API client can ask /api/v1/checks/{check}.
	for _, w := range window.Uptime() {
		v.Uptime[w.Name] = nil
		pct, err := s.uptimePercent(st.Name, w.Span)
		if err != nil {
			return v, err
		}
		if !math.IsNaN(pct) {
			v.Uptime[w.Name] = &pct
		}
	}
	return v, nil
}

// uptimePercent is the availability of check over window in percent, NaN
// when the window holds no known result.
func (s *Server) uptimePercent(check string, window time.Duration) (float64, error) {
	u, err := s.deps.Store.Uptime(check, window)
	if err != nil {
		return 0, err
	}
	if u.Known() == 0 {
		return math.NaN(), nil
	}
	return u.Availability() * 100, nil
}

// lookupCheck finds a check by its (decoded) route parameter, 404 when unknown.
func (s *Server) lookupCheck(c *fiber.Ctx) (collectors.Status, error) {
	name, err := pathParam(c, "check")
	if err != nil {
		return collectors.Status{}, err
	}
	st, ok := s.deps.Checks.Status(name)
	if !ok {
		return st, fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("unknown check %q", name))
	}
	return st, nil
}

func (s *Server) handleAPISystem(c *fiber.Ctx) error {
	snap, ok := s.deps.Latest.System()
	if !ok {
		return fiber.NewError(fiber.StatusServiceUnavailable, "no host sample yet: dashd has just started")
	}
	return c.JSON(snap)
}

func (s *Server) handleAPIChecks(c *fiber.Ctx) error {
	sts := s.deps.Checks.Statuses()
	out := make([]checkJSON, 0, len(sts))
	for _, st := range sts {
		st.Detail = ""
		v, err := s.checkView(st)
		if err != nil {
			return internal(err)
		}
		out = append(out, v)
	}
	return c.JSON(fiber.Map{"checks": out})
}

func (s *Server) handleAPICheck(c *fiber.Ctx) error {
	st, err := s.lookupCheck(c)
	if err != nil {
		return err
	}
	v, err := s.checkView(st)
	if err != nil {
		return internal(err)
	}
	return c.JSON(v)
}

// historyJSON is the answer of /api/v1/checks/{check}/history.
type historyJSON struct {
	Check  string    `json:"check"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Points int       `json:"points"`
	// Total is how many results the range holds; when it exceeds Points the
	// results are thinned (see thinResults) and Thinned is true.
	Total   int            `json:"total"`
	Thinned bool           `json:"thinned"`
	Results []model.Result `json:"results"`
}

func (s *Server) handleAPIHistory(c *fiber.Ctx) error {
	st, err := s.lookupCheck(c)
	if err != nil {
		return err
	}
	r, err := parseRange(c.Query("from"), c.Query("to"), c.Query("points"), s.now())
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	rs, err := s.deps.Store.Results(st.Name, r.From, r.To, maxHistoryResults+1)
	if err != nil {
		return internal(err)
	}
	if len(rs) > maxHistoryResults {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf(
			"from/to: the range holds more than %d results; narrow it", maxHistoryResults))
	}
	out := historyJSON{Check: st.Name, From: r.From, To: r.To, Points: r.Points, Total: len(rs)}
	out.Results = thinResults(rs, r.Points)
	out.Thinned = len(out.Results) < len(rs)
	if out.Results == nil {
		out.Results = []model.Result{}
	}
	return c.JSON(out)
}

// thinResults keeps at most n of rs (oldest first): rs is cut into n equal
// runs and each run is represented by its worst result (the latest of
// equally bad ones), so a short outage survives thinning instead of being
// averaged or skipped away.
func thinResults(rs []model.Result, n int) []model.Result {
	if n <= 0 || len(rs) <= n {
		return rs
	}
	out := make([]model.Result, 0, n)
	for i := 0; i < n; i++ {
		lo, hi := i*len(rs)/n, (i+1)*len(rs)/n
		best := lo
		for j := lo + 1; j < hi; j++ {
			if rs[j].State >= rs[best].State {
				best = j
			}
		}
		out = append(out, rs[best])
	}
	return out
}

func (s *Server) handleAPISeriesNames(c *fiber.Ctx) error {
	names, err := s.deps.Store.SeriesNames()
	if err != nil {
		return internal(err)
	}
	if names == nil {
		names = []string{}
	}
	return c.JSON(fiber.Map{"series": names})
}

// seriesJSON is the answer of /api/v1/series/{metric}.
type seriesJSON struct {
	Series string                `json:"series"`
	From   time.Time             `json:"from"`
	To     time.Time             `json:"to"`
	Points []storage.SeriesPoint `json:"points"`
}

func (s *Server) handleAPISeries(c *fiber.Ctx) error {
	name, err := pathParam(c, "*")
	if err != nil {
		return err
	}
	if name == "" {
		return s.handleAPISeriesNames(c)
	}
	r, err := parseRange(c.Query("from"), c.Query("to"), c.Query("points"), s.now())
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	// Range answers an unknown series with no points; the API says 404 so a
	// typo is not mistaken for a quiet metric.
	names, err := s.deps.Store.SeriesNames()
	if err != nil {
		return internal(err)
	}
	if !slices.Contains(names, name) {
		return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("unknown series %q (GET /api/v1/series lists them)", name))
	}
	pts, err := s.deps.Store.Range(name, r.From, r.To, r.Points)
	if err != nil {
		return internal(err)
	}
	if pts == nil {
		pts = []storage.SeriesPoint{}
	}
	return c.JSON(seriesJSON{Series: name, From: r.From, To: r.To, Points: pts})
}

func (s *Server) handleAPIEvents(c *fiber.Ctx) error {
	before, err := parseUintParam("before", c.Query("before"), 0, 0, math.MaxUint64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	limit, err := parseUintParam("limit", c.Query("limit"), defaultEvents, 1, maxEvents)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	// One more than asked tells whether another page exists.
	evs, err := s.deps.Store.Events(before, int(limit)+1)
	if err != nil {
		return internal(err)
	}
	more := len(evs) > int(limit)
	if more {
		evs = evs[:limit]
	}
	if evs == nil {
		evs = []model.Event{}
	}
	resp := fiber.Map{"events": evs}
	// next is the before= of the following page; absent on the last page.
	if more {
		resp["next"] = evs[len(evs)-1].ID
	}
	return c.JSON(resp)
}
