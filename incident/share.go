package incident

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/dashd/dashd/model"
)

// # Sharing with the other hubs of a site
//
// Several hubs serve one site: what people do to an incident on one hub
// (acknowledge, note, chat, resolve by hand, hold or let go) is done on
// the others too. Each hub numbers its own incidents, so an action names
// its incident by a Ref: what it involves and when it started. The
// Manager hands each action taken here, once stored, to Options.Sharer;
// the other hubs' actions come in through ApplyRemote, on Run's goroutine
// like people's own, and are recorded with the hub they came from
// (IncidentEntry.Origin) and their site-wide ID (IncidentEntry.Action):
// a redelivered action whose ID an entry holds is not applied twice, and
// an action from another hub is never shared again. Subjects about fleet
// hosts match across hubs; a hub's own checks and rules are qualified
// with its fleet host name when shared (SiteRef), so they match only
// that host's, never another hub's own check of the same name (see Ref).

// Sharer hands an action people took on an incident here to the other
// hubs of the site (a *fleet.Actions, which puts it in its outbox). It
// is called on the Manager's goroutine once the action is stored, so it
// must be quick and must not call the Manager.
type Sharer interface {
	ShareIncident(a Shared)
}

// RefGrace is how much earlier than the sharing hub's incident another
// hub's incident may have started and still be the same one. The hubs see
// a failure at different moments (each reads the agents' stream through
// its own consumer, may have been restarting, and joins failures into
// whatever it had open), so their incidents start apart; ReopenGrace is
// the span within which dashd already treats two failures of one thing as
// one story.
const RefGrace = ReopenGrace

// Bounds of a shared action's reference.
const (
	// MaxRefSubjects bounds the checks and rules a Ref names.
	MaxRefSubjects = 256
	// MaxRefBytes bounds the bytes of a Ref's subjects together, so an
	// action stays well under the actions stream's 64 KiB message limit
	// (with a 4 KiB text, a title and who did it).
	MaxRefBytes = 16 << 10
	// MaxRefTitle bounds a Ref's title (for the logs only).
	MaxRefTitle = 256
	// MaxActionID bounds a shared action's site-wide ID.
	MaxActionID = 256
)

// Ref names an incident on every hub of a site: the checks and alert keys
// it involves and when it started there (its title only for the logs).
//
// # Which subjects match across hubs
//
// A subject about a fleet host is the same thing on every hub, since
// every hub reads the same agents: "<check>@<host>", an agent's rule
// "rule:<rule>[:<instance>]@<host>" and the host itself "host:<name>"
// (FleetSubject). A hub's own checks and rules ("web", "rule:cpu-high",
// "dashd:storage") are that hub's alone: another hub's "web" is another
// check. So SiteRef qualifies them with the sharing hub's fleet host name
// ("web@hub-a"): on another hub they match only that hub seen as a fleet
// host (its checks published to the fleet by an agent on it), and
// otherwise nothing, so the action is dropped there once it has waited
// long enough, which is right: the other hub has no such incident.
// A Ref names at most MaxRefSubjects subjects of at most MaxRefBytes
// together, those that joined the incident first: matching needs only
// one in common.
type Ref struct {
	Subjects []string  `json:"subjects"`
	Started  time.Time `json:"started"`
	Title    string    `json:"title,omitempty"`
}

// refOf is the Ref of an incident of this hub, as it is here (SiteRef
// makes it the site's): its checks and rules in the order they joined,
// the first check and the first rule first, within the bounds.
func refOf(inc model.Incident) Ref {
	subs := make([]string, 0, min(len(inc.Checks)+len(inc.Rules), MaxRefSubjects))
	for i := 0; i < max(len(inc.Checks), len(inc.Rules)); i++ {
		if i < len(inc.Checks) {
			subs = append(subs, inc.Checks[i])
		}
		if i < len(inc.Rules) {
			subs = append(subs, inc.Rules[i])
		}
	}
	return Ref{Subjects: capSubjects(subs), Started: inc.Started, Title: cut(inc.Title, MaxRefTitle)}
}

// capSubjects keeps the first subjects of subs within MaxRefSubjects and
// MaxRefBytes.
func capSubjects(subs []string) []string {
	n := 0
	for i, s := range subs {
		if i == MaxRefSubjects || n+len(s) > MaxRefBytes {
			return subs[:i]
		}
		n += len(s)
	}
	return subs
}

// FleetSubject reports whether subject is about a fleet host ("<check>@<host>",
// "rule:...@<host>", "host:<name>"): the same thing on every hub of a site.
// Anything else is a hub's own check or rule (names in the configuration
// cannot hold an "@").
func FleetSubject(subject string) bool {
	return strings.Contains(subject, "@") || strings.HasPrefix(subject, hostSubjectPrefix)
}

