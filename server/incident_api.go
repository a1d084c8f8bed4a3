package server

import (
	"math"
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/dashd/dashd/auth"
	"github.com/dashd/dashd/model"
	"github.com/dashd/dashd/ui"
)

// The incident API: /api/v1/incidents (open and resolved, newest first,
// paged with ?before=&limit=) and /api/v1/incidents/{id} (the incident and
// its timeline, paged with ?after=&limit=).
//
// What a caller sees depends on who it is. Anyone who may read the API
// (a signed-in user, a token) sees everything but client addresses, which
// only admins see (as in the audit log). When the "api" surface is public
// (auth.public) and the caller is nobody, it sees what a status page
// would: the incident's checks, state and times, but no people's names,
// no summary and no alert keys, and of the timeline only state changes,
// acknowledgements, holds, reopenings and resolutions without their text
// (internal reasons), plus the notes marked public with theirs; never the
// chat, other notes or where alerts were sent.

// incidentJSON is an incident in the API. Fields that do not apply yet
// are null rather than absent, so a client can rely on every name.
//
// "started" and "resolved" are the one exception to the vocabulary's
// "_at" for instants (api_json.go): issue #16 fixed those names (with
// id, state, checks and acknowledged_by) before the vocabulary existed,
// and clients read them. Every other instant here ends in "_at".
type incidentJSON struct {
	ID             uint64              `json:"id"`
	Title          string              `json:"title"`
	State          model.IncidentState `json:"state"`
	URL            string              `json:"url"`
	Checks         []string            `json:"checks"`
	Rules          []string            `json:"rules"`
	Failing        []string            `json:"failing"`
	Held           bool                `json:"held"`
	Started        time.Time           `json:"started"`
	UpdatedAt      *time.Time          `json:"updated_at"`
	AcknowledgedAt *time.Time          `json:"acknowledged_at"`
	AcknowledgedBy *string             `json:"acknowledged_by"`
	Resolved       *time.Time          `json:"resolved"`
	ResolvedBy     *string             `json:"resolved_by"`
	Summary        *string             `json:"summary"`
	// The times to acknowledge and to resolve, in seconds (null until
	// they happened).
	TimeToAck     *float64 `json:"time_to_acknowledge_seconds"`
	TimeToResolve *float64 `json:"time_to_resolve_seconds"`
	// EntryCount is how many entries the timeline holds ("entries" is
	// the timeline itself in /api/v1/incidents/{id}).
	EntryCount uint64 `json:"entry_count"`
}

// incidentEntryJSON is one entry of an incident's timeline in the API:
// the state change of state and alert entries is from_state/to_state, as
// in events.
type incidentEntryJSON struct {
	Seq       uint64          `json:"seq"`
	Time      time.Time       `json:"time"`
	Kind      model.EntryKind `json:"kind"`
	Check     string          `json:"check,omitempty"`
	Rule      string          `json:"rule,omitempty"`
	FromState *model.State    `json:"from_state,omitempty"`
	ToState   *model.State    `json:"to_state,omitempty"`
	User      string          `json:"user,omitempty"`
	Address   string          `json:"address,omitempty"`
	Text      string          `json:"text,omitempty"`
	Public    bool            `json:"public,omitempty"`
	// Origin is the hub of the site where someone did what the entry
	// records, when that is another hub (not for public callers).
	Origin string `json:"origin,omitempty"`
}

func newIncidentEntryJSON(e model.IncidentEntry) incidentEntryJSON {
	v := incidentEntryJSON{Seq: e.Seq, Time: e.Time, Kind: e.Kind, Check: e.Check, Rule: e.Rule,
		User: e.User, Address: e.Address, Text: e.Text, Public: e.Public, Origin: e.Origin}
	if e.HasStates() {
		from, to := e.From, e.To
		v.FromState, v.ToState = &from, &to
	}
	return v
}

// incidentAudience is what a caller of the incident API may see.
type incidentAudience struct {
	public    bool // nobody, let in because the API is public
	addresses bool // admins: client addresses
}

func audienceOf(p auth.Principal) incidentAudience {
	return incidentAudience{public: !p.Can(auth.ReadAPI), addresses: p.Can(auth.Admin)}
}

func ptr[T any](v T) *T { return &v }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// incidentOut is inc as a.
func (a incidentAudience) incident(inc model.Incident) incidentJSON {
	out := incidentJSON{ID: inc.ID, Title: inc.Title, State: inc.State, URL: ui.IncidentURL(inc.ID),
		Checks: nonNil(inc.Checks), Rules: nonNil(inc.Rules), Failing: nonNil(inc.Failing), Held: inc.Held,
		Started: inc.Started, UpdatedAt: timePtr(inc.Updated), AcknowledgedAt: timePtr(inc.Acked), EntryCount: inc.Entries}
	if d, ok := inc.TimeToAck(); ok {
		out.TimeToAck = ptr(d.Seconds())
		out.AcknowledgedBy = ptr(inc.AckedBy)
	}
	if d, ok := inc.TimeToResolve(); ok {
		out.TimeToResolve = ptr(d.Seconds())
		out.Resolved = timePtr(inc.Resolved)
		out.ResolvedBy = ptr(inc.ResolvedBy)
		out.Summary = ptr(inc.Summary)
	}
	if a.public {
		out.AcknowledgedBy, out.ResolvedBy, out.Summary = nil, nil, nil
		out.Rules = []string{}
		out.Failing = slices.DeleteFunc(slices.Clone(out.Failing), func(s string) bool { return slices.Contains(inc.Rules, s) })
	}
	return out
}

