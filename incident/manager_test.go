package incident

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dashd/dashd/model"
)

// TestManager_Storm: ten checks going down within seconds make one
// incident with the ten checks in the order they failed, one opening
// event, and a state entry per check.
func TestManager_Storm(t *testing.T) {
	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, nil)
	e.run()
	var names []string
	for i := range 10 {
		name := fmt.Sprintf("c%02d", i)
		names = append(names, name)
		e.check(name, model.StateUp, model.StateDown, "connect: connection refused")
		clk.Advance(300 * time.Millisecond)
	}
	e.settled()
	open := e.openIncidents()
	if len(open) != 1 {
		t.Fatalf("%d open incidents; want one for the storm: %+v", len(open), open)
	}
	inc := open[0]
	if !slices.Equal(inc.Checks, names) || !slices.Equal(inc.Failing, names) || inc.Title != "c00 is down" ||
		!inc.Started.Equal(t0) || inc.Entries != 10 {
		t.Fatalf("incident %+v; want the ten checks in order, opened by c00 at t0", inc)
	}
	es := e.entries(inc.ID)
	for i, en := range es {
		if en.Kind != model.EntryState || en.Check != names[i] || en.From != model.StateUp || en.To != model.StateDown || en.Text != "connect: connection refused" {
			t.Errorf("entry %d = %+v", i, en)
		}
	}
	if got := e.m.Open(); len(got) != 1 || got[0].ID != inc.ID || len(got[0].Checks) != 10 {
		t.Errorf("Open() = %+v", got)
	}
	if evs := e.storedEvents(model.EventIncident); len(evs) != 1 || evs[0].Reason != "opened incident #1: c00 is down" ||
		evs[0].To != model.StateDown || evs[0].Check != "c00" {
		t.Errorf("incident events %+v; want one opening", evs)
	}
}

// TestManager_Resolution: an incident resolves by itself when the last
// involved failure recovers, not before, unless held open; letting go of
// a held incident with nothing failing resolves it at once.
func TestManager_Resolution(t *testing.T) {
	tests := []struct {
		name string
		hold bool
	}{
		{"resolves by itself", false},
		{"held open", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := fixedClock(t0)
			e := newEnv(t, clk, nil, nil)
			e.run()
			ctx := ctxT(t)
			e.check("web", model.StateUp, model.StateDown, "HTTP 503")
			e.rule("rule:disk-full:/var", true, "disk /var is 95% full")
			e.check("api", model.StateUp, model.StateDegraded, "slow") // degraded opens nothing
			e.settled()
			inc := e.openIncidents()[0]
			if !slices.Equal(inc.Checks, []string{"web"}) || !slices.Equal(inc.Rules, []string{"rule:disk-full:/var"}) {
				t.Fatalf("incident %+v", inc)
			}
			if tt.hold {
				if err := e.m.Hold(ctx, inc.ID, "ann", "192.0.2.7", true); err != nil {
					t.Fatal(err)
				}
			}
			clk.Advance(time.Minute)
			e.check("web", model.StateDown, model.StateDegraded, "slow") // still failing
			e.check("web", model.StateDegraded, model.StateUp, "")
			e.settled()
			if got := e.incident(inc.ID); !got.IsOpen() || !slices.Equal(got.Failing, []string{"rule:disk-full:/var"}) {
				t.Fatalf("after web recovered: %+v; want it open, the rule failing", got)
			}
			clk.Advance(time.Minute)
			e.rule("rule:disk-full:/var", false, "disk /var is 70% full")
			e.settled()
			got := e.incident(inc.ID)
			if !tt.hold {
				if got.IsOpen() || !got.Resolved.Equal(t0.Add(2*time.Minute)) || got.ResolvedBy != "" || len(got.Failing) != 0 {
					t.Fatalf("after everything recovered: %+v; want it resolved by itself", got)
				}
				if d, ok := got.TimeToResolve(); !ok || d != 2*time.Minute {
					t.Errorf("time to resolve %s, %v", d, ok)
				}
				return
			}
			if !got.IsOpen() || !got.Held {
				t.Fatalf("held incident after everything recovered: %+v; want it open", got)
			}
			if last := e.entries(inc.ID); last[len(last)-1].Kind != model.EntryUpdate {
				t.Errorf("timeline %v; want it to say everything recovered", kinds(last))
			}
			clk.Advance(time.Minute)
			if err := e.m.Hold(ctx, inc.ID, "ann", "192.0.2.7", false); err != nil {
				t.Fatal(err)
			}
			if got := e.incident(inc.ID); got.IsOpen() || got.Held || !got.Resolved.Equal(t0.Add(3*time.Minute)) {
				t.Fatalf("after letting go: %+v; want it resolved", got)
			}
			es := e.entries(inc.ID)
			if k := kinds(es); !slices.Equal(k[len(k)-2:], []string{"hold", "resolve"}) || es[len(es)-2].User != "ann" {
				t.Errorf("timeline %v; want hold by ann, then resolve", k)
			}
		})
	}
}