// hostSubjectPrefix starts the subject of a fleet host itself (its
// unreachable alert's key, "host:<name>").
const hostSubjectPrefix = model.AlertSourceHost + ":"

// SiteRef is ref, of an incident on the hub whose fleet host name is
// host, as the other hubs of the site read it: its own checks and rules
// qualified with host ("web@<host>", "rule:cpu-high@<host>"), subjects
// about fleet hosts as they are; still within MaxRefSubjects and
// MaxRefBytes (see Ref).
func SiteRef(ref Ref, host string) Ref {
	subs := make([]string, 0, len(ref.Subjects))
	for _, s := range ref.Subjects {
		if !FleetSubject(s) {
			s = RemoteCheck(s, host)
		}
		subs = append(subs, s)
	}
	ref.Subjects = capSubjects(subs)
	return ref
}

// FleetRef is ref from another hub with only its subjects about fleet
// hosts (FleetSubject): a subject of that hub's own that it did not
// qualify (an older dashd) must never match this hub's own check or rule
// of the same name. ok is false when none is left.
func FleetRef(ref Ref) (Ref, bool) {
	ref.Subjects = slices.DeleteFunc(slices.Clone(ref.Subjects), func(s string) bool { return !FleetSubject(s) })
	return ref, len(ref.Subjects) > 0
}

// Shared is one action people took on an incident, as the hubs of a site
// share it. Kind is one of EntryAck, EntryNote, EntryChat, EntryResolve
// and EntryHold (Held true holds it open, false lets go); Text is the
// note, the chat line or the summary.
type Shared struct {
	Kind model.EntryKind
	Ref  Ref
	// Incident is its ID on the hub where it was taken: the sharer builds
	// the action's site-wide ID from it; it means nothing elsewhere.
	Incident uint64
	Time     time.Time
	User     string
	Address  string
	Text     string
	Public   bool
	Held     bool
}

// actor is who did an action: people here, or people on another hub
// (origin) whose action has the site-wide ID action.
type actor struct {
	user, addr     string
	at             time.Time
	origin, action string
}

// entry is the timeline entry of what a did.
func (a actor) entry(kind model.EntryKind, text string) model.IncidentEntry {
	return model.IncidentEntry{Kind: kind, Time: a.at, User: a.user, Address: a.addr, Text: text,
		Origin: a.origin, Action: a.action}
}

// via is what the events of another hub's action add to their reason.
func (a actor) via() string {
	if a.origin == "" {
		return ""
	}
	return " (via hub " + a.origin + ")"
}

// share hands an action taken here to the Sharer; the other hubs' actions
// are never shared again.
func (m *Manager) share(inc model.Incident, a actor, s Shared) {
	if m.o.Sharer == nil || a.origin != "" {
		return
	}
	s.Ref, s.Incident, s.Time, s.User, s.Address = refOf(inc), inc.ID, a.at, a.user, a.addr
	m.o.Sharer.ShareIncident(s)
}

// ApplyRemote carries out an action another hub of the site (origin)
// shared, with the site-wide ID id, on this hub's incident that a.Ref
// names: one that involves at least one of its subjects and whose span
// (from RefGrace before it started until it resolved, or now) holds the
// Ref's start; open ones first, then the newest. It is checked as
// strictly as people's own actions here, recorded with its origin, and
// never shared again.
//
// Its errors tell the caller what to do with the message: ErrNoMatch (no
// such incident here yet: the other hub may have seen the failure first;
// try again later), ErrDuplicate (applied already: drop it), ErrResolved
// or ErrFull (nothing left to do here: drop it), ErrBadInput (never
// applicable: drop it); any other error is storage's or ErrStopped: try
// again.
func (m *Manager) ApplyRemote(ctx context.Context, origin, id string, a Shared) error {
	if err := checkRemote(origin, id, a); err != nil {
		return err
	}
	if err := checkWho(a.User, a.Address); err != nil {
		return err
	}
	switch a.Kind {
	case model.EntryNote, model.EntryChat, model.EntryResolve:
		text, err := cleanText(string(a.Kind), a.Text)
		if err != nil {
			return err
		}
		a.Text = text
	}
	who := actor{user: a.User, addr: a.Address, at: a.Time, origin: origin, action: id}
	return m.do(ctx, func(ctx context.Context) error {
		cands, err := m.matching(a.Ref)
		if err != nil {
			return err
		}
		if len(cands) == 0 {
			return fmt.Errorf("%w: %s started %s (%s)", ErrNoMatch, strings.Join(a.Ref.Subjects, ","),
				a.Ref.Started.UTC().Format(time.RFC3339), a.Ref.Title)
		}
		for _, inc := range cands {
			done, err := m.applied(inc.ID, id)
			if err != nil {
				return err
			}
			if done {
				return fmt.Errorf("%w: %s is in %s", ErrDuplicate, id, inc.Label())
			}
		}
		inc := cands[0]
		switch a.Kind {
		case model.EntryAck:
			return m.ack(ctx, inc, who)
		case model.EntryNote:
			return m.note(ctx, inc, who, a.Text, a.Public)
		case model.EntryChat:
			return m.chat(ctx, inc, who, a.Text)
		case model.EntryResolve:
			return m.resolve(ctx, inc, who, a.Text)
		default:
			return m.hold(ctx, inc, who, a.Held)
		}
	})
}

