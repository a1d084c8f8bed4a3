package server

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/alert"
	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/config"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/metrics"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/storage"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// Alerting is the alerter the alerts page and API read and act on (an
// *alert.Alerter).
type Alerting interface {
	Page(now time.Time) (ui.AlertsView, error)
	State() (alert.Snapshot, error)
	AddSilence(ctx context.Context, s model.Silence) (model.Silence, error)
	ExpireSilence(ctx context.Context, id uint64, by, addr string) error
	SendTest(ctx context.Context, channel string) (model.OutboxItem, error)
	// Held names what holds back each check's alerts now ("silenced",
	// "maintenance"), for the dashboard tiles.
	Held() map[string]string
	// The figures /metrics exports.
	metrics.AlertsSource
}

// alertRoutes registers the alerts page, its actions and the alerting API.
func (s *Server) alertRoutes() {
	s.app.Get("/alerts", s.allow("", auth.View), s.handleAlertsPage)
	s.post("/alerts/silences", auth.Silence, s.handleSilenceForm)
	s.post("/alerts/silences/:id/expire", auth.Silence, s.handleSilenceExpire)
	s.post("/alerts/channels/:name/test", auth.Silence, s.handleChannelTest)

	read := s.allow("api", auth.ReadAPI)
	v1 := s.app.Group("/api/v1")
	v1.Get("/alerts", read, queryParams(), s.handleAPIAlerts)
	v1.Get("/silences", read, queryParams(), s.handleAPISilences)
	v1.Post("/silences", sameOriginWrites, s.allow("", auth.Silence), queryParams(), s.handleAPISilenceCreate)
	v1.Delete("/silences/:id", sameOriginWrites, s.allow("", auth.Silence), queryParams(), s.handleAPISilenceExpire)
	v1.Get("/channels", read, queryParams(), s.handleAPIChannels)
	v1.Get("/deliveries", read, queryParams("limit"), s.handleAPIDeliveries)
}

func (s *Server) handleAlertsPage(c *fiber.Ctx) error {
	v, err := s.deps.Alerts.Page(s.now())
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	ch := s.chrome(c, sid, "alerts", "/api/events?page=alerts")
	ch.Heading = "Alerts"
	return s.renderPage(c, ui.AlertsPage(s.page(), ch, v))
}

// alertsState is what a fresh alerts-page stream gets.
func (s *Server) alertsState() []hub.Event {
	v, err := s.deps.Alerts.Page(s.now())
	if err != nil {
		s.log.Warn("alerts state", "err", err)
		return nil
	}
	return view.AlertsState(context.Background(), v)
}

// maxSilence bounds a silence made from the page.
const maxSilence = 90 * 24 * time.Hour

// silenceForm is the signals of the alerts page's silence form.
type silenceForm struct {
	Checks  string `json:"silenceChecks"`
	Groups  string `json:"silenceGroups"`
	Rules   string `json:"silenceRules"`
	For     string `json:"silenceFor"`
	Comment string `json:"silenceComment"`
}

// handleSilenceForm creates a silence from the page's form; the author is
// the session's name. A problem is shown under the form.
func (s *Server) handleSilenceForm(c *fiber.Ctx) error {
	sid := s.session(c)
	var f silenceForm
	if err := hub.ReadSignals(c, &f); err != nil {
		return err
	}
	w := hub.SSE(c)
	sil, problem := s.silenceFrom(f, s.displayName(c, sid))
	sil.Address = clientAddr(c).String()
	if problem == "" {
		var err error
		sil, err = s.deps.Alerts.AddSilence(c.UserContext(), sil)
		if errors.Is(err, alert.ErrBadSilence) {
			problem = strings.TrimPrefix(err.Error(), "alert: bad silence: ")
		} else if err != nil {
			return internal(err)
		}
	}
	if problem != "" {
		c.Status(fiber.StatusBadRequest)
		return w.Send(hub.PatchComponent(c.UserContext(), ui.SilenceError(problem)))
	}
	evs := []hub.Event{
		hub.PatchSignals(map[string]string{"silenceChecks": "", "silenceGroups": "", "silenceRules": "", "silenceComment": ""}),
		hub.PatchComponent(c.UserContext(), ui.SilenceError("")),
	}
	if v, err := s.deps.Alerts.Page(s.now()); err == nil {
		evs = append(evs, hub.PatchComponent(c.UserContext(), ui.AlertsSilences(v.Silences)),
			hub.PatchComponent(c.UserContext(), ui.AlertsFiring(v.Firing)))
	}
	return w.Send(evs...)
}

// silenceFrom turns the form into a silence, or says what is wrong with it.
func (s *Server) silenceFrom(f silenceForm, author string) (model.Silence, string) {
	d, err := config.ParseDuration(strings.TrimSpace(f.For))
	switch {
	case err != nil || d <= 0:
		return model.Silence{}, "For: give a duration such as 30m, 2h or 1d."
	case d > maxSilence:
		return model.Silence{}, "For: at most 90 days."
	case strings.TrimSpace(f.Comment) == "":
		return model.Silence{}, "Say why in the comment."
	case len(f.Comment) > 500:
		return model.Silence{}, "The comment is too long: at most 500 characters."
	}
	now := s.now()
	return model.Silence{Checks: splitList(f.Checks), Groups: splitList(f.Groups), Rules: splitList(f.Rules),
		Start: now, End: now.Add(d), Author: author, Comment: strings.TrimSpace(f.Comment)}, ""
}

// splitList reads "a, b c" as [a b c].
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