// TestManager_Reopen: a failure of something an incident involved within
// ReopenGrace of its resolution reopens it; later, or of something else,
// it opens a new one.
func TestManager_Reopen(t *testing.T) {
	tests := []struct {
		name   string
		after  time.Duration
		check  string
		reopen bool
	}{
		{"same check within the grace", ReopenGrace - time.Second, "web", true},
		{"same check after the grace", ReopenGrace, "web", false},
		{"another check within the grace", time.Minute, "db", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := fixedClock(t0)
			e := newEnv(t, clk, nil, nil)
			e.run()
			e.check("web", model.StateUp, model.StateDown, "refused")
			e.settled()
			if err := e.m.Ack(ctxT(t), 1, "ann", "192.0.2.7"); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Minute)
			e.check("web", model.StateDown, model.StateUp, "")
			e.settled()
			if e.incident(1).IsOpen() {
				t.Fatal("not resolved")
			}
			clk.Advance(tt.after)
			e.check(tt.check, model.StateUp, model.StateDown, "refused again")
			e.settled()
			open := e.openIncidents()
			if len(open) != 1 {
				t.Fatalf("open incidents %+v", open)
			}
			if got := open[0]; (got.ID == 1) != tt.reopen {
				t.Fatalf("open incident %d; reopen wanted: %v", got.ID, tt.reopen)
			}
			if !tt.reopen {
				return
			}
			got := open[0]
			if !got.Resolved.IsZero() || got.AckedBy != "ann" || !got.Started.Equal(t0) || !slices.Equal(got.Failing, []string{"web"}) {
				t.Errorf("reopened %+v; want it open since t0, still acknowledged", got)
			}
			es := e.entries(1)
			if last := es[len(es)-1]; last.Kind != model.EntryReopen || last.Check != "web" || last.Text != "refused again" {
				t.Errorf("last entry %+v; want the reopening", last)
			}
			if evs := e.storedEvents(model.EventIncident); len(evs) != 3 || !strings.HasPrefix(evs[2].Reason, "reopened incident #1") {
				t.Errorf("incident events %+v; want opened, resolved, reopened", evs)
			}
		})
	}
}

