package server

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// Host history pages: /host/{group}?range=&{mount|iface|dev}= and their
// stream /host/{group}/events (same item parameter; range and the
// browser's UTC offset travel as the signals range and tzo). See
// view.HistoryPage for what each page draws.
//
// Axes are drawn in the browser's local time by the server: the page
// stores the browser's offset (Date.getTimezoneOffset) in the cookie
// dashd_tzo and sends it as the signal tzo with its stream, whose first
// patch redraws the charts in that offset. So the HTML is right from the
// first byte after the first visit, and on the first visit within the
// stream's first patch; without JavaScript the axes say "UTC". Ticks are
// placed on round local times (midnights, hours), which the browser could
// only do with a chart library; a fixed offset is off by an hour across a
// DST change inside the range, while the pointer readout formats its time
// in the browser with the full zone rules.

// historyTZCookie is the cookie holding the browser's UTC offset.
const historyTZCookie = "dashd_tzo"

// maxHistoryItem bounds an item parameter (a mount point, an interface or
// a disk name): longer ones name nothing stored.
const maxHistoryItem = 1024

// historyRoutes registers the history pages and their streams.
func (s *Server) historyRoutes() {
	view := s.allow("", auth.View)
	feeds := newHistoryFeeds(s)
	s.app.Hooks().OnShutdown(func() error { feeds.stop(); return nil })
	s.app.Get("/host/:group", view, s.handleHistoryPage)
	s.app.Get("/host/:group/events", view, func(c *fiber.Ctx) error { return s.handleHistoryEvents(c, feeds) })
}

// historySpec validates a history request's group and item against the
// stored series: 404 for an unknown group or item, 400 for a bad range.
func (s *Server) historySpec(c *fiber.Ctx, rng string) (view.HistorySpec, error) {
	group, err := pathParam(c, "group")
	if err != nil {
		return view.HistorySpec{}, err
	}
	var item string
	if p := view.HistoryItemParam(group); p != "" {
		item = c.Query(p)
		if len(item) > maxHistoryItem {
			return view.HistorySpec{}, fiber.NewError(fiber.StatusNotFound, fmt.Sprintf("%s: longer than %d bytes: no such item", p, maxHistoryItem))
		}
	}
	names, err := s.deps.Store.SeriesNames()
	if err != nil {
		return view.HistorySpec{}, internal(err)
	}
	spec, err := view.ParseHistory(group, item, rng, names)
	switch {
	case errors.Is(err, view.ErrHistoryRange):
		return spec, fiber.NewError(fiber.StatusBadRequest, err.Error())
	case err != nil:
		return spec, fiber.NewError(fiber.StatusNotFound, err.Error())
	}
	return spec, nil
}

// historyStore is the store as the history builders read it.
func (s *Server) historyStore() (view.HistoryStore, error) { return s.deps.Store, nil }

// handleHistoryPage serves /host/{group}.
func (s *Server) handleHistoryPage(c *fiber.Ctx) error {
	spec, err := s.historySpec(c, c.Query("range"))
	if err != nil {
		return err
	}
	store, err := s.historyStore()
	if err != nil {
		return internal(err)
	}
	// A cookie that is not an offset is ignored: it is only a hint.
	tzo, _ := parseTZO(c.Cookies(historyTZCookie))
	v, err := view.HistoryPage(store, spec, s.now(), tzo)
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	ch := s.chrome(c, sid, "history", spec.StreamURL())
	ch.Heading = spec.Title() + " history"
	return s.renderPage(c, ui.HistoryPage(s.page(), ch, v))
}

// parseTZO reads a browser UTC offset in minutes; false when s is not one.
func parseTZO(s string) (int, bool) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < -view.MaxTZOffset || n > view.MaxTZOffset {
		return 0, false
	}
	return n, true
}

// historySignals are the signals a history page's stream carries.
type historySignals struct {
	Range string   `json:"range"`
	TZO   *float64 `json:"tzo"`
}

// tzo validates the offset signal (absent: UTC).
func (h historySignals) tzo() (int, error) {
	if h.TZO == nil {
		return 0, nil
	}
	f := *h.TZO
	if f != math.Trunc(f) || math.Abs(f) > view.MaxTZOffset {
		return 0, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("tzo: %v is not a UTC offset in whole minutes within ±%d", f, view.MaxTZOffset))
	}
	return int(f), nil
}

// handleHistoryEvents is a history page's single stream: the session (for
// notifications) and the room of its group, item, range and offset, whose
// feed patches the open slot every few seconds and the charts when a slot
// closes. Each (re)connect starts with every chart, drawn now.
func (s *Server) handleHistoryEvents(c *fiber.Ctx, feeds *historyFeeds) error {
	var sig historySignals
	if err := hub.ReadSignals(c, &sig); err != nil {
		return err
	}
	tzo, err := sig.tzo()
	if err != nil {
		return err
	}
	spec, err := s.historySpec(c, sig.Range)
	if err != nil {
		return err
	}
	store, err := s.historyStore()
	if err != nil {
		return internal(err)
	}
	sid := s.session(c)
	room := view.HistoryRoom(spec, tzo)
	return s.deps.Hub.HandleSSE(c,
		hub.WithSession(sid),
		hub.WithRoom(room),
		hub.OnConnect(func(send func(...hub.Event)) {
			var sent *ui.HistoryView
			v, err := view.HistoryPage(store, spec, s.now(), tzo)
			if err != nil {
				s.log.Warn("history state", "history", spec.Group, "item", spec.Item, "err", err)
			} else {
				send(view.HistoryState(context.Background(), v)...)
				sent = &v
			}
			// After this stream joined the room: a feed that found the
			// room empty has left the table, so this starts a new one.
			feeds.ensure(room, spec, tzo, sent)
			send(s.sessionState(sid)...)
			// Last: the page shows "Live" once it has the whole state.
			send(hub.PatchSignals(map[string]bool{"_live": true}))
		}),
		hub.WithAddress(c.IP()))
}
