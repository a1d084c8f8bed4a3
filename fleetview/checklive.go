package fleetview

import (
	"context"
	"errors"
	"hash/fnv"
	"reflect"
	"strings"
	"time"

	"github.com/a-h/templ"

	"github.com/dashd/dashd/collectors"
	"github.com/dashd/dashd/hub"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
	"github.com/dashd/dashd/view"
)

// An agent's check page is live like the local one: Run looks, once per
// interval and only for the check pages someone has open, whether the
// check has a newer result or the host a newer event than the page was
// built from (two short reads: checkMark). A new event (a state change)
// rebuilds the page at once; new results rebuild it at most every
// checkRefresh (a rebuild reads up to checkDays of the check's results);
// in between, only the summary's age is redrawn, from the state kept at
// the last build. Each fragment goes out only when its model changed and
// its HTML differs from what the room was last sent.

// checkRefresh is how often at most new results without a state change
// rebuild a watched check page.
const checkRefresh = 5 * time.Second

// CheckState is what a (re)connecting check page stream gets: every
// fragment of the page (summary, uptime, chart, results, events).
func CheckState(ctx context.Context, v ui.CheckDetailView) []hub.Event {
	frs := checkFragments(v)
	evs := make([]hub.Event, 0, len(frs))
	for _, fr := range frs {
		evs = append(evs, hub.PatchComponent(ctx, fr.Comp()))
	}
	return evs
}

// checkFragments are a check page's patchable parts.
func checkFragments(v ui.CheckDetailView) []view.Fragment {
	return []view.Fragment{
		summaryFragment(v),
		{ID: ui.CheckUptimeID, Model: [2]any{v.Uptime, v.Days}, Comp: func() templ.Component { return ui.CheckUptime(v) }},
		{ID: ui.CheckLatencyID, Model: [2]any{v.Chart, v.Fails}, Comp: func() templ.Component { return ui.CheckLatency(v.Chart, v.Fails) }},
		{ID: ui.CheckResultsID, Model: v.Results, Comp: func() templ.Component { return ui.CheckResults(v.Results) }},
		{ID: ui.CheckEventsID, Model: v.Events, Comp: func() templ.Component { return ui.EventList(ui.CheckEventsID, "Events", v.Events) }},
	}
}

// summaryModel is what ui.CheckSummary shows of a check page.
type summaryModel struct {
	Name, Type, Group, Description string
	State                          model.State
	Reason, Latency, Since         string
	SinceAt                        time.Time
	Flapping                       bool
}

func summaryFragment(v ui.CheckDetailView) view.Fragment {
	m := summaryModel{Name: v.Name, Type: v.Type, Group: v.Group, Description: v.Description, State: v.State,
		Reason: v.Reason, Latency: v.Latency, Since: v.Since, SinceAt: v.SinceAt, Flapping: v.Flapping}
	return view.Fragment{ID: ui.CheckSummaryID, Model: m, Comp: func() templ.Component { return ui.CheckSummary(v) }}
}

// checkMark is what a check page was built from: the time of the check's
// newest result and the host's newest event.
type checkMark struct {
	result int64 // UnixNano; 0: no result among the host's newest resultScan
	event  eventKey
}

// eventKey identifies a stored event.
type eventKey struct {
	id    uint64
	at    int64 // UnixNano
	check string
	to    model.State
}

// checkMark reads what a check page's freshness is judged by: the check's
// newest result (a backwards scan of at most resultScan of the host's
// results) and the host's newest event.
func (f *Fleet) checkMark(host, check string, now time.Time) (checkMark, error) {
	var m checkMark
	rs, err := f.o.Store.HostCheckRecentResults(host, check, time.Time{}, now.Add(time.Minute), 1, resultScan)
	if err != nil {
		return m, err
	}
	if len(rs) > 0 {
		m.result = rs[0].Time.UnixNano()
	}
	evs, err := f.o.Store.HostEvents(host, 1)
	if err != nil {
		return m, err
	}
	if len(evs) > 0 {
		e := evs[0]
		m.event = eventKey{id: e.ID, at: e.Time.UnixNano(), check: e.Check, to: e.To}
	}
	return m, nil
}

// checkSent is what Run last sent to one check page room, and what it
// built that from.
type checkSent struct {
	st    collectors.Status
	mark  checkMark
	built time.Time
	frags fragSent
}

// checkTick returns what brings the room of host's check (chart range
// rng) up to date, and records it in s.
func (f *Fleet) checkTick(ctx context.Context, s *sent, host, check, rng string) []hub.Event {
	now := f.o.Now()
	// The mark is read before the page: what arrives in between is newer
	// than the mark, so the next tick builds again.
	mark, err := f.checkMark(host, check, now)
	if err != nil {
		f.log.Warn("fleet check page not refreshed", "host", host, "check", check, "err", err)
		return nil
	}
	cs := s.check
	if cs == nil || cs.mark.event != mark.event || (cs.mark.result != mark.result && now.Sub(cs.built) >= checkRefresh) {
		v, st, err := f.checkPage(host, check, rng)
		if err != nil {
			if !errors.Is(err, view.ErrNoHost) {
				f.log.Warn("fleet check page not refreshed", "host", host, "check", check, "err", err)
			}
			return nil
		}
		if cs == nil {
			cs = &checkSent{}
			s.check = cs
		}
		cs.st, cs.mark, cs.built = st, mark, now
		return cs.frags.diff(ctx, checkFragments(v))
	}
	// Nothing new: only the summary's age moves ("since 10:02:03 (5m)").
	return cs.frags.diff(ctx, []view.Fragment{summaryFragment(view.CheckSummary(cs.st, now))})
}

// fragSent is what a room was last sent of each fragment: its model and
// a hash of its HTML.
type fragSent struct {
	models map[string]any
	hashes map[string]uint64
}

// diff returns the fragments of frs that changed since they were last
// sent and records them: a fragment whose model is unchanged is not even
// drawn; one drawn the same as before (a model with NaN gaps never
// compares equal) is not sent.
func (s *fragSent) diff(ctx context.Context, frs []view.Fragment) []hub.Event {
	if s.models == nil {
		s.models, s.hashes = map[string]any{}, map[string]uint64{}
	}
	var evs []hub.Event
	var b strings.Builder
	for _, fr := range frs {
		if prev, ok := s.models[fr.ID]; ok && reflect.DeepEqual(prev, fr.Model) {
			continue
		}
		b.Reset()
		if err := fr.Comp().Render(ctx, &b); err != nil {
			continue // not recorded: tried again next time
		}
		s.models[fr.ID] = fr.Model
		h := fnv.New64a()
		h.Write([]byte(b.String()))
		sum := h.Sum64()
		if prev, ok := s.hashes[fr.ID]; ok && prev == sum {
			continue
		}
		s.hashes[fr.ID] = sum
		evs = append(evs, hub.PatchElements(b.String()))
	}
	return evs
}