// TestManager_Rules: a host rule's alert opens an incident titled by it
// and resolves it; a check failing meanwhile joins it.
func TestManager_Rules(t *testing.T) {
	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, nil)
	e.run()
	e.rule("rule:cpu-busy", true, "CPU busy: 97% for 5m")
	e.check("web", model.StateUp, model.StateDown, "timeout")
	e.rule("dashd:sampling", true, "host sampling stalled")
	e.settled()
	open := e.openIncidents()
	if len(open) != 1 {
		t.Fatalf("open %+v", open)
	}
	inc := open[0]
	if inc.Title != "CPU busy: 97% for 5m" || !slices.Equal(inc.Rules, []string{"rule:cpu-busy", "dashd:sampling"}) ||
		!slices.Equal(inc.Checks, []string{"web"}) || len(inc.Failing) != 3 {
		t.Fatalf("incident %+v", inc)
	}
	if evs := e.storedEvents(model.EventIncident); len(evs) != 1 || evs[0].Check != "" {
		t.Errorf("opening event %+v; want no check named for a rule's incident", evs)
	}
	e.check("web", model.StateDown, model.StateUp, "")
	e.rule("rule:cpu-busy", false, "CPU busy resolved")
	e.rule("dashd:sampling", false, "host sampling resumed")
	e.settled()
	if got := e.incident(inc.ID); got.IsOpen() {
		t.Fatalf("incident %+v; want it resolved", got)
	}
	es := e.entries(inc.ID)
	if k := kinds(es); !slices.Equal(k, []string{"alert:rule:cpu-busy", "state:web", "alert:dashd:sampling",
		"state:web", "alert:rule:cpu-busy", "alert:dashd:sampling", "resolve"}) {
		t.Fatalf("timeline %v", k)
	}
	if es[4].From != model.StateDown || es[4].To != model.StateUp {
		t.Errorf("rule resolution entry %+v", es[4])
	}
}

// TestManager_StatsMTTAMTTR: times to acknowledge and resolve, per check,
// over the incidents that started in the window.
func TestManager_StatsMTTAMTTR(t *testing.T) {
	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, nil)
	e.run()
	ctx := ctxT(t)
	day := 24 * time.Hour
	// Three incidents of web, 40, 20 and 10 days ago; the first also of db.
	type spec struct {
		ago, ack, resolve time.Duration // resolve 0: still open at the end
		checks            []string
	}
	specs := []spec{
		{40 * day, 10 * time.Minute, time.Hour, []string{"web", "db"}},
		{20 * day, 2 * time.Minute, 10 * time.Minute, []string{"web"}},
		{10 * day, 4 * time.Minute, 20 * time.Minute, []string{"web"}},
		{5 * day, 0, 0, []string{"web"}}, // open, nobody on it
	}
	now := t0.Add(60 * day)
	for i, s := range specs {
		clk.Advance(now.Add(-s.ago).Sub(clk.Now()))
		for _, c := range s.checks {
			e.check(c, model.StateUp, model.StateDown, "refused")
		}
		e.settled()
		id := uint64(i + 1)
		if s.ack > 0 {
			clk.Advance(s.ack)
			if err := e.m.Ack(ctx, id, "ann", "192.0.2.7"); err != nil {
				t.Fatal(err)
			}
		}
		if s.resolve > 0 {
			clk.Advance(s.resolve - s.ack)
			if err := e.m.Resolve(ctx, id, "ann", "192.0.2.7", "fixed"); err != nil {
				t.Fatal(err)
			}
			for _, c := range s.checks {
				e.check(c, model.StateDown, model.StateUp, "") // after the grace: no reopen
			}
		}
	}
	clk.Advance(now.Sub(clk.Now()))
	tests := []struct {
		check  string
		window time.Duration
		want   Stats
	}{
		{"web", 30 * day, Stats{Count: 3, Acked: 2, Resolved: 2, MTTA: 3 * time.Minute, MTTR: 15 * time.Minute}},
		{"web", 90 * day, Stats{Count: 4, Acked: 3, Resolved: 3, MTTA: (10 + 2 + 4) * time.Minute / 3, MTTR: (60 + 10 + 20) * time.Minute / 3}},
		{"db", 30 * day, Stats{}},
		{"db", 90 * day, Stats{Count: 1, Acked: 1, Resolved: 1, MTTA: 10 * time.Minute, MTTR: time.Hour}},
	}
	for _, tt := range tests {
		got, err := e.m.Stats(tt.check, tt.window)
		if err != nil || got != tt.want {
			t.Errorf("Stats(%s, %s) = %+v, %v; want %+v", tt.check, tt.window, got, err, tt.want)
		}
	}
	if _, err := e.m.Stats("web", 0); isErr(err, ErrBadInput) != nil {
		t.Errorf("Stats without a window: %v", err)
	}
}

