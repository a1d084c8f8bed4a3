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
//
// Each /api/v1 route carries its own guard and the query parameters it
// takes (queryParams): no middleware runs for the whole /api/v1 prefix, so
// a wrong method reaches fiber's 405 with Allow instead of a guard's 401
// or 403. CORS (cors.go) is the one exception, and it only answers
// preflights of reads.
func (s *Server) apiRoutes() {
	health := s.allow("healthz", auth.View)
	s.app.Get("/healthz", health, s.handleHealthz)
	s.app.Get("/readyz", health, s.handleReadyz)
	s.app.Get("/metrics", s.allow("metrics", auth.ReadMetrics), s.metrics)

	s.app.Use("/api/v1", s.cors)
	s.app.Use("/badge", s.cors)

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

	read := s.allow("api", auth.ReadAPI)
	v1 := s.app.Group("/api/v1")
	v1.Get("/openapi.json", read, queryParams(), s.handleOpenAPI)
	v1.Get("/system", read, queryParams(), s.handleAPISystem)
	v1.Get("/checks", read, queryParams("state", "group", "type"), s.handleAPIChecks)
	v1.Get("/checks/:check", read, queryParams(), s.handleAPICheck)
	v1.Get("/checks/:check/history", read, queryParams("from", "to", "points"), s.handleAPIHistory)
	v1.Get("/series", read, queryParams(), s.handleAPISeriesNames)
	// Series names contain dots, braces and slashes ("fs.used_pct{mount=/}"):
	// a wildcard takes the rest of the path whether the client escaped the
	// slash or not.
	v1.Get("/series/*", read, queryParams("from", "to", "points"), s.handleAPISeries)
	v1.Get("/events", read, queryParams("before", "limit", "check", "kind"), s.handleAPIEvents)
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

// checkView is a check as the API shows it, with its uptime.
func (s *Server) checkView(st collectors.Status) (checkJSON, error) {
	v := newCheckJSON(st)
	v.UptimePct = map[string]*float64{}
	for _, w := range window.Uptime() {
		v.UptimePct[w.Name] = nil
		pct, err := s.uptimePercent(st.Name, w.Span)
		if err != nil {
			return v, err
		}
		if !math.IsNaN(pct) {
			v.UptimePct[w.Name] = &pct
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
	return c.JSON(newSystemJSON(snap))
}

func (s *Server) handleAPIChecks(c *fiber.Ctx) error {
	sts := s.deps.Checks.Statuses()
	keep, err := checkFilter(c, sts)
	if err != nil {
		return err
	}
	out := make([]checkJSON, 0, len(sts))
	for _, st := range sts {
		if !keep(st) {
			continue
		}
		// The detail can be long (captured command output); it belongs
		// to the check's page, and to /api/v1/checks/{check}.
		st.Detail = ""
		v, err := s.checkView(st)
		if err != nil {
			return internal(err)
		}
		out = append(out, v)
	}
	return c.JSON(fiber.Map{"checks": out, "count": len(out)})
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
	// The check alone also gets how its incidents went (MTTA/MTTR).
	inc, err := s.incidentStats(st.Name)
	if err != nil {
		return s.incidentError(err)
	}
	return c.JSON(checkWithIncidents{checkJSON: v, Incidents: inc})
}

// historyJSON is the answer of /api/v1/checks/{check}/history.
type historyJSON struct {
	Check string    `json:"check"`
	From  time.Time `json:"from"`
	To    time.Time `json:"to"`
	// Count is len(Results); Total how many results the range holds.
	// When Total exceeds points= the results are thinned (see
	// thinResults) and Thinned is true.
	Count   int          `json:"count"`
	Total   int          `json:"total"`
	Thinned bool         `json:"thinned"`
	Results []resultJSON `json:"results"`
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
	thin := thinResults(rs, r.Points)
	out := historyJSON{Check: st.Name, From: r.From, To: r.To, Count: len(thin), Total: len(rs),
		Thinned: len(thin) < len(rs), Results: mapSlice(thin, newResultJSON)}
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
	return c.JSON(fiber.Map{"series": names, "count": len(names)})
}

// seriesJSON is the answer of /api/v1/series/{metric}: Count buckets of
// StepSeconds from From, one point each, null where no sample fell.
type seriesJSON struct {
	Series      string      `json:"series"`
	From        time.Time   `json:"from"`
	To          time.Time   `json:"to"`
	StepSeconds float64     `json:"step_seconds"`
	Count       int         `json:"count"`
	Points      []pointJSON `json:"points"`
}

func (s *Server) handleAPISeries(c *fiber.Ctx) error {
	name, err := pathParam(c, "*")
	if err != nil {
		return err
	}
	if name == "" {
		if err := unknownParam(queryKeys(c), nil); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, err.Error())
		}
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
	out, err := s.seriesBuckets(name, r)
	if err != nil {
		return internal(err)
	}
	return c.JSON(out)
}

// queryKeys lists the request's query parameter names.
func queryKeys(c *fiber.Ctx) []string {
	var keys []string
	for k := range c.Request().URI().QueryArgs().All() {
		keys = append(keys, string(k))
	}
	return keys
}