// publicKinds are the entries a public caller sees (without their text,
// but for public notes).
var publicKinds = []model.EntryKind{model.EntryState, model.EntryAck, model.EntryResolve, model.EntryReopen, model.EntryHold}

// entries is es as a may see them.
func (a incidentAudience) entries(es []model.IncidentEntry) []model.IncidentEntry {
	out := make([]model.IncidentEntry, 0, len(es))
	for _, e := range es {
		if !a.addresses {
			e.Address = ""
		}
		if a.public {
			switch {
			case e.Kind == model.EntryNote && e.Public:
			case slices.Contains(publicKinds, e.Kind):
				e.Text = ""
			default:
				continue
			}
			e.User, e.Rule, e.Origin = "", "", ""
		}
		out = append(out, e)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Limits of the incident API's paging.
const (
	// defaultIncidents and maxIncidents bound limit= of /api/v1/incidents.
	defaultIncidents = 50
	maxIncidents     = 1000
	// maxIncidentEntries bounds limit= of /api/v1/incidents/{id}
	// (incidentPageEntries by default).
	maxIncidentEntries = 5000
	// maxIncidentScan bounds the incidents one filtered list request
	// reads looking for matches (in batches of incidentScanBatch), as
	// maxEventScan does for events.
	maxIncidentScan   = 10_000
	incidentScanBatch = 200
)

// incidentStates are the values of state= on /api/v1/incidents.
func incidentStates() []string {
	return []string{string(model.IncidentOpen), string(model.IncidentResolved)}
}

// incidentsPage is the answer of /api/v1/incidents.
type incidentsPage struct {
	Incidents []incidentJSON `json:"incidents"`
	Count     int            `json:"count"`
	// Next is the before= of the following page; absent on the last.
	Next *uint64 `json:"next,omitempty"`
}

// incidentDetail is the answer of /api/v1/incidents/{id}.
type incidentDetail struct {
	Incident incidentJSON        `json:"incident"`
	Entries  []incidentEntryJSON `json:"entries"`
	Count    int                 `json:"count"`
	// Next is the after= of the following page; absent on the last.
	Next *uint64 `json:"next,omitempty"`
}

// handleAPIIncidents serves GET /api/v1/incidents?before=&limit=&state=.
func (s *Server) handleAPIIncidents(c *fiber.Ctx) error {
	before, err := parseUintParam("before", c.Query("before"), 0, 0, math.MaxUint64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	limit, err := parseUintParam("limit", c.Query("limit"), defaultIncidents, 1, maxIncidents)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	states, err := listParam(c, "state", incidentStates())
	if err != nil {
		return err
	}
	keep := func(inc model.Incident) bool { return matches(states, string(inc.State)) }
	incs, next, err := s.scanIncidents(before, int(limit), keep, states != nil)
	if err != nil {
		return s.incidentError(err)
	}
	a := audienceOf(principal(c))
	return c.JSON(incidentsPage{Incidents: mapSlice(incs, a.incident), Count: len(incs), Next: next})
}

// scanIncidents returns up to limit incidents older than before (0: the
// newest) that keep accepts, newest first, and the before= of the next
// page (nil on the last). Unfiltered it reads one page; filtered, batches
// until the page is full, the incidents end, or maxIncidentScan were
// read (then next says where to go on, and the page may hold fewer).
func (s *Server) scanIncidents(before uint64, limit int, keep func(model.Incident) bool, filtered bool) ([]model.Incident, *uint64, error) {
	if !filtered {
		incs, next, err := s.incidentPage(before, limit)
		if err != nil || next == 0 {
			return incs, nil, err
		}
		return incs, &next, nil
	}
	var out []model.Incident
	cursor := before
	for scanned := 0; scanned < maxIncidentScan; {
		batch, err := s.deps.Incidents.List(cursor, incidentScanBatch)
		if err != nil {
			return nil, nil, err
		}
		for _, inc := range batch {
			scanned++
			if !keep(inc) {
				continue
			}
			if len(out) == limit {
				// A further match exists: the next page starts here.
				next := out[len(out)-1].ID
				return out, &next, nil
			}
			out = append(out, inc)
		}
		if len(batch) < incidentScanBatch {
			return out, nil, nil
		}
		cursor = batch[len(batch)-1].ID
	}
	return out, &cursor, nil
}

// handleAPIIncident serves GET /api/v1/incidents/{id}?after=&limit=: the
// incident and its entries with a sequence number above after, oldest
// first.
func (s *Server) handleAPIIncident(c *fiber.Ctx) error {
	id, err := incidentID(c)
	if err != nil {
		return err
	}
	after, err := parseUintParam("after", c.Query("after"), 0, 0, math.MaxUint64)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	limit, err := parseUintParam("limit", c.Query("limit"), incidentPageEntries, 1, maxIncidentEntries)
	if err != nil {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	inc, err := s.deps.Incidents.Get(id)
	if err != nil {
		return s.incidentError(err)
	}
	es, err := s.deps.Incidents.Entries(id, after, int(limit))
	if err != nil {
		return s.incidentError(err)
	}
	a := audienceOf(principal(c))
	seen := a.entries(es)
	out := incidentDetail{Incident: a.incident(inc), Entries: mapSlice(seen, newIncidentEntryJSON), Count: len(seen)}
	// next is the after= of the following page (sequence numbers count
	// every entry, those a public caller does not see too).
	if n := len(es); n > 0 && es[n-1].Seq < inc.Entries {
		next := es[n-1].Seq
		out.Next = &next
	}
	return c.JSON(out)
}