// checkRemote refuses a shared action without an origin, an ID, a kind
// that is shared, a time or a reference.
func checkRemote(origin, id string, a Shared) error {
	switch {
	case origin == "" || len(origin) > MaxUser || !printable(origin, false):
		return fmt.Errorf("%w: a shared action needs its origin hub", ErrBadInput)
	case id == "" || len(id) > MaxActionID || !printable(id, false):
		return fmt.Errorf("%w: a shared action needs an ID of up to %d bytes", ErrBadInput, MaxActionID)
	case a.Time.IsZero() || a.Ref.Started.IsZero():
		return fmt.Errorf("%w: a shared action needs its time and its incident's start", ErrBadInput)
	case len(a.Ref.Subjects) == 0 || len(a.Ref.Subjects) > MaxRefSubjects:
		return fmt.Errorf("%w: a shared action names 1 to %d checks or rules", ErrBadInput, MaxRefSubjects)
	}
	switch a.Kind {
	case model.EntryAck, model.EntryNote, model.EntryChat, model.EntryResolve, model.EntryHold:
		return nil
	}
	return fmt.Errorf("%w: %q is not a shared action", ErrBadInput, a.Kind)
}

// refScan is how many of the newest stored incidents matching reads
// beside those in memory: a note on an older incident finds it too.
const refScan = 500

// matching returns this hub's incidents that ref names, open ones first,
// then the newest first. Run's goroutine only.
func (m *Manager) matching(ref Ref) ([]model.Incident, error) {
	stored, err := m.o.Store.Incidents(0, refScan)
	if err != nil {
		return nil, fmt.Errorf("incident: find the incident of a shared action: %w", err)
	}
	byID := map[uint64]model.Incident{}
	for _, inc := range stored {
		byID[inc.ID] = inc
	}
	for _, set := range []map[uint64]model.Incident{m.recent, m.open} {
		for id, inc := range set {
			byID[id] = inc // memory is never behind the disk
		}
	}
	now := m.o.Now()
	var out []model.Incident
	for _, inc := range byID {
		if refMatches(inc, ref, now) {
			out = append(out, inc)
		}
	}
	slices.SortFunc(out, func(a, b model.Incident) int {
		if a.IsOpen() != b.IsOpen() {
			if a.IsOpen() {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return out, nil
}

// refMatches reports whether inc involves one of ref's subjects and its
// span, from RefGrace before it started until it resolved (or now), holds
// ref's start.
func refMatches(inc model.Incident, ref Ref, now time.Time) bool {
	if !slices.ContainsFunc(ref.Subjects, inc.Involves) {
		return false
	}
	end := now
	if !inc.IsOpen() {
		end = inc.Resolved
	}
	return !ref.Started.Before(inc.Started.Add(-RefGrace)) && !ref.Started.After(end)
}

// applied reports whether an entry of incident id records the shared
// action with the site-wide ID action.
func (m *Manager) applied(id uint64, action string) (bool, error) {
	var after uint64
	for {
		es, err := m.o.Store.IncidentEntries(id, after, 5000)
		if err != nil {
			return false, fmt.Errorf("incident %d: entries: %w", id, err)
		}
		for _, e := range es {
			if e.Action == action {
				return true, nil
			}
		}
		if len(es) == 0 {
			return false, nil
		}
		after = es[len(es)-1].Seq
	}
}

// IsRetryable reports whether ApplyRemote's err means the action may
// apply later (no incident matches yet, storage failed, dashd stopping),
// rather than never (applied already, nothing left to do, bad input).
func IsRetryable(err error) bool {
	return err != nil && !errors.Is(err, ErrDuplicate) && !errors.Is(err, ErrResolved) &&
		!errors.Is(err, ErrFull) && !errors.Is(err, ErrBadInput)
}