// TestManager_Restart: an open incident survives a restart; the first
// results after it reconcile: a check still down is no news, one that
// recovered while dashd was down resolves its part.
func TestManager_Restart(t *testing.T) {
	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, nil)
	e.run()
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.check("db", model.StateUp, model.StateDown, "refused")
	e.settled()
	if err := e.m.Ack(ctxT(t), 1, "ann", "192.0.2.7"); err != nil {
		t.Fatal(err)
	}
	before := e.incident(1).Entries

	e.restart()
	if open := e.m.Open(); len(open) != 1 || open[0].ID != 1 || open[0].AckedBy != "ann" {
		t.Fatalf("open after restart: %+v", open)
	}
	if by, ok := e.m.AckedBy("check:web"); !ok || by != "ann" {
		t.Fatalf("AckedBy(check:web) after restart = %q, %v", by, ok)
	}
	e.run()
	clk.Advance(time.Minute)
	e.check("web", model.StateUnknown, model.StateDown, "refused") // still down
	e.check("db", model.StateUnknown, model.StateUp, "")           // recovered meanwhile
	e.settled()
	got := e.incident(1)
	if !got.IsOpen() || !slices.Equal(got.Failing, []string{"web"}) || got.Entries != before+1 {
		t.Fatalf("after the first results: %+v (entries before %d); want web failing, one entry for db", got, before)
	}
	e.check("web", model.StateDown, model.StateUp, "")
	e.settled()
	if got := e.incident(1); got.IsOpen() {
		t.Fatalf("%+v; want resolved", got)
	}
	if _, ok := e.m.AckedBy("check:web"); ok {
		t.Error("a resolved incident still acknowledges its alerts")
	}
}

// TestManager_Inputs: what people send is checked and bounded; unknown
// and resolved incidents are refused with their own errors.
func TestManager_Inputs(t *testing.T) {
	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, nil)
	e.run()
	ctx := ctxT(t)
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.check("db", model.StateUp, model.StateDown, "refused")
	e.settled()
	// Incident 2 is resolved: db opens it after web's resolved by hand.
	if err := e.m.Resolve(ctx, 1, "ann", "", "moved"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", MaxText+1)
	tests := []struct {
		name string
		do   func() error
		want error
	}{
		{"ack without user", func() error { return e.m.Ack(ctx, 1, " ", "") }, ErrBadInput},
		{"ack long user", func() error { return e.m.Ack(ctx, 1, strings.Repeat("u", MaxUser+1), "") }, ErrBadInput},
		{"ack control in user", func() error { return e.m.Ack(ctx, 1, "ann\x1b[2J", "") }, ErrBadInput},
		{"ack long address", func() error { return e.m.Ack(ctx, 1, "ann", strings.Repeat("1", MaxAddress+1)) }, ErrBadInput},
		{"ack unknown", func() error { return e.m.Ack(ctx, 99, "ann", "") }, ErrNotFound},
		{"ack resolved", func() error { return e.m.Ack(ctx, 1, "ann", "") }, ErrResolved},
		{"note empty", func() error { return e.m.Note(ctx, 1, "ann", "", "  \n ", false) }, ErrBadInput},
		{"note too long", func() error { return e.m.Note(ctx, 1, "ann", "", long, false) }, ErrBadInput},
		{"note not UTF-8", func() error { return e.m.Note(ctx, 1, "ann", "", "a\xffb", false) }, ErrBadInput},
		{"note control", func() error { return e.m.Note(ctx, 1, "ann", "", "a\x00b", false) }, ErrBadInput},
		{"note unknown", func() error { return e.m.Note(ctx, 99, "ann", "", "hi", false) }, ErrNotFound},
		{"note on resolved (postmortem)", func() error { return e.m.Note(ctx, 1, "ann", "", "root cause: disk", true) }, nil},
		{"note multi-line", func() error { return e.m.Note(ctx, 1, "ann", "", "line 1\nline 2\ttab", false) }, nil},
		{"chat empty", func() error { return e.m.Chat(ctx, 1, "ann", "", "") }, ErrBadInput},
		{"chat unknown", func() error { return e.m.Chat(ctx, 99, "ann", "", "hi") }, ErrNotFound},
		{"chat", func() error { return e.m.Chat(ctx, 1, "ann", "", "anyone?") }, nil},
		{"resolve without summary", func() error { return e.m.Resolve(ctx, 1, "ann", "", "") }, ErrBadInput},
		{"resolve resolved", func() error { return e.m.Resolve(ctx, 1, "ann", "", "again") }, ErrResolved},
		{"resolve unknown", func() error { return e.m.Resolve(ctx, 99, "ann", "", "x") }, ErrNotFound},
		{"hold resolved", func() error { return e.m.Hold(ctx, 1, "ann", "", true) }, ErrResolved},
		{"hold unknown", func() error { return e.m.Hold(ctx, 99, "ann", "", true) }, ErrNotFound},
		{"entries unknown", func() error { _, err := e.m.Entries(99, 0, 0); return err }, ErrNotFound},
		{"get unknown", func() error { _, err := e.m.Get(99); return err }, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := isErr(tt.do(), tt.want); err != nil {
				t.Fatal(err)
			}
		})
	}
	es := e.entries(1)
	last := es[len(es)-1]
	if last.Kind != model.EntryChat || last.Text != "anyone?" {
		t.Errorf("last entry %+v", last)
	}
	if n := es[len(es)-3]; n.Kind != model.EntryNote || !n.Public || n.Text != "root cause: disk" {
		t.Errorf("public note %+v", n)
	}
}