func (s *Server) handleSilenceExpire(c *fiber.Ctx) error {
	sid := s.session(c)
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "silence id: a whole number")
	}
	if err := s.expireSilence(c, id, s.displayName(c, sid)); err != nil {
		return err
	}
	v, err := s.deps.Alerts.Page(s.now())
	if err != nil {
		return internal(err)
	}
	return hub.SSE(c).Send(hub.PatchComponent(c.UserContext(), ui.AlertsSilences(v.Silences)))
}

func (s *Server) expireSilence(c *fiber.Ctx, id uint64, by string) error {
	err := s.deps.Alerts.ExpireSilence(c.UserContext(), id, by, clientAddr(c).String())
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("no silence #%d", id))
	case err != nil:
		return internal(err)
	}
	return nil
}

func (s *Server) handleChannelTest(c *fiber.Ctx) error {
	name, err := url.PathUnescape(c.Params("name"))
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "bad channel name in URL")
	}
	if _, err := s.deps.Alerts.SendTest(c.UserContext(), name); err != nil {
		if alert.IsNoChannel(err) {
			return fiber.NewError(fiber.StatusNotFound, "no channel named "+name)
		}
		return internal(err)
	}
	v, err := s.deps.Alerts.Page(s.now())
	if err != nil {
		return internal(err)
	}
	return hub.SSE(c).Send(hub.PatchComponent(c.UserContext(), ui.AlertsChannels(v.Channels, v.Sending)))
}

func (s *Server) handleAPIAlerts(c *fiber.Ctx) error {
	snap, err := s.deps.Alerts.State()
	if err != nil {
		return internal(err)
	}
	out := mapSlice(snap.Firing, newAlertJSON)
	return c.JSON(fiber.Map{"alerts": out, "count": len(out)})
}

func (s *Server) handleAPISilences(c *fiber.Ctx) error {
	snap, err := s.deps.Alerts.State()
	if err != nil {
		return internal(err)
	}
	out := mapSlice(snap.Silences, newSilenceOut)
	return c.JSON(fiber.Map{"silences": out, "count": len(out)})
}

// silenceJSON is the body of POST /api/v1/silences: checks, groups and
// rules are glob lists (all empty: everything); starts_at and ends_at are
// times as from=/to= take them; the end is ends_at or duration ("2h",
// "1d").
type silenceJSON struct {
	Checks   []string `json:"checks"`
	Groups   []string `json:"groups"`
	Rules    []string `json:"rules"`
	Start    string   `json:"starts_at"`
	End      string   `json:"ends_at"`
	Duration string   `json:"duration"`
	Author   string   `json:"author"`
	Comment  string   `json:"comment"`
}

func (s *Server) handleAPISilenceCreate(c *fiber.Ctx) error {
	var in silenceJSON
	if err := hub.ReadSignals(c, &in); err != nil {
		return err
	}
	now := s.now()
	sil := model.Silence{Checks: in.Checks, Groups: in.Groups, Rules: in.Rules, Author: strings.TrimSpace(in.Author),
		Comment: strings.TrimSpace(in.Comment), Address: clientAddr(c).String()}
	// Signed in, the author is who you are; a name of your own only in
	// auth mode none (and for tokens, which name nobody).
	if p := principal(c); p.Via != auth.ViaNone && p.Via != auth.ViaToken {
		sil.Author = p.Name
	} else if p.Via == auth.ViaToken {
		// A token names a machine, not a person: keep which token it was
		// whatever author the client claims.
		sil.Author = strings.TrimSpace(sil.Author + " (token " + p.Name + ")")
	}
	var err error
	if in.Start != "" {
		if sil.Start, err = parseTime(in.Start, now); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "starts_at: "+err.Error())
		}
	}
	switch {
	case in.End != "" && in.Duration != "":
		return fiber.NewError(fiber.StatusBadRequest, "give ends_at or duration, not both")
	case in.End != "":
		if sil.End, err = parseTime(in.End, now); err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "ends_at: "+err.Error())
		}
	case in.Duration != "":
		d, err := config.ParseDuration(in.Duration)
		if err != nil || d <= 0 {
			return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("duration: %q is not a duration such as 2h", in.Duration))
		}
		start := sil.Start
		if start.IsZero() {
			start = now
		}
		sil.End = start.Add(d)
	default:
		return fiber.NewError(fiber.StatusBadRequest, "ends_at or duration is required")
	}
	if sil.Comment == "" {
		return fiber.NewError(fiber.StatusBadRequest, "comment is required: say why")
	}
	out, err := s.deps.Alerts.AddSilence(c.UserContext(), sil)
	if errors.Is(err, alert.ErrBadSilence) {
		return fiber.NewError(fiber.StatusBadRequest, strings.TrimPrefix(err.Error(), "alert: "))
	} else if err != nil {
		return internal(err)
	}
	return c.Status(fiber.StatusCreated).JSON(newSilenceOut(out))
}

func (s *Server) handleAPISilenceExpire(c *fiber.Ctx) error {
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, "id: a whole number")
	}
	by := s.displayName(c, s.session(c))
	if err := s.expireSilence(c, id, by); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) handleAPIChannels(c *fiber.Ctx) error {
	snap, err := s.deps.Alerts.State()
	if err != nil {
		return internal(err)
	}
	out := mapSlice(snap.Channels, newChannelJSON)
	return c.JSON(fiber.Map{"channels": out, "count": len(out)})
}

func (s *Server) handleAPIDeliveries(c *fiber.Ctx) error {
	limit, err := parseUintParam("limit", c.Query("limit"), defaultEvents, 1, maxEvents)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	ds, err := s.deps.Store.Deliveries(int(limit))
	if err != nil {
		return internal(err)
	}
	out := mapSlice(ds, newDeliveryJSON)
	return c.JSON(fiber.Map{"deliveries": out, "count": len(out)})
}
