package server

import (
	"fmt"
	"math"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/model"
)

// maxEventScan bounds the events one filtered /api/v1/events request reads
// looking for matches, so a filter that matches little cannot make one
// request read the whole history: the page then holds fewer than limit
// events and next says where to go on.
const (
	maxEventScan   = 10_000
	eventScanBatch = 500
)

// eventsPage is the answer of /api/v1/events.
type eventsPage struct {
	Events []eventJSON `json:"events"`
	Count  int         `json:"count"`
	// Next is the before= of the following page; absent on the last.
	Next *uint64 `json:"next,omitempty"`
}

// eventsQuery is what an events route was asked: the page (before=,
// limit=) and the filter (kind=, check=).
type eventsQuery struct {
	before   uint64
	limit    int
	keep     func(model.Event) bool
	filtered bool
}

// parseEventsQuery reads an events route's parameters (/api/v1/events
// and its host-scoped mirror), or answers 400.
func parseEventsQuery(c *fiber.Ctx) (eventsQuery, error) {
	before, err := parseUintParam("before", c.Query("before"), 0, 0, math.MaxUint64)
	if err != nil {
		return eventsQuery{}, fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	limit, err := parseUintParam("limit", c.Query("limit"), defaultEvents, 1, maxEvents)
	if err != nil {
		return eventsQuery{}, fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	kinds, err := listParam(c, "kind", eventKinds)
	if err != nil {
		return eventsQuery{}, err
	}
	// Any check name: the history keeps events of checks since removed.
	checks, err := queryList(c, "check")
	if err != nil {
		return eventsQuery{}, fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	return eventsQuery{before: before, limit: int(limit), filtered: kinds != nil || checks != nil,
		keep: func(e model.Event) bool { return matches(kinds, string(e.Kind)) && matches(checks, e.Check) }}, nil
}

func (s *Server) handleAPIEvents(c *fiber.Ctx) error {
	q, err := parseEventsQuery(c)
	if err != nil {
		return err
	}
	evs, next, err := s.scanEvents(q.before, q.limit, q.keep, q.filtered)
	if err != nil {
		return internal(err)
	}
	return c.JSON(eventsPage{Events: mapSlice(evs, newEventJSON), Count: len(evs), Next: next})
}

// scanEvents returns up to limit events older than before (0: the
// newest) that keep accepts, newest first, and the before= of the next
// page (nil on the last). Unfiltered, it reads limit+1 events; filtered,
// it reads batches until the page is full, the history ends, or
// maxEventScan events were read.
func (s *Server) scanEvents(before uint64, limit int, keep func(model.Event) bool, filtered bool) ([]model.Event, *uint64, error) {
	if !filtered {
		// One more than asked tells whether another page exists.
		evs, err := s.deps.Store.Events(before, limit+1)
		if err != nil {
			return nil, nil, fmt.Errorf("events: %w", err)
		}
		if len(evs) > limit {
			evs = evs[:limit]
			next := evs[len(evs)-1].ID
			return evs, &next, nil
		}
		return evs, nil, nil
	}
	var out []model.Event
	scanned := 0
	cursor := before
	for scanned < maxEventScan {
		batch, err := s.deps.Store.Events(cursor, eventScanBatch)
		if err != nil {
			return nil, nil, fmt.Errorf("events: %w", err)
		}
		for _, e := range batch {
			scanned++
			if !keep(e) {
				continue
			}
			if len(out) == limit {
				// A further match exists: the next page starts here.
				next := out[len(out)-1].ID
				return out, &next, nil
			}
			out = append(out, e)
		}
		if len(batch) < eventScanBatch {
			return out, nil, nil // the history ends here
		}
		cursor = batch[len(batch)-1].ID
	}
	// Scanned enough for one request: the client goes on from here.
	return out, &cursor, nil
}