// TestManager_TimelineBound: a full timeline refuses people's entries
// with ErrFull; dashd's own stop with one notice while the incident still
// follows what fails.
func TestManager_TimelineBound(t *testing.T) {
	clk := fixedClock(t0)
	e := newEnv(t, clk, nil, nil)
	e.run()
	ctx := ctxT(t)
	e.check("web", model.StateUp, model.StateDown, "refused")
	e.settled()
	// Fill the timeline to one below the bound, in storage's largest
	// batches, behind the Manager's back, then let it learn the count.
	for left := MaxEntries - 2; left > 0; {
		n := min(left, 1000)
		es := make([]model.IncidentEntry, n)
		for i := range es {
			es[i] = model.IncidentEntry{Kind: model.EntryChat, Time: t0, User: "bot", Text: "x"}
		}
		if _, err := e.db.AddIncidentEntries(ctx, 1, es...); err != nil {
			t.Fatal(err)
		}
		left -= n
	}
	e.restart()
	e.run()
	e.check("web", model.StateDown, model.StateDegraded, "slow") // the notice takes the last slot
	e.check("web", model.StateDegraded, model.StateDown, "refused")
	e.check("api", model.StateUp, model.StateDown, "refused") // joins, without an entry
	e.settled()
	inc := e.incident(1)
	if inc.Entries != MaxEntries || !slices.Equal(inc.Checks, []string{"web", "api"}) {
		t.Fatalf("incident %d entries, checks %v; want %d and api joined", inc.Entries, inc.Checks, MaxEntries)
	}
	last, err := e.m.Entries(1, MaxEntries-1, 0)
	if err != nil || len(last) != 1 || last[0].Kind != model.EntryUpdate || !strings.Contains(last[0].Text, "full") {
		t.Fatalf("last entry %+v, %v; want the notice", last, err)
	}
	if err := e.m.Note(ctx, 1, "ann", "", "hi", false); isErr(err, ErrFull) != nil {
		t.Fatal(err)
	}
}
